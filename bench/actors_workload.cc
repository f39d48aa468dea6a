// File: bench/actors_workload.cc

#include "bench/actors_workload.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "bench/bench_util.h"

namespace ringactor::bench {

uint64_t ResidentBytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long size = 0, resident = 0;
  const int n = std::fscanf(f, "%lu %lu", &size, &resident);
  std::fclose(f);
  return n == 2 ? uint64_t{resident} * sysconf(_SC_PAGESIZE) : 0;
}

CallStats Summarize(const std::vector<std::vector<int64_t>>& latencies,
                    double seconds) {
  std::vector<int64_t> all;
  for (const auto& v : latencies) all.insert(all.end(), v.begin(), v.end());
  CallStats out;
  if (all.empty() || seconds <= 0) return out;
  std::sort(all.begin(), all.end());
  out.calls_per_s = all.size() / seconds;
  out.p50_ns = static_cast<double>(all[all.size() / 2]);
  out.p99_ns = static_cast<double>(all[std::min(all.size() - 1, all.size() * 99 / 100)]);
  return out;
}

double NanosPerTick() {
#if defined(__x86_64__)
  static const double rate = [] {
    using Clock = std::chrono::steady_clock;
    const Clock::time_point c0 = Clock::now();
    const int64_t t0 = StampTicks();
    Clock::time_point c1;
    do {
      c1 = Clock::now();
    } while (c1 - c0 < std::chrono::milliseconds(20));
    const int64_t t1 = StampTicks();
    return std::chrono::duration<double, std::nano>(c1 - c0).count() /
           static_cast<double>(t1 - t0);
  }();
  return rate;
#else
  return 1.0;
#endif
}

HotLatency HotLatencySamples::Result() const {
  if (rtt_.empty()) return {};
  const double ns = NanosPerTick();
  return {ns * Median(rtt_), Median(ahead_), ns * Median(request_),
          ns * Median(reply_)};
}

}  // namespace ringactor::bench
