// File: transport/lane.h

#ifndef RINGACTOR_TRANSPORT_LANE_H_
#define RINGACTOR_TRANSPORT_LANE_H_

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "transport/envelope.h"

namespace ringactor::transport {

inline constexpr size_t kCacheLine = 64;

// Lane
//
// A bounded single-producer single-consumer ring of envelopes: one per
// (source shard, target shard) pair. The producer's pushes stay private until
// `Publish()`, which makes a whole batch visible with one release store — the
// measured difference on this machine class is 160 M msg/s batched against
// 20 M msg/s publishing per message. Head and tail live on separate cache
// lines, and each side caches the other's index so that a push or a pop
// touches shared memory only when its cached view runs out.
//
// Lead envelopes: Publish also copies the batch's first kLead envelopes onto
// the tail's own cache line. A consumer that is caught up (it waits on the
// tail) then finds a small batch, the request/response case, in the one
// line it fetches to see the tail, and never fetches a slot line: one
// cross-core transfer per hop instead of two, ~35% off a raw lane round
// trip between cores that share no cache (docs/benchmarks.md). A consumer
// that is behind reads the slots as before. The copy is guarded like a
// seqlock, so a consumer never takes a lead that a newer Publish is
// overwriting.
//
// Thread-safe for exactly one producer thread (TryPush, Publish,
// HasUnpublished) and one consumer thread (Drain, HasPublished) at a time.
class Lane {
 public:
  // `capacity` must be a power of two >= 2 (Mesh validates its options).
  explicit Lane(uint32_t capacity)
      : prod_{std::make_unique<Envelope[]>(capacity), capacity - 1u, 0, 0, 0},
        cons_{prod_.slots.get(), capacity - 1u, 0} {}

  Lane(const Lane&) = delete;
  Lane& operator=(const Lane&) = delete;

  uint32_t capacity() const { return prod_.mask + 1; }

  // -- Producer side --------------------------------------------------------

  // Appends `e` without publishing it. False when the lane is full.
  bool TryPush(Envelope e) {
    if (IsFull()) return false;
    Store(prod_.slots[prod_.tail & prod_.mask], e);
    ++prod_.tail;
    return true;
  }

  // Makes every pushed envelope visible to the consumer. Returns how many
  // envelopes this call published. The store is seq_cst: it is one half of
  // the doorbell's store-load pairing (see Endpoint), and costs one locked
  // instruction per batch, not per envelope.
  uint64_t Publish() {
    const uint64_t n = prod_.tail - prod_.published;
    if (n != 0) {
      // The lead, seqlock-style: marked busy, copied, stamped with where
      // the batch starts and how many it holds (see TakeLead). The words
      // are release stores (plain moves on x86): a reader that sees one
      // also sees the "busy" mark before it. No standalone fence, which
      // ThreadSanitizer can neither model nor, under GCC, compile.
      const uint64_t k = std::min<uint64_t>(n, kLead);
      pub_.lead.store(kNoLead, std::memory_order_relaxed);
      for (uint64_t i = 0; i < k; ++i) {
        const Envelope& e = prod_.slots[(prod_.published + i) & prod_.mask];
        pub_.words[2 * i].store(e.tag, std::memory_order_release);
        pub_.words[2 * i + 1].store(e.value, std::memory_order_release);
      }
      pub_.lead.store(prod_.published << 2 | k, std::memory_order_release);
      pub_.tail.store(prod_.tail, std::memory_order_seq_cst);
      prod_.published = prod_.tail;
    }
    return n;
  }

  bool HasUnpublished() const { return prod_.tail != prod_.published; }

  // True when TryPush would fail. Rereads the consumer's head (seq_cst: it
  // pairs with Drain's head store, see MarkProducerWaiting).
  bool IsFull() {
    if (prod_.tail - prod_.head_cache <= prod_.mask) return false;
    prod_.head_cache = head_.load(std::memory_order_seq_cst);
    return prod_.tail - prod_.head_cache > prod_.mask;
  }

  // Records that the producer is about to sleep on this full lane and wants
  // a wake when the consumer frees room. The caller must check IsFull() once
  // more afterwards: either it sees the consumer's new head, or the consumer
  // (seq_cst head store, then seq_cst load of this flag) sees the mark.
  void MarkProducerWaiting() {
    producer_waiting_.store(true, std::memory_order_seq_cst);
  }

  // -- Consumer side --------------------------------------------------------

  // seq_cst: the consumer's re-check before it sleeps (see Endpoint).
  bool HasPublished() const {
    return pub_.tail.load(std::memory_order_seq_cst) != cons_.head;
  }

  // Hands up to `max` published envelopes to `fn(const Envelope*, size_t)` in
  // at most three contiguous spans (the lead, then the slots), then frees
  // their slots. Returns the count.
  template <typename Fn>
  size_t Drain(size_t max, Fn&& fn) {
    const uint64_t tail = pub_.tail.load(std::memory_order_acquire);
    const size_t n = static_cast<size_t>(
        std::min<uint64_t>(tail - cons_.head, max));
    if (n == 0) return 0;
    size_t done = TakeLead(n, fn);
    if (done < n) {
      const size_t first = (cons_.head + done) & cons_.mask;
      const size_t run = std::min<size_t>(n - done, cons_.mask + 1 - first);
      fn(cons_.slots + first, run);
      done += run;
      if (done < n) fn(cons_.slots, n - done);
    }
    cons_.head += n;
    head_.store(cons_.head, std::memory_order_seq_cst);
    return n;
  }

  // Envelopes that Drain took from the lead rather than from a slot. Any
  // thread (for stats and tests).
  uint64_t lead_drained() const {
    return cons_.lead_drained.load(std::memory_order_relaxed);
  }

  // Consumer: after a Drain, true (once) if the producer is waiting for room.
  bool TakeProducerWaiting() {
    return producer_waiting_.load(std::memory_order_seq_cst) &&
           producer_waiting_.exchange(false, std::memory_order_acq_rel);
  }

 private:
  struct alignas(kCacheLine) Producer {
    std::unique_ptr<Envelope[]> slots;
    uint64_t mask;
    uint64_t tail;        // next slot to write
    uint64_t published;   // last tail made visible
    uint64_t head_cache;  // consumer's head as last seen
  };
  struct alignas(kCacheLine) Consumer {
    Envelope* slots;
    uint64_t mask;
    uint64_t head;  // next slot to read
    std::atomic<uint64_t> lead_drained{0};
  };

  // Consumer: when the newest published batch starts at the head, hands
  // its first envelopes (at most `n`) from the lead to `fn`; returns how
  // many. Zero when the lead belongs to a later batch or was being
  // rewritten while read.
  template <typename Fn>
  size_t TakeLead(size_t n, Fn& fn) {
    const uint64_t lead = pub_.lead.load(std::memory_order_acquire);
    if (lead >> 2 != cons_.head) return 0;
    const size_t k = std::min<size_t>(lead & 3, n);
    Envelope copy[kLead];
    for (size_t i = 0; i < k; ++i) {
      copy[i].tag = pub_.words[2 * i].load(std::memory_order_acquire);
      copy[i].value = pub_.words[2 * i + 1].load(std::memory_order_acquire);
    }
    // If any word above came from a newer Publish, its acquire load
    // synchronized with that store, so this load sees that Publish's
    // kNoLead (or a later stamp): never `lead` again, stamps being unique.
    if (pub_.lead.load(std::memory_order_relaxed) != lead) return 0;
    fn(static_cast<const Envelope*>(copy), k);
    cons_.lead_drained.store(
        cons_.lead_drained.load(std::memory_order_relaxed) + k,
        std::memory_order_relaxed);
    return k;
  }

  // The lead: up to kLead envelopes, stamped (start << 2 | count).
  static constexpr uint64_t kLead = 3;
  static constexpr uint64_t kNoLead = ~uint64_t{0};  // matches no head
  struct alignas(kCacheLine) Published {
    std::atomic<uint64_t> tail{0};
    std::atomic<uint64_t> lead{kNoLead};
    std::atomic<uint64_t> words[2 * kLead] = {};
  };
  static_assert(sizeof(Published) == kCacheLine);
  static_assert(kLead <= 3, "the count has two bits");

  Producer prod_;
  Published pub_;
  alignas(kCacheLine) std::atomic<uint64_t> head_{0};
  alignas(kCacheLine) std::atomic<bool> producer_waiting_{false};
  Consumer cons_;
};

}  // namespace ringactor::transport

#endif  // RINGACTOR_TRANSPORT_LANE_H_
