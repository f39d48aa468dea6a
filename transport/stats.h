// File: transport/stats.h

#ifndef RINGACTOR_TRANSPORT_STATS_H_
#define RINGACTOR_TRANSPORT_STATS_H_

#include <atomic>
#include <cstdint>
#include <string>

#include "transport/lane.h"

namespace ringactor::transport {

// TransportStats
//
// A snapshot of one shard's transport counters, or their sum over shards.
// Thread-compatible (a plain value).
struct TransportStats {
  uint64_t enqueued = 0;             // envelopes published into lanes
  uint64_t urgent_sent = 0;          // envelopes put in other shards' inboxes
  uint64_t dequeued = 0;             // envelopes drained from lanes + inbox
  uint64_t backpressure = 0;         // Send() answered ResourceExhausted
  uint64_t doorbells_sent = 0;       // MSG_RING doorbells queued
  uint64_t doorbells_suppressed = 0; // flushes to an awake target: no SQE
  uint64_t doorbell_failures = 0;    // error CQEs for doorbells (re-rung)
  uint64_t words_sent = 0;           // direct words queued
  uint64_t words_received = 0;       // direct words delivered
  uint64_t word_failures = 0;        // direct words the kernel rejected
  uint64_t words_lost = 0;           // ... and gave up on after retries
  uint64_t sleeps = 0;               // times the shard blocked in the kernel
  uint64_t idle_yields = 0;          // CPU handed to other threads while idle
  uint64_t inbox_enqueued = 0;       // foreign envelopes accepted
  uint64_t inbox_backpressure = 0;   // foreign pushes refused (full)
  uint64_t foreign_wakes = 0;        // wakes sent by foreign threads
  uint64_t foreign_wake_failures = 0;  // ... that the kernel refused
  uint64_t cq_overflows = 0;         // CQ overflow events (nothing lost)
  uint64_t cq_dropped = 0;           // CQEs the kernel dropped (koverflow)
  uint64_t stale_taskrun_clears = 0; // kernel TASKRUN flags with no work
                                     // behind them, cleared (io::Ring::Reap)

  TransportStats& operator+=(const TransportStats& o);
  std::string DebugString() const;
};

namespace internal {

// One counter written by a single thread: a relaxed load+store, not an
// atomic read-modify-write, on the hot path; readers on other threads load it.
class OwnerCounter {
 public:
  void Add(uint64_t n) {
    v_.store(v_.load(std::memory_order_relaxed) + n,
             std::memory_order_relaxed);
  }
  void Set(uint64_t n) { v_.store(n, std::memory_order_relaxed); }
  uint64_t Load() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

// Counters written only by the owning shard, on their own cache lines so
// that snapshots and other shards never false-share with the hot path.
struct alignas(kCacheLine) OwnerStats {
  // urgent_sent next to enqueued: the line a busy shard's flush keeps warm.
  OwnerCounter enqueued, urgent_sent, dequeued, backpressure, doorbells_sent,
      doorbells_suppressed, doorbell_failures, words_sent, words_received,
      word_failures, words_lost, sleeps, idle_yields, cq_overflows, cq_dropped,
      stale_taskrun_clears;
};

// Counters written by foreign threads (atomic increments).
struct alignas(kCacheLine) ForeignStats {
  std::atomic<uint64_t> inbox_enqueued{0}, inbox_backpressure{0},
      foreign_wakes{0}, foreign_wake_failures{0};
};

}  // namespace internal
}  // namespace ringactor::transport

#endif  // RINGACTOR_TRANSPORT_STATS_H_
