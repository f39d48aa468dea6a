// File: bench/actors_workload.h
//
// The workloads of //bench:actors, shared by the ringactor and CAF sides so
// both run exactly the same thing.

#ifndef RINGACTOR_BENCH_ACTORS_WORKLOAD_H_
#define RINGACTOR_BENCH_ACTORS_WORKLOAD_H_

#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

namespace ringactor::bench {

// The unit of fan-out work: `iterations` rounds of an integer hash.
inline uint64_t HashWork(uint64_t x, int iterations) {
  for (int i = 0; i < iterations; ++i) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
  }
  return x;
}

struct FanoutParams {
  int64_t requests = 10'000;
  int workers = 16;
  int iterations = 200;
  // Worker 0 does `skew` times the work (1 = balanced).
  int skew = 1;
  int WorkerIterations(int worker) const {
    return worker == 0 ? iterations * skew : iterations;
  }
};

// Each side returns its figure; 0 means the run failed.
struct PeerResults {
  double pingpong_rtt_ns = 0;
  double tell_msgs_per_s = 0;
  double fanout_balanced_rps = 0;
  double fanout_skewed_rps = 0;
};

// Closed-loop call results: throughput and latency percentiles.
struct CallStats {
  double calls_per_s = 0;
  double p50_ns = 0;
  double p99_ns = 0;
};

// Resident set size of this process, bytes.
uint64_t ResidentBytes();

// Throughput over `seconds` and percentiles of per-thread latencies (ns).
CallStats Summarize(const std::vector<std::vector<int64_t>>& latencies,
                    double seconds);

// The closed loop of //bench:boundary, the same for every implementation:
// `threads` threads; thread t first makes its caller, `make_caller(t)`, then
// times `per_thread` calls `caller(i)`, one after another.
template <typename MakeCaller>
CallStats RunClosedLoop(int threads, int64_t per_thread,
                        MakeCaller make_caller) {
  using Clock = std::chrono::steady_clock;
  std::vector<std::vector<int64_t>> lat(threads);
  std::vector<std::thread> pool;
  const Clock::time_point start = Clock::now();
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      auto caller = make_caller(t);
      lat[t].reserve(per_thread);
      for (int64_t i = 0; i < per_thread; ++i) {
        const Clock::time_point t0 = Clock::now();
        caller(i);
        lat[t].push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(
                             Clock::now() - t0)
                             .count());
      }
    });
  }
  for (auto& th : pool) th.join();
  return Summarize(
      lat, std::chrono::duration<double>(Clock::now() - start).count());
}

}  // namespace ringactor::bench

#endif  // RINGACTOR_BENCH_ACTORS_WORKLOAD_H_
