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

  // Consumer: one payload at a time; false when nothing is published. Hands
  // room back every 64 payloads and when it finds the ring empty.
  bool Pop(Payload& p) {
    if (head_local_ == tail_cache_) {
      tail_cache_ = tail_.load(std::memory_order_acquire);
      if (head_local_ == tail_cache_) {
        head_.store(head_local_, std::memory_order_release);
        return false;
      }
    }
    p = slots_[head_local_ & mask_];
    if ((++head_local_ & 63) == 0) {
      head_.store(head_local_, std::memory_order_release);
    }
    return true;
  }

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
  uint64_t tail_cache_ = 0;  // Pop's view of tail_
};

// The same limit for one message at a time: each slot says itself whether it
// is full (a sequence word), so a hop moves one cache line, where SpscRing's
// moves the tail index and then the slot (a ~10% shorter round trip in
// paired benchmark runs here). Used for the ping-pong limit.
//
// Thread-safe for one producer and one consumer thread.
class SlotRing {
 public:
  explicit SlotRing(uint32_t capacity) : slots_(capacity), mask_(capacity - 1) {
    for (uint32_t i = 0; i < capacity; ++i) {
      slots_[i].seq.store(i, std::memory_order_relaxed);
    }
  }

  // Producer: false when full.
  bool Push(const Payload& p) {
    Slot& s = slots_[tail_ & mask_];
    if (s.seq.load(std::memory_order_acquire) != tail_) return false;
    s.payload = p;
    s.seq.store(tail_ + 1, std::memory_order_release);
    ++tail_;
    return true;
  }

  // Consumer: false when empty.
  bool Pop(Payload& p) {
    Slot& s = slots_[head_ & mask_];
    if (s.seq.load(std::memory_order_acquire) != head_ + 1) return false;
    p = s.payload;
    s.seq.store(head_ + mask_ + 1, std::memory_order_release);
    ++head_;
    return true;
  }

 private:
  struct alignas(32) Slot {  // two per cache line, none straddling two
    std::atomic<uint64_t> seq;
    Payload payload;
  };
  std::vector<Slot> slots_;
  const uint64_t mask_;
  alignas(64) uint64_t tail_ = 0;  // producer-private
  alignas(64) uint64_t head_ = 0;  // consumer-private
};

}  // namespace ringactor::bench

#endif  // RINGACTOR_BENCH_PEERS_SPSC_RING_H_
