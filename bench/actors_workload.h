// File: bench/actors_workload.h
//
// The workloads of //bench:actors, shared by the ringactor and CAF sides so
// both run exactly the same thing.

#ifndef RINGACTOR_BENCH_ACTORS_WORKLOAD_H_
#define RINGACTOR_BENCH_ACTORS_WORKLOAD_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

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

// //bench:mailbox hot_latency, the same for every implementation: `samples`
// times, the caller sends `backlog` ordinary messages with seq 0, 1, ...
// (each costs the owner HashWork(seq, kHotLatencyWork), ~0.5 us), waits
// until the owner has started on them, times one round trip of a hot
// request (one that overtakes ordinary ones), then waits until the backlog
// has drained. backlog 0 is the unloaded condition.
//
// The owner writes nothing the caller reads per ordinary message: it
// signals once when it starts on a backlog (seq 0) and, for the peers, once
// when it ends one, and the reply carries when the hot handler ran and how
// many of the backlog it had handled by then. (At first the caller polled a
// counter the owner bumped for every message; the owner's next bump after
// the hot send then waited for that line to come back from the caller's
// core, one cross-core miss on the loaded path alone.)
inline constexpr int kHotLatencyWork = 200;
// A signal on a cache line of its own (the owner bumps it once per backlog;
// nothing else may share the line, or every reader of that would miss).
struct alignas(64) PaddedCounter {
  std::atomic<int64_t> n{0};
};
// hot_latency's timestamps: StampTicks() where a thing happens, converted
// to nanoseconds afterwards (HotLatencySamples). On x86-64 a tick is a TSC
// cycle: lfence, rdtsc, no memory touched (the kernel keeps the TSC in
// step across CPUs; its own clocks derive from it). A clock_gettime is not
// used because it would be part of what it measures: its vDSO code and
// data pages go cold while an owner works through a backlog, and the first
// read after a 10,000-message backlog took 1.4 us (median) here, against
// 35 ns warm, which is most of the raw limit's loaded request half
// (docs/benchmarks.md#hot_latency). Elsewhere: steady_clock nanoseconds.
inline int64_t StampTicks() {
#if defined(__x86_64__)
  _mm_lfence();  // after what came before (the load that found the message)
  return static_cast<int64_t>(__rdtsc());
#else
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
#endif
}
// Nanoseconds per StampTicks() tick: on x86-64 measured once, over ~20 ms
// against steady_clock, by the first call (never inside a measurement).
double NanosPerTick();
// The owner's side, the same for every implementation: it counts the
// ordinary messages it handles, and one with seq 0 starts a backlog, which
// it notes and signals through `started`.
class HotLatencyOwner {
 public:
  void Ordinary(int64_t seq, PaddedCounter& started) {
    if (seq == 0) {
      first_ = handled_;
      started.n.fetch_add(1, std::memory_order_release);
    }
    ++handled_;
  }
  // Ordinary messages of the current backlog handled so far (what a hot
  // reply carries).
  int64_t handled() const { return handled_ - first_; }

 private:
  int64_t handled_ = 0;
  int64_t first_ = 0;  // handled_ when the current backlog's seq 0 came
};
struct HotLatency {
  double rtt_ns = 0;  // median round trip
  double ahead = 0;   // median ordinary messages still queued when it ran
  // The halves, from one StampTicks() on each side (one clock for every
  // CPU): send -> the hot handler ran, and from there -> the reply reached
  // the caller.
  double request_ns = 0;
  double reply_ns = 0;
};
// Collects one implementation's samples; Result() gives the medians (all 0
// when there was none: the run failed).
class HotLatencySamples {
 public:
  // t0, t1: the caller's send and the reply's arrival; ran: when the hot
  // handler ran (all StampTicks()); handled: what HotLatencyOwner::handled()
  // said then, of a `backlog`-message backlog (0: unloaded, nothing was
  // queued).
  void Add(int64_t t0, int64_t ran, int64_t t1, int backlog,
           int64_t handled) {
    rtt_.push_back(static_cast<double>(t1 - t0));
    request_.push_back(static_cast<double>(ran - t0));
    reply_.push_back(static_cast<double>(t1 - ran));
    ahead_.push_back(backlog > 0 ? static_cast<double>(backlog - handled) : 0);
  }
  HotLatency Result() const;

 private:
  std::vector<double> rtt_, request_, reply_, ahead_;
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
