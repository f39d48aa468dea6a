// File: scheduler/cell_ring.h

#ifndef RINGACTOR_SCHEDULER_CELL_RING_H_
#define RINGACTOR_SCHEDULER_CELL_RING_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

namespace ringactor::scheduler {

// CellRing
//
// Memory for objects that one thread makes and another thread is done
// with: a ring of fixed 128-byte cells (two cache lines each), taken
// in ring order by the owner thread and handed back by whichever thread is
// done with the object, in any order. The actor layer builds the messages
// and replies a shard sends to another shard in the ring for that (sender,
// receiver) pair, so:
//
// - nothing travels back: the receiver marks the cell done where it is
//   (`Finish`), and the owner destroys the object when it takes the cell
//   again, so an object is still destroyed on the thread that made it
//   (STYLE.md, Seastar's foreign_ptr) with no lane envelope to send it
//   home, which block-cache objects need;
// - the sender writes, and the receiver reads, consecutive memory that
//   the hardware prefetchers stream, and which stays within the ring
//   while flow control keeps the messages in flight below its size.
//
// A ring holds kCells cells (512 KiB), or more for a caller whose window
// of messages in flight is deeper (Create's `cells`, up to kMaxCells): a
// window deeper than its ring would send the rest from other memory,
// which travels home to be freed, and that streams through both cores
// (docs/actors.md#memory).
//
// Cell states are bytes beside the cells, not in them, and only the
// threads handing cells back write them: a hand-back adds one to its
// cell's count (7 bits) and says whether the object still needs destroying
// (bit 7); the owner keeps, in private memory, how many times it took each
// cell, and a cell is free when the two counts agree. The owner reads the
// states of 64 cells (one line) at once and then takes the free ones among
// them without touching shared memory, so owner and receivers meet on a
// state line once per 64 cells, never on a message's own lines. Hand-backs
// are also counted (one counter per ring, on a line of its own), so the
// owner knows how many of its cells are out (`InFlight`) without reading
// every state.
//
// TryTake never waits. It skips cells still out (a message kept by a
// suspended handler, say), looking at up to kProbe cells; if none is free,
// or cells() are in flight, it answers nullptr and the caller uses other
// memory. So does the first take of each epoch (see TryTake).
//
// Every ring is a run of chunks (kCells cells each) of one process-wide
// reserved region, so `Contains` is one comparison: a deallocation
// function learns from an address alone whether its block is a cell, and
// a hand-back learns its ring's release counter from the chunk. A ring
// destroyed while a cell is still out leaves its chunks unused for good
// (something may yet hand a cell back into them); the objects of cells
// that are back but not yet destroyed are destroyed with the ring.
//
// Under AddressSanitizer a cell whose object was destroyed is poisoned: a
// use after Release is reported like a heap use-after-free.
//
// TryTake, InFlight, InFlightBound and the destructor: one owner thread at
// a time (a ring may be made on one thread and then used on another).
// Release, Finish, Contains, taken, misses: any thread.
class CellRing {
 public:
  static constexpr size_t kCellBytes = 128;
  // Cells per chunk of the region: the smallest ring, and the default.
  static constexpr uint32_t kCells = 4096;
  // The largest ring: 16 chunks, 8 MiB of the region.
  static constexpr uint32_t kMaxCells = 16 * kCells;
  static constexpr uint32_t kBlock = 64;  // cells per state line
  static constexpr uint32_t kProbe = 4 * kBlock;
  // The region: kChunks chunks of kCells cells (room for kChunks rings of
  // the smallest size), 2 GiB of address space reserved once
  // (MAP_NORESERVE: only the pages cells use become memory).
  static constexpr size_t kChunkBytes = size_t{kCells} * kCellBytes;
  static constexpr size_t kChunks = 4096;
  static constexpr size_t kRegionCellBytes = kChunks * kChunkBytes;

  // Destroys the object in a cell (without freeing anything: the cell is
  // the object's memory).
  using Destroy = void (*)(void* cell);

  // A ring of at least `cells` cells: the smallest power of two that is
  // not below it, kCells at least and kMaxCells at most. nullptr when the
  // region has no free run of chunks that large (or could not be
  // reserved); callers then use ordinary memory. `destroy` runs, on the
  // owner thread, for every object handed back with Finish.
  static std::unique_ptr<CellRing> Create(Destroy destroy,
                                          uint32_t cells = kCells);
  // What a ring made for `cells` holds (see Create).
  static uint32_t SizeFor(uint32_t cells);
  ~CellRing();
  CellRing(const CellRing&) = delete;
  CellRing& operator=(const CellRing&) = delete;

  // A free cell of kCellBytes (cache-line aligned), or nullptr: this is
  // the first take of a new `epoch`, or cells() are in flight, or the next
  // kProbe cells are all held.
  //
  // `epoch` is a value the caller changes now and then (a shard: once per
  // loop turn). The first take of each epoch answers nullptr, so the
  // caller uses its other memory, a LIFO free list: sparse traffic (a
  // request now and then, each answered before the next) keeps reusing a
  // block that is still cached, where the ring would walk it through cold
  // memory (a hot Ask round trip took ~2.8-3.2 us instead of ~1.4 us that
  // way); a stream of sends in one epoch takes cells.
  void* TryTake(uint64_t epoch) {
    if (epoch != epoch_) {
      epoch_ = epoch;
      return nullptr;
    }
    if (free_mask_ == 0 && !NextBlock()) {
      misses_.store(misses_.load(std::memory_order_relaxed) + 1,
                    std::memory_order_relaxed);
      return nullptr;
    }
    const uint32_t c =
        block_ + static_cast<uint32_t>(__builtin_ctzll(free_mask_));
    free_mask_ &= free_mask_ - 1;
    if (free_mask_ != 0) {
      // The next cell's lines were last written by another thread: fetch
      // them now, off the critical path of the next send.
      const char* next =
          cells_ + size_t{block_ + static_cast<uint32_t>(
                                       __builtin_ctzll(free_mask_))} *
                       kCellBytes;
      __builtin_prefetch(next, 1);
      __builtin_prefetch(next + 64, 1);
    }
    takes_[c] = (takes_[c] + 1) & kCountMask;
    taken_.store(taken_.load(std::memory_order_relaxed) + 1,
                 std::memory_order_relaxed);
    char* cell = cells_ + size_t{c} * kCellBytes;
    Unpoison(cell);
    return cell;
  }

  // Cells taken and not yet released. Reads the ring's release counter (a
  // line the releasing threads write).
  uint64_t InFlight() {
    released_seen_ = released_->load(std::memory_order_relaxed);
    return taken_.load(std::memory_order_relaxed) - released_seen_;
  }
  // An upper bound of InFlight() that reads no shared memory.
  uint64_t InFlightBound() const {
    return taken_.load(std::memory_order_relaxed) - released_seen_;
  }

  // True when `p` lies in any CellRing's cells.
  static bool Contains(const void* p) {
    const uintptr_t a = reinterpret_cast<uintptr_t>(p);
    return a - region_base_.load(std::memory_order_relaxed) <
           kRegionCellBytes;
  }

  // Gives the cell holding `p` (Contains(p)) back to its ring. The object
  // in it must be destroyed already.
  static void Release(void* p);
  // Gives the cell holding `p` back with its object still alive: the owner
  // destroys it when it takes the cell again (or when the ring goes). The
  // caller must not touch the object afterwards.
  static void Finish(void* p);

  // The ring's size in cells.
  uint32_t cells() const { return size_; }

  // Cells handed out by this ring, and takes that found no free cell (the
  // first take of an epoch is neither). Any thread.
  uint64_t taken() const {
    return taken_.load(std::memory_order_relaxed) - taken_base_;
  }
  uint64_t misses() const { return misses_.load(std::memory_order_relaxed); }

 private:
  // A state byte: hand-backs so far (mod 128), and whether the object is
  // still to be destroyed.
  static constexpr uint8_t kCountMask = 0x7f;
  static constexpr uint8_t kAlive = 0x80;

  CellRing(Destroy destroy, uint32_t chunk, uint32_t size, char* cells,
           std::atomic<uint8_t>* states, std::atomic<uint64_t>* released);
  static void HandBack(void* p, bool alive);
  // Moves to the next block with a free cell (looking at kProbe cells at
  // most), destroys the objects its free cells still hold, and fills
  // free_mask_; false when there is none, or size_ are in flight.
  bool NextBlock();
  void Prefetch(uint32_t cell) const;
  static void Unpoison(void* cell) {
#if defined(__SANITIZE_ADDRESS__)
    ASAN_UNPOISON_MEMORY_REGION(cell, kCellBytes);
#else
    (void)cell;
#endif
  }

  // The region's first cell; until the region exists, a value that no
  // user-space address matches (a - base wraps to a + size, never below
  // size).
  static std::atomic<uintptr_t> region_base_;

  const Destroy destroy_;
  const uint32_t chunk_;  // the first of the ring's chunks
  const uint32_t size_;   // cells: kCells per chunk
  char* const cells_;
  std::atomic<uint8_t>* const states_;     // see kCountMask, kAlive
  std::atomic<uint64_t>* const released_;  // the ring's release count
  std::unique_ptr<uint8_t[]> takes_;       // takes per cell, mod 128
  uint64_t free_mask_ = 0;  // free cells of the current block, by bit
  uint32_t block_;  // the current block's first cell
  uint64_t epoch_ = ~uint64_t{0};
  uint64_t released_seen_;
  const uint64_t taken_base_;  // the release count at creation
  // Written by the owner only (relaxed load and store, no locked
  // instruction); atomic so that stats may read them from any thread.
  std::atomic<uint64_t> taken_;  // counts on from the release count
  std::atomic<uint64_t> misses_{0};
};

}  // namespace ringactor::scheduler

#endif  // RINGACTOR_SCHEDULER_CELL_RING_H_
