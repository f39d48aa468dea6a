// File: scheduler/steal_queue.h
//
// A bounded work-stealing deque (Chase–Lev, without growth): its owner
// pushes and pops at the bottom (newest first, while the work is warm in
// its cache); any other thread steals from the top (oldest first). Holds
// opaque pointers; it neither owns nor touches what they point to.

#ifndef RINGACTOR_SCHEDULER_STEAL_QUEUE_H_
#define RINGACTOR_SCHEDULER_STEAL_QUEUE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "transport/lane.h"  // kCacheLine

namespace ringactor::scheduler {

// StealQueue
//
// Every index operation is seq_cst: no standalone fences (which
// ThreadSanitizer cannot check), and the owner's bottom store doubles as the
// publication that pairs with an idle shard's "I am idle" store (see
// Shard's steal protocol). Slots are atomics so that a thief reading a slot
// the owner is rewriting is not a data race (its CAS then fails anyway).
//
// Push, Pop: owner thread only. Steal, Size: any thread.
class StealQueue {
 public:
  // `capacity`: a power of two.
  explicit StealQueue(uint32_t capacity)
      : mask_(capacity - 1), slots_(new std::atomic<void*>[capacity]) {
    for (uint32_t i = 0; i < capacity; ++i) {
      slots_[i].store(nullptr, std::memory_order_relaxed);
    }
  }
  StealQueue(const StealQueue&) = delete;
  StealQueue& operator=(const StealQueue&) = delete;

  uint32_t capacity() const { return mask_ + 1; }

  // False when full (the caller keeps `item`).
  bool Push(void* item) {
    const int64_t b = bottom_.load(std::memory_order_relaxed);
    const int64_t t = top_.load(std::memory_order_acquire);
    if (b - t > static_cast<int64_t>(mask_)) return false;
    slots_[b & mask_].store(item, std::memory_order_relaxed);
    bottom_.store(b + 1, std::memory_order_seq_cst);
    return true;
  }

  // The newest item, or nullptr when empty (or a thief took the last one).
  void* Pop() {
    // Empty at a glance (bottom is ours; a stale top is only ever smaller,
    // so this never hides an item): skip the locked store below, which
    // would otherwise cost every loop turn of every shard.
    if (!MaybeNonEmpty()) return nullptr;
    const int64_t b = bottom_.load(std::memory_order_relaxed) - 1;
    // Reserve the bottom item before looking at top: a thief that read the
    // old bottom then loses the race for it at top's CAS.
    bottom_.store(b, std::memory_order_seq_cst);
    int64_t t = top_.load(std::memory_order_seq_cst);
    if (t > b) {  // empty
      bottom_.store(b + 1, std::memory_order_relaxed);
      return nullptr;
    }
    void* item = slots_[b & mask_].load(std::memory_order_relaxed);
    if (t == b) {  // the last item: race the thieves for it
      if (!top_.compare_exchange_strong(t, t + 1, std::memory_order_seq_cst,
                                        std::memory_order_relaxed)) {
        item = nullptr;
      }
      bottom_.store(b + 1, std::memory_order_relaxed);
    }
    return item;
  }

  // The oldest item, or nullptr when empty or another thread won it.
  void* Steal() {
    int64_t t = top_.load(std::memory_order_seq_cst);
    const int64_t b = bottom_.load(std::memory_order_seq_cst);
    if (t >= b) return nullptr;
    void* item = slots_[t & mask_].load(std::memory_order_relaxed);
    if (!top_.compare_exchange_strong(t, t + 1, std::memory_order_seq_cst,
                                      std::memory_order_relaxed)) {
      return nullptr;
    }
    return item;
  }

  // Owner only: false when the queue is surely empty (a cheap check before
  // Pop; see there).
  bool MaybeNonEmpty() const {
    return bottom_.load(std::memory_order_relaxed) >
           top_.load(std::memory_order_relaxed);
  }

  // Items waiting now (a snapshot; seq_cst, see the class comment).
  size_t Size() const {
    const int64_t b = bottom_.load(std::memory_order_seq_cst);
    const int64_t t = top_.load(std::memory_order_seq_cst);
    return b > t ? static_cast<size_t>(b - t) : 0;
  }

 private:
  // Thieves write top; the owner writes bottom on every push and pop.
  alignas(transport::kCacheLine) std::atomic<int64_t> top_{0};
  alignas(transport::kCacheLine) std::atomic<int64_t> bottom_{0};
  const uint32_t mask_;
  const std::unique_ptr<std::atomic<void*>[]> slots_;
};

}  // namespace ringactor::scheduler

#endif  // RINGACTOR_SCHEDULER_STEAL_QUEUE_H_
