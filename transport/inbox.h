// File: transport/inbox.h

#ifndef RINGACTOR_TRANSPORT_INBOX_H_
#define RINGACTOR_TRANSPORT_INBOX_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "transport/envelope.h"
#include "transport/lane.h"

namespace ringactor::transport {

// Inbox
//
// A bounded multi-producer single-consumer queue of envelopes: how threads
// that own no ring (a server's workers, a test's main thread) reach a shard.
// Each cell carries a sequence number (D. Vyukov's bounded queue), so
// producers claim cells with one CAS and never wait for each other; a full
// inbox answers false at once.
//
// Thread-safe: TryPush from any number of threads; Drain and HasWork only
// from the one consumer thread.
class Inbox {
 public:
  // `capacity` must be a power of two >= 2.
  explicit Inbox(uint32_t capacity)
      : mask_(capacity - 1u), cells_(std::make_unique<Cell[]>(capacity)) {
    for (uint32_t i = 0; i < capacity; ++i) {
      cells_[i].seq.store(i, std::memory_order_relaxed);
    }
  }

  Inbox(const Inbox&) = delete;
  Inbox& operator=(const Inbox&) = delete;

  uint32_t capacity() const { return static_cast<uint32_t>(mask_ + 1); }

  // Appends `e`; false when the inbox is full.
  bool TryPush(Envelope e) {
    uint64_t pos = tail_.load(std::memory_order_relaxed);
    for (;;) {
      Cell& cell = cells_[pos & mask_];
      const uint64_t seq = cell.seq.load(std::memory_order_acquire);
      const int64_t diff = static_cast<int64_t>(seq - pos);
      if (diff == 0) {
        if (tail_.compare_exchange_weak(pos, pos + 1,
                                        std::memory_order_relaxed)) {
          Store(cell.envelope, e);
          // seq_cst: pairs with the consumer's `sleeping` flag (Endpoint).
          cell.seq.store(pos + 1, std::memory_order_seq_cst);
          return true;
        }
      } else if (diff < 0) {
        return false;  // the consumer has not freed this cell yet: full
      } else {
        pos = tail_.load(std::memory_order_relaxed);
      }
    }
  }

  // True when the next cell holds a published envelope.
  bool HasWork() const {
    return cells_[head_ & mask_].seq.load(std::memory_order_seq_cst) ==
           head_ + 1;
  }

  // Calls `fn(const Envelope&)` for up to `max` envelopes in FIFO order of
  // their claims. Returns the count.
  template <typename Fn>
  size_t Drain(size_t max, Fn&& fn) {
    size_t n = 0;
    while (n < max) {
      Cell& cell = cells_[head_ & mask_];
      if (cell.seq.load(std::memory_order_acquire) != head_ + 1) break;
      fn(cell.envelope);
      cell.seq.store(head_ + mask_ + 1, std::memory_order_release);
      ++head_;
      ++n;
    }
    return n;
  }

  // Producer: starts fetching the lines a TryPush touches (this queue's
  // fields, its tail, and the cell the next push fills, for writing), for a
  // caller with other work to do before it pushes. A producer that pushes
  // now and then finds them cold, and TryPush would otherwise wait for
  // them one after the other. (The consumer polling that cell loses its
  // copy a little before the push would take it anyway.) A hint only: a
  // push by another producer meanwhile leaves it prefetching a cell of no
  // use, nothing worse.
  void PrefetchForPush() const {
    __builtin_prefetch(this, 0);
    __builtin_prefetch(&tail_, 1);
    const uint64_t next = tail_.load(std::memory_order_relaxed);
    __builtin_prefetch(&cells_[next & mask_], 1);
  }

 private:
  // 32 bytes, so that no cell straddles two cache lines (at 24, one in
  // four did, and a push into it moved two lines between cores).
  struct alignas(32) Cell {
    std::atomic<uint64_t> seq;
    Envelope envelope;
  };
  static_assert(sizeof(Cell) == 32 && kCacheLine % sizeof(Cell) == 0);

  const uint64_t mask_;
  std::unique_ptr<Cell[]> cells_;
  alignas(kCacheLine) std::atomic<uint64_t> tail_{0};
  alignas(kCacheLine) uint64_t head_ = 0;  // consumer-private
};

}  // namespace ringactor::transport

#endif  // RINGACTOR_TRANSPORT_INBOX_H_
