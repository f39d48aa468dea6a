// File: bench/peers/spsc_ring.h
//
// The physical limit: a minimal busy-polled single-producer single-consumer
// ring that publishes once per batch. No doorbell, no sleeping, no stats —
// what two pinned cores can do through shared memory and nothing else.

#ifndef RINGACTOR_BENCH_PEERS_SPSC_RING_H_
#define RINGACTOR_BENCH_PEERS_SPSC_RING_H_

#include <atomic>
#include <cstdint>
#include <vector>

namespace ringactor::bench {

struct Payload {  // 16 bytes, like transport::Envelope
  uint64_t a;
  uint64_t b;
};

// Thread-safe for one producer and one consumer thread.
class SpscRing {
 public:
  explicit SpscRing(uint32_t capacity) : slots_(capacity), mask_(capacity - 1) {}

  // Producer: push without publishing; false when full.
  bool Push(const Payload& p) {
    if (tail_local_ - head_cache_ > mask_) {
      head_cache_ = head_.load(std::memory_order_acquire);
      if (tail_local_ - head_cache_ > mask_) return false;
    }
    slots_[tail_local_ & mask_] = p;
    ++tail_local_;
    return true;
  }
  void Publish() { tail_.store(tail_local_, std::memory_order_release); }

  // Consumer: calls fn(Payload) for everything published; returns the count.
  template <typename Fn>
  uint64_t Drain(Fn&& fn) {
    const uint64_t tail = tail_.load(std::memory_order_acquire);
    const uint64_t n = tail - head_local_;
    for (uint64_t i = head_local_; i != tail; ++i) fn(slots_[i & mask_]);
    if (n != 0) {
      head_local_ = tail;
      head_.store(tail, std::memory_order_release);
    }
    return n;
  }

 private:
  std::vector<Payload> slots_;
  const uint64_t mask_;
  alignas(64) uint64_t tail_local_ = 0;
  uint64_t head_cache_ = 0;
  alignas(64) std::atomic<uint64_t> tail_{0};
  alignas(64) std::atomic<uint64_t> head_{0};
  alignas(64) uint64_t head_local_ = 0;
};

}  // namespace ringactor::bench

#endif  // RINGACTOR_BENCH_PEERS_SPSC_RING_H_
