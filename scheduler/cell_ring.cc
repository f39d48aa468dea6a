// File: scheduler/cell_ring.cc

#include "scheduler/cell_ring.h"

#include <sys/mman.h>

#include <vector>

#include "absl/base/thread_annotations.h"
#include "scheduler/mutex.h"

namespace ringactor::scheduler {
namespace {

constexpr size_t kStateBytes = CellRing::kChunks * CellRing::kCells;

void Poison(void* p, size_t n) {
#if defined(__SANITIZE_ADDRESS__)
  ASAN_POISON_MEMORY_REGION(p, n);
#else
  (void)p;
  (void)n;
#endif
}

// One chunk's release count, on a line of its own.
struct alignas(64) ReleaseCount {
  std::atomic<uint64_t> n{0};
};

// The reserved memory, and the chunks not in use. The mapping is never
// undone: threads may release into it until the process ends. A ring of n
// chunks takes the lowest free run of n that starts at a multiple of n
// (n a power of two), so runs of one size never fragment the region for
// another. Which chunks are free is touched only when a ring is made or
// destroyed; each chunk's first chunk (`head`) is read by hand-backs.
class Region {
 public:
  Region() {
    constexpr int kFlags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
    void* cells = ::mmap(nullptr, CellRing::kRegionCellBytes,
                         PROT_READ | PROT_WRITE, kFlags, -1, 0);
    void* states =
        ::mmap(nullptr, kStateBytes, PROT_READ | PROT_WRITE, kFlags, -1, 0);
    if (cells == MAP_FAILED || states == MAP_FAILED) {
      // No chunks: every CellRing::Create answers nullptr.
      if (cells != MAP_FAILED) ::munmap(cells, CellRing::kRegionCellBytes);
      if (states != MAP_FAILED) ::munmap(states, kStateBytes);
      return;
    }
    cells_ = static_cast<char*>(cells);
    states_ = static_cast<std::atomic<uint8_t>*>(states);  // zero: all free
    released_ = new ReleaseCount[CellRing::kChunks];
    head_ = new std::atomic<uint32_t>[CellRing::kChunks];
    used_.assign(CellRing::kChunks, false);
  }
  char* cells() const { return cells_; }
  std::atomic<uint8_t>* states() const { return states_; }
  std::atomic<uint64_t>& released(size_t chunk) const {
    return released_[chunk].n;
  }
  // The release counter of the ring that `chunk` belongs to. Relaxed: a
  // thread holds a cell's address only through a release/acquire chain
  // from the thread that took it, which runs after Take's store.
  std::atomic<uint64_t>& ring_released(size_t chunk) const {
    return released(head_[chunk].load(std::memory_order_relaxed));
  }
  // The first of `n` free chunks (n a power of two), now in use.
  bool Take(uint32_t n, uint32_t& first) {
    if (cells_ == nullptr) return false;
    MutexLock lock(mu_);
    for (uint32_t c = 0; c + n <= CellRing::kChunks; c += n) {
      bool free = true;
      for (uint32_t i = c; i < c + n && free; ++i) free = !used_[i];
      if (!free) continue;
      for (uint32_t i = c; i < c + n; ++i) {
        used_[i] = true;
        head_[i].store(c, std::memory_order_relaxed);
      }
      first = c;
      return true;
    }
    return false;
  }
  void Give(uint32_t first, uint32_t n) {
    MutexLock lock(mu_);
    for (uint32_t i = first; i < first + n; ++i) used_[i] = false;
  }

 private:
  char* cells_ = nullptr;
  std::atomic<uint8_t>* states_ = nullptr;
  ReleaseCount* released_ = nullptr;
  std::atomic<uint32_t>* head_ = nullptr;  // per chunk: its ring's first
  Mutex mu_;
  std::vector<bool> used_ ABSL_GUARDED_BY(mu_);
};

Region& TheRegion() {
  static Region* const region = new Region;  // never destroyed (see Region)
  return *region;
}

}  // namespace

std::atomic<uintptr_t> CellRing::region_base_{uintptr_t{0} -
                                              CellRing::kRegionCellBytes};

uint32_t CellRing::SizeFor(uint32_t cells) {
  uint32_t size = kCells;
  while (size < cells && size < kMaxCells) size *= 2;
  return size;
}

std::unique_ptr<CellRing> CellRing::Create(Destroy destroy, uint32_t cells) {
  Region& region = TheRegion();
  const uint32_t size = SizeFor(cells);
  uint32_t chunk;
  if (!region.Take(size / kCells, chunk)) return nullptr;
  // For Contains. Relaxed is enough: a thread can only hold a cell's
  // address through a release/acquire chain from the thread that took it,
  // which runs after this store.
  region_base_.store(reinterpret_cast<uintptr_t>(region.cells()),
                     std::memory_order_relaxed);
  char* first = region.cells() + size_t{chunk} * kChunkBytes;
  Poison(first, size_t{size} * kCellBytes);
  return std::unique_ptr<CellRing>(
      new CellRing(destroy, chunk, size, first,
                   region.states() + size_t{chunk} * kCells,
                   &region.released(chunk)));
}

CellRing::CellRing(Destroy destroy, uint32_t chunk, uint32_t size,
                   char* cells,
                   std::atomic<uint8_t>* states,
                   std::atomic<uint64_t>* released)
    : destroy_(destroy),
      chunk_(chunk),
      size_(size),
      cells_(cells),
      states_(states),
      released_(released),
      takes_(new uint8_t[size]),
      block_(size - kBlock),
      released_seen_(released->load(std::memory_order_acquire)),
      taken_base_(released_seen_),
      taken_(released_seen_) {
  // A reused chunk keeps its states: every cell was handed back and its
  // object destroyed, so taking counts start where the hand-backs stand.
  // (Its release counter too, when the chunk heads a ring again; a chunk
  // that was not a ring's first had its hand-backs counted by that ring's.)
  for (uint32_t i = 0; i < size_; ++i) {
    takes_[i] = states_[i].load(std::memory_order_acquire) & kCountMask;
  }
}

CellRing::~CellRing() {
  // Objects handed back alive are destroyed here, on the owner's side.
  for (uint32_t i = 0; i < size_; ++i) {
    const uint8_t state = states_[i].load(std::memory_order_acquire);
    if ((state & kAlive) != 0 && (state & kCountMask) == takes_[i]) {
      destroy_(cells_ + size_t{i} * kCellBytes);
      // Nobody else writes a state that is back: the next ring on this
      // chunk must not destroy the object again.
      states_[i].store(state & kCountMask, std::memory_order_relaxed);
    }
  }
  // A cell still out may yet be handed back into this chunk: then the
  // chunk is never handed out again.
  if (InFlight() != 0) return;
  // Give the pages back (they read as zeros when next used).
  ::madvise(cells_, size_t{size_} * kCellBytes, MADV_DONTNEED);
  TheRegion().Give(chunk_, size_ / kCells);
}

void CellRing::Prefetch(uint32_t cell) const {
  const char* p = cells_ + size_t{cell} * kCellBytes;
  __builtin_prefetch(p, 1);
  __builtin_prefetch(p + 64, 1);
}

bool CellRing::NextBlock() {
  if (InFlightBound() >= size_ && InFlight() >= size_) return false;
  for (uint32_t probed = 0; probed < kProbe; probed += kBlock) {
    block_ = (block_ + kBlock) & (size_ - 1);
    uint64_t free = 0, alive = 0;
    for (uint32_t i = 0; i < kBlock; ++i) {
      // Acquire: pairs with HandBack, so the last user's accesses happen
      // before this owner's writes.
      const uint8_t state =
          states_[block_ + i].load(std::memory_order_acquire);
      const bool is_free = (state & kCountMask) == takes_[block_ + i];
      free |= uint64_t{is_free} << i;
      alive |= uint64_t{is_free && (state & kAlive) != 0} << i;
    }
    if (free == 0) continue;
    free_mask_ = free;
    // The objects handed back alive, destroyed here in one pass: their
    // lines were last written on the receiving core, so fetch a few ahead
    // and let the misses overlap (destroying each as its cell is taken put
    // one miss on every send: tell ~3x slower).
    constexpr uint32_t kAhead = 8;
    uint64_t ahead = alive;
    for (uint32_t k = 0; k < kAhead && ahead != 0; ++k) {
      Prefetch(block_ + static_cast<uint32_t>(__builtin_ctzll(ahead)));
      ahead &= ahead - 1;
    }
    while (alive != 0) {
      const uint32_t c = block_ + static_cast<uint32_t>(__builtin_ctzll(alive));
      alive &= alive - 1;
      if (ahead != 0) {
        Prefetch(block_ + static_cast<uint32_t>(__builtin_ctzll(ahead)));
        ahead &= ahead - 1;
      }
      destroy_(cells_ + size_t{c} * kCellBytes);
    }
    return true;
  }
  return false;
}

void CellRing::Release(void* p) { HandBack(p, /*alive=*/false); }

void CellRing::Finish(void* p) { HandBack(p, /*alive=*/true); }

void CellRing::HandBack(void* p, bool alive) {
  Region& region = TheRegion();
  const size_t cell = (reinterpret_cast<uintptr_t>(p) -
                       reinterpret_cast<uintptr_t>(region.cells())) /
                      kCellBytes;  // index in the whole region
  if (!alive) Poison(region.cells() + cell * kCellBytes, kCellBytes);
  // One hand-back per occupant, after the owner's take: a plain increment.
  // Release: this thread's accesses to the object happen before the
  // owner's next use of the cell (NextBlock's acquire).
  std::atomic<uint8_t>& state = region.states()[cell];
  const uint8_t count =
      (state.load(std::memory_order_relaxed) + 1) & kCountMask;
  state.store(count | (alive ? kAlive : 0), std::memory_order_release);
  region.ring_released(cell / kCells)
      .fetch_add(1, std::memory_order_release);
}

}  // namespace ringactor::scheduler
