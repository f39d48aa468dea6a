// File: bench/bench_util.h
//
// Shared plumbing for ringactor's comparison benchmarks: CPU pinning, the
// `BENCH scenario=... impl=... metric=... value=...` lines, and a table.

#ifndef RINGACTOR_BENCH_BENCH_UTIL_H_
#define RINGACTOR_BENCH_BENCH_UTIL_H_

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace ringactor::bench {

// Pins the calling thread to the `index`-th CPU this process may use
// (wrapping around). Best effort: returns false if pinning failed.
bool PinToCpu(int index);

// Prints `BENCH scenario=<s> impl=<i> metric=<m> value=<v>`.
void PrintBenchLine(const std::string& scenario, const std::string& impl,
                    const std::string& metric, double value);

// A plain-text table: the first row is the header.
class Table {
 public:
  explicit Table(std::vector<std::string> header);
  void AddRow(std::vector<std::string> row);
  void Print() const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

using Clock = std::chrono::steady_clock;
double Seconds(Clock::duration d);
double Median(std::vector<double> v);

// Gives freed heap memory back (malloc_trim) between measured runs, outside
// their timed windows. A peer that queued millions of messages (CAF's
// mailboxes are unbounded: ~1 GB in the hotspot run) leaves a fragmented
// heap behind, and the next run's first allocations in a reused arena
// stalled on it: the counter lane measured 10-50 M/s instead of ~160 M/s
// in every round after CAF's, and only there. Called after every run, of
// every implementation, so each starts from the same kind of heap.
void SettleHeap();
template <typename T>
T Settled(T result) {
  SettleHeap();
  return result;
}
inline void CpuRelax() { __builtin_ia32_pause(); }

// The CPU this whole process uses while the caller sleeps for `seconds`, in
// percent of one CPU (for "an idle runtime uses ~0%" checks).
double ProcessCpuPercentWhileSleeping(double seconds);

// Runs `a` and `b` on two threads pinned to CPUs 0 and 1; joins both.
void RunPair(const std::function<void()>& a, const std::function<void()>& b);

// Formats `v` with `digits` significant digits and SI suffixes (k, M, G).
std::string Human(double v);

}  // namespace ringactor::bench

#endif  // RINGACTOR_BENCH_BENCH_UTIL_H_
