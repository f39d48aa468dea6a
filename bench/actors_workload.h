// File: bench/actors_workload.h
//
// The workloads of //bench:actors, shared by the ringactor and CAF sides so
// both run exactly the same thing.

#ifndef RINGACTOR_BENCH_ACTORS_WORKLOAD_H_
#define RINGACTOR_BENCH_ACTORS_WORKLOAD_H_

#include <cstdint>
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

}  // namespace ringactor::bench

#endif  // RINGACTOR_BENCH_ACTORS_WORKLOAD_H_
