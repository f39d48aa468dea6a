// File: tests/scheduler/block_cache_test.cc
//
// CachedAlloc / CachedFree (scheduler/task.h): the per-thread block cache
// that messages and coroutine frames come from.

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <future>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "scheduler/task.h"

namespace ringactor::scheduler::internal {
namespace {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kRecycles = false;  // plain operator new/delete there
#else
constexpr bool kRecycles = true;
#endif

std::vector<void*> AllocateMany(size_t n, size_t bytes) {
  std::vector<void*> v;
  for (size_t i = 0; i < n; ++i) v.push_back(CachedAlloc(bytes));
  return v;
}

void FreeAll(const std::vector<void*>& v, size_t bytes) {
  for (void* p : v) CachedFree(p, bytes);
}

TEST(BlockCacheTest, BlocksAreDisjointAndCacheLineAligned) {
  std::vector<std::pair<void*, size_t>> blocks;
  for (size_t i = 0; i < 3000; ++i) {
    const size_t bytes = 1 + (i * 37) % 2100;  // some above 2 KiB: malloc
    void* p = CachedAlloc(bytes);
    std::memset(p, static_cast<int>(i & 0xff), bytes);
    blocks.push_back({p, bytes});
  }
  for (size_t i = 0; i < blocks.size(); ++i) {
    const auto* bytes = static_cast<const unsigned char*>(blocks[i].first);
    // Nothing else wrote into this block: no two blocks overlap.
    ASSERT_EQ(bytes[0], i & 0xff);
    ASSERT_EQ(bytes[blocks[i].second - 1], i & 0xff);
    if (kRecycles && blocks[i].second <= 2048) {
      EXPECT_EQ(reinterpret_cast<uintptr_t>(blocks[i].first) % 64, 0u)
          << blocks[i].second << " bytes";
    }
  }
  for (auto [p, bytes] : blocks) CachedFree(p, bytes);
}

TEST(BlockCacheTest, AFreedBlockIsReusedByTheThreadThatFreedIt) {
  if (!kRecycles) GTEST_SKIP() << "sanitizers use plain new/delete";
  std::vector<void*> mine = AllocateMany(10, 192);
  std::vector<void*> theirs;
  // Freed on another thread: the blocks join that thread's cache.
  std::thread([&] {
    FreeAll(mine, 192);
    theirs = AllocateMany(10, 192);
    FreeAll(theirs, 192);
  }).join();
  EXPECT_EQ(std::set<void*>(mine.begin(), mine.end()),
            std::set<void*>(theirs.begin(), theirs.end()));
  // Same thread, same class: last freed, first reused.
  void* p = CachedAlloc(100);
  CachedFree(p, 100);
  EXPECT_EQ(CachedAlloc(120), p);  // 100 and 120 bytes: one 128-byte class
  CachedFree(p, 120);
}

TEST(BlockCacheTest, AnExitingThreadLeavesItsBlocksToOthers) {
  if (!kRecycles) GTEST_SKIP() << "sanitizers use plain new/delete";
  constexpr size_t kBytes = 320, kCount = 500;
  std::set<void*> left;
  std::thread([&] {
    std::vector<void*> v = AllocateMany(kCount, kBytes);
    left.insert(v.begin(), v.end());
    FreeAll(v, kBytes);
  }).join();
  std::vector<void*> taken;
  std::thread([&] {
    taken = AllocateMany(kCount, kBytes);
    FreeAll(taken, kBytes);
  }).join();
  for (void* p : taken) EXPECT_TRUE(left.count(p)) << p;
}

TEST(BlockCacheTest, AThreadsSurplusGoesToThreadsThatRunDry) {
  if (!kRecycles) GTEST_SKIP() << "sanitizers use plain new/delete";
  // A Boundary caller allocates messages that a shard frees: the shard's
  // cache would grow without bound, and the caller would keep carving
  // slabs. Past 65,536 free blocks per class, the surplus moves to the
  // depot, where the caller (or any thread) finds it.
  constexpr size_t kBytes = 256, kCount = 70'000;
  std::vector<void*> made = AllocateMany(kCount, kBytes);
  const std::set<void*> ours(made.begin(), made.end());
  std::promise<void> freed, done;
  std::thread freeing([&] {
    FreeAll(made, kBytes);  // more than the per-thread cap
    freed.set_value();
    done.get_future().wait();  // alive: nothing left by thread exit
  });
  freed.get_future().wait();
  std::vector<void*> taken;
  std::thread([&] {
    taken = AllocateMany(1024, kBytes);
    FreeAll(taken, kBytes);
  }).join();
  done.set_value();
  freeing.join();
  for (void* p : taken) EXPECT_TRUE(ours.count(p)) << p;
}

}  // namespace
}  // namespace ringactor::scheduler::internal
