// File: tests/scheduler/cell_ring_test.cc
//
// CellRing (scheduler/cell_ring.h): the rings of fixed cells that messages
// between shards are built in.

#include "scheduler/cell_ring.h"

#include <cstdint>
#include <atomic>
#include <cstring>
#include <memory>
#include <set>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace ringactor::scheduler {
namespace {

constexpr uint64_t kEpoch = 1;

void DestroyNothing(void*) {}

// Opens epoch `epoch` (its first take answers nullptr by design).
void OpenEpoch(CellRing& ring, uint64_t epoch) {
  ASSERT_EQ(ring.TryTake(epoch), nullptr);
}

std::vector<void*> TakeAll(CellRing& ring, uint64_t epoch = kEpoch) {
  std::vector<void*> cells;
  while (void* c = ring.TryTake(epoch)) cells.push_back(c);
  return cells;
}

uintptr_t ChunkOf(const void* p) {
  return reinterpret_cast<uintptr_t>(p) / CellRing::kChunkBytes;
}

TEST(CellRingTest, CellsAreDistinctAlignedUsableAndKnownByAddress) {
  auto ring = CellRing::Create(&DestroyNothing);
  ASSERT_NE(ring, nullptr);
  OpenEpoch(*ring, kEpoch);
  const std::vector<void*> cells = TakeAll(*ring);
  ASSERT_EQ(cells.size(), CellRing::kCells);  // then full: nullptr
  std::set<uintptr_t> seen;
  for (void* c : cells) {
    const uintptr_t a = reinterpret_cast<uintptr_t>(c);
    EXPECT_EQ(a % CellRing::kCellBytes, 0u);
    EXPECT_TRUE(seen.insert(a).second) << "cell handed out twice";
    EXPECT_TRUE(CellRing::Contains(c));
    EXPECT_TRUE(CellRing::Contains(static_cast<char*>(c) + 127));
    std::memset(c, 0xab, CellRing::kCellBytes);  // all of it is usable
  }
  // Disjoint: 4,096 distinct 128-byte-aligned cells of 128 bytes.
  EXPECT_EQ(*seen.rbegin() - *seen.begin(),
            (CellRing::kCells - 1) * CellRing::kCellBytes);
  int on_stack = 0;
  auto on_heap = std::make_unique<int>(0);
  EXPECT_FALSE(CellRing::Contains(&on_stack));
  EXPECT_FALSE(CellRing::Contains(on_heap.get()));
  EXPECT_FALSE(CellRing::Contains(nullptr));
  EXPECT_EQ(ring->taken(), CellRing::kCells);
  EXPECT_EQ(ring->misses(), 1u);  // the take that found the ring full
  EXPECT_EQ(ring->InFlight(), CellRing::kCells);
  for (void* c : cells) CellRing::Release(c);
  EXPECT_EQ(ring->InFlight(), 0u);
}

TEST(CellRingTest, TheFirstTakeOfEachEpochIsLeftToOtherMemory) {
  auto ring = CellRing::Create(&DestroyNothing);
  ASSERT_NE(ring, nullptr);
  for (uint64_t epoch = 10; epoch < 20; ++epoch) {
    EXPECT_EQ(ring->TryTake(epoch), nullptr);
    void* a = ring->TryTake(epoch);
    void* b = ring->TryTake(epoch);
    ASSERT_NE(a, nullptr);
    ASSERT_NE(b, nullptr);
    CellRing::Release(a);
    CellRing::Release(b);
  }
  EXPECT_EQ(ring->taken(), 20u);
  EXPECT_EQ(ring->misses(), 0u);  // those nullptrs were not misses
}

TEST(CellRingTest, CellsReleasedOnAnotherThreadAreTakenAgain) {
  auto ring = CellRing::Create(&DestroyNothing);
  ASSERT_NE(ring, nullptr);
  OpenEpoch(*ring, kEpoch);
  for (int lap = 0; lap < 3; ++lap) {
    std::vector<void*> cells = TakeAll(*ring);
    ASSERT_EQ(cells.size(), CellRing::kCells) << "lap " << lap;
    for (void* c : cells) *static_cast<uint64_t*>(c) = lap;
    std::thread releaser([&] {
      uint64_t sum = 0;
      for (void* c : cells) {
        sum += *static_cast<uint64_t*>(c);
        CellRing::Release(c);
      }
      EXPECT_EQ(sum, uint64_t{CellRing::kCells} * lap);
    });
    releaser.join();
    EXPECT_EQ(ring->InFlight(), 0u);
  }
}

TEST(CellRingTest, AHeldCellIsSkippedAndCountsAsInFlight) {
  auto ring = CellRing::Create(&DestroyNothing);
  ASSERT_NE(ring, nullptr);
  OpenEpoch(*ring, kEpoch);
  std::vector<void*> cells = TakeAll(*ring);
  ASSERT_EQ(cells.size(), CellRing::kCells);
  void* held = cells[5];
  for (void* c : cells) {
    if (c != held) CellRing::Release(c);
  }
  // A whole lap more: every free cell once, never the held one.
  std::vector<void*> lap = TakeAll(*ring);
  EXPECT_EQ(lap.size(), CellRing::kCells - 1);
  for (void* c : lap) EXPECT_NE(c, held);
  EXPECT_EQ(ring->InFlight(), CellRing::kCells);
  for (void* c : lap) CellRing::Release(c);
  CellRing::Release(held);
  EXPECT_EQ(ring->InFlight(), 0u);
}

TEST(CellRingTest, AChunkWithACellOutIsNeverHandedOutAgain) {
  void* out;
  uintptr_t chunk;
  {
    auto ring = CellRing::Create(&DestroyNothing);
    ASSERT_NE(ring, nullptr);
    OpenEpoch(*ring, kEpoch);
    out = ring->TryTake(kEpoch);
    ASSERT_NE(out, nullptr);
    chunk = ChunkOf(out);
  }  // destroyed with `out` still taken
  // Chunks are handed out lowest free first: a returned chunk would come
  // back at once.
  auto next = CellRing::Create(&DestroyNothing);
  ASSERT_NE(next, nullptr);
  OpenEpoch(*next, kEpoch);
  void* c = next->TryTake(kEpoch);
  ASSERT_NE(c, nullptr);
  EXPECT_NE(ChunkOf(c), chunk);
  std::memset(c, 0xcd, CellRing::kCellBytes);
  CellRing::Release(c);
  CellRing::Release(out);  // still safe: the chunk stays reserved
  // A ring destroyed with every cell back does return its chunk.
  const uintptr_t returned = ChunkOf(c);
  next.reset();
  auto again = CellRing::Create(&DestroyNothing);
  ASSERT_NE(again, nullptr);
  OpenEpoch(*again, kEpoch);
  void* d = again->TryTake(kEpoch);
  ASSERT_EQ(d, c);  // the same chunk, from its first cell
  EXPECT_EQ(ChunkOf(d), returned);
  EXPECT_EQ(*static_cast<volatile char*>(d), 0);  // pages given back
  EXPECT_EQ(again->taken(), 1u);  // counts start over in a reused chunk
  CellRing::Release(d);
}

TEST(CellRingTest, WhenEveryChunkIsInUseCreateAnswersNull) {
  std::vector<std::unique_ptr<CellRing>> rings;
  while (auto r = CellRing::Create(&DestroyNothing)) {
    rings.push_back(std::move(r));
    ASSERT_LE(rings.size(), CellRing::kChunks);
  }
  EXPECT_GT(rings.size(), 0u);
  rings.pop_back();
  EXPECT_NE(CellRing::Create(&DestroyNothing), nullptr);  // one free again
}

TEST(CellRingTest, SizeForRoundsUpToAPowerOfTwoWithinBounds) {
  EXPECT_EQ(CellRing::SizeFor(0), CellRing::kCells);
  EXPECT_EQ(CellRing::SizeFor(1), CellRing::kCells);
  EXPECT_EQ(CellRing::SizeFor(CellRing::kCells), CellRing::kCells);
  EXPECT_EQ(CellRing::SizeFor(CellRing::kCells + 1), 2 * CellRing::kCells);
  EXPECT_EQ(CellRing::SizeFor(10'000), 16'384u);
  EXPECT_EQ(CellRing::SizeFor(CellRing::kMaxCells), CellRing::kMaxCells);
  EXPECT_EQ(CellRing::SizeFor(~uint32_t{0}), CellRing::kMaxCells);
}

// A ring of several chunks: every cell once per lap, and hand-backs into
// any of its chunks count for it (and not for a ring beside it).
TEST(CellRingTest, ADeepRingHoldsAllItsCellsAndCountsHandBacksInEveryChunk) {
  auto small = CellRing::Create(&DestroyNothing);
  auto deep = CellRing::Create(&DestroyNothing, 10'000);
  ASSERT_NE(small, nullptr);
  ASSERT_NE(deep, nullptr);
  EXPECT_EQ(small->cells(), CellRing::kCells);
  ASSERT_EQ(deep->cells(), 16'384u);
  OpenEpoch(*small, kEpoch);
  void* one = small->TryTake(kEpoch);
  ASSERT_NE(one, nullptr);
  OpenEpoch(*deep, kEpoch);
  for (int lap = 0; lap < 2; ++lap) {
    const std::vector<void*> cells = TakeAll(*deep);
    ASSERT_EQ(cells.size(), deep->cells()) << "lap " << lap;
    std::set<uintptr_t> seen;
    for (void* c : cells) {
      EXPECT_TRUE(CellRing::Contains(c));
      EXPECT_TRUE(seen.insert(reinterpret_cast<uintptr_t>(c)).second);
      *static_cast<uint64_t*>(c) = lap;  // usable
    }
    // One run of the region, apart from the small ring's chunk.
    EXPECT_EQ(*seen.rbegin() - *seen.begin(),
              (deep->cells() - 1) * CellRing::kCellBytes);
    const uintptr_t o = reinterpret_cast<uintptr_t>(one);
    EXPECT_TRUE(o < *seen.begin() || o > *seen.rbegin());
    EXPECT_EQ(deep->InFlight(), deep->cells());
    // Hand the last chunk's cells back first, on another thread.
    std::thread releaser([&] {
      for (size_t i = cells.size(); i > 0; --i) CellRing::Release(cells[i - 1]);
    });
    releaser.join();
    EXPECT_EQ(deep->InFlight(), 0u);
    EXPECT_EQ(small->InFlight(), 1u);
  }
  CellRing::Release(one);
  EXPECT_EQ(small->InFlight(), 0u);
  EXPECT_EQ(deep->misses(), 2u);  // the take that found it full, per lap
}

TEST(CellRingTest, ADeepRingsChunksAreHandedOutAgainWhenItGoes) {
  uintptr_t first;
  {
    auto deep = CellRing::Create(&DestroyNothing, CellRing::kMaxCells);
    ASSERT_NE(deep, nullptr);
    EXPECT_EQ(deep->cells(), CellRing::kMaxCells);
    OpenEpoch(*deep, kEpoch);
    void* c = deep->TryTake(kEpoch);
    ASSERT_NE(c, nullptr);
    first = reinterpret_cast<uintptr_t>(c);
    CellRing::Release(c);
  }
  // Its run is free again: the next ring of that size gets it (the lowest
  // free run), from its first cell, with counts started over.
  auto again = CellRing::Create(&DestroyNothing, CellRing::kMaxCells);
  ASSERT_NE(again, nullptr);
  OpenEpoch(*again, kEpoch);
  void* d = again->TryTake(kEpoch);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(d), first);
  EXPECT_EQ(again->taken(), 1u);
  CellRing::Release(d);
}

std::atomic<int> destroyed{0};
std::atomic<int> destroyed_elsewhere{0};
thread_local bool is_owner = false;
void DestroyCounting(void* cell) {
  EXPECT_EQ(*static_cast<int*>(cell), 7);  // the object is intact
  *static_cast<int*>(cell) = 0;
  destroyed.fetch_add(1);
  if (!is_owner) destroyed_elsewhere.fetch_add(1);
}

TEST(CellRingTest, ObjectsHandedBackAliveAreDestroyedByTheOwnerOnce) {
  destroyed = 0;
  destroyed_elsewhere = 0;
  is_owner = true;
  constexpr int kHalf = CellRing::kCells / 2;
  uintptr_t chunk;
  {
    auto ring = CellRing::Create(&DestroyCounting);
    ASSERT_NE(ring, nullptr);
    OpenEpoch(*ring, kEpoch);
    std::vector<void*> cells = TakeAll(*ring);
    ASSERT_EQ(cells.size(), CellRing::kCells);
    chunk = ChunkOf(cells[0]);
    for (void* c : cells) *static_cast<int*>(c) = 7;
    std::thread receiver([&] {
      for (void* c : cells) CellRing::Finish(c);  // alive: not destroyed
    });
    receiver.join();
    EXPECT_EQ(destroyed.load(), 0);
    // Taking a cell again destroys its last object first, here.
    for (int i = 0; i < kHalf; ++i) {
      void* c = ring->TryTake(kEpoch);
      ASSERT_NE(c, nullptr);
      *static_cast<int*>(c) = 7;
      CellRing::Finish(c);
    }
    EXPECT_EQ(destroyed.load(), kHalf);
  }  // the ring destroys what is left alive: kHalf new, kHalf old
  EXPECT_EQ(destroyed.load(), 3 * kHalf);
  EXPECT_EQ(destroyed_elsewhere.load(), 0);
  // The next ring on that chunk destroys nothing again.
  auto next = CellRing::Create(&DestroyCounting);
  ASSERT_NE(next, nullptr);
  OpenEpoch(*next, kEpoch);
  std::vector<void*> cells = TakeAll(*next);
  ASSERT_EQ(cells.size(), CellRing::kCells);
  EXPECT_EQ(ChunkOf(cells[0]), chunk);
  EXPECT_EQ(destroyed.load(), 3 * kHalf);
  for (void* c : cells) CellRing::Release(c);
}

#if defined(__SANITIZE_ADDRESS__)
TEST(CellRingDeathTest, AUseAfterReleaseIsReported) {
  auto ring = CellRing::Create(&DestroyNothing);
  ASSERT_NE(ring, nullptr);
  OpenEpoch(*ring, kEpoch);
  auto* p = static_cast<volatile uint64_t*>(ring->TryTake(kEpoch));
  ASSERT_NE(p, nullptr);
  *p = 1;
  CellRing::Release(const_cast<uint64_t*>(p));
  EXPECT_DEATH(*p = 2, "use-after-poison");
}
#endif

}  // namespace
}  // namespace ringactor::scheduler
