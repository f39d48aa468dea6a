#include "bench/bench_util.h"

#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <thread>
#include <vector>

#include "absl/strings/str_format.h"

namespace ringactor::bench {

bool PinToCpu(int index) {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0) return false;
  std::vector<int> cpus;
  for (int c = 0; c < CPU_SETSIZE; ++c) {
    if (CPU_ISSET(c, &allowed)) cpus.push_back(c);
  }
  if (cpus.empty()) return false;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(cpus[index % cpus.size()], &one);
  return pthread_setaffinity_np(pthread_self(), sizeof(one), &one) == 0;
}

void PrintBenchLine(const std::string& scenario, const std::string& impl,
                    const std::string& metric, double value) {
  std::printf("BENCH scenario=%s impl=%s metric=%s value=%.6g\n",
              scenario.c_str(), impl.c_str(), metric.c_str(), value);
  std::fflush(stdout);
}

Table::Table(std::vector<std::string> header) {
  rows_.push_back(std::move(header));
}

void Table::AddRow(std::vector<std::string> row) {
  rows_.push_back(std::move(row));
}

void Table::Print() const {
  std::vector<size_t> width;
  for (const auto& row : rows_) {
    if (width.size() < row.size()) width.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) {
      width[i] = std::max(width[i], row[i].size());
    }
  }
  for (size_t r = 0; r < rows_.size(); ++r) {
    std::string line;
    for (size_t i = 0; i < rows_[r].size(); ++i) {
      line += absl::StrFormat("%-*s  ", static_cast<int>(width[i]),
                              rows_[r][i]);
    }
    std::printf("%s\n", line.c_str());
    if (r == 0) {
      size_t total = 0;
      for (size_t w : width) total += w + 2;
      std::printf("%s\n", std::string(total, '-').c_str());
    }
  }
  std::fflush(stdout);
}

std::string Human(double v) {
  if (v >= 1e9) return absl::StrFormat("%.2fG", v / 1e9);
  if (v >= 1e6) return absl::StrFormat("%.2fM", v / 1e6);
  if (v >= 1e3) return absl::StrFormat("%.2fk", v / 1e3);
  return absl::StrFormat("%.3g", v);
}

double Seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

double ProcessCpuPercentWhileSleeping(double seconds) {
  timespec c0, c1;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
  const Clock::time_point w0 = Clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
  const double wall = Seconds(Clock::now() - w0);
  const double cpu =
      (c1.tv_sec - c0.tv_sec) + (c1.tv_nsec - c0.tv_nsec) / 1e9;
  return 100.0 * cpu / wall;
}

void SettleHeap() { malloc_trim(0); }

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

void RunPair(const std::function<void()>& a, const std::function<void()>& b) {
  std::thread ta([&] {
    PinToCpu(0);
    a();
  });
  std::thread tb([&] {
    PinToCpu(1);
    b();
  });
  ta.join();
  tb.join();
}

}  // namespace ringactor::bench
