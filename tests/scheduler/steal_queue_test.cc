// Tests of StealQueue, the bounded Chase–Lev deque behind stealable actors:
// owner LIFO, thief FIFO, the capacity bound, and an owner racing two
// thieves with every item taken exactly once (run it under TSan too).

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "scheduler/steal_queue.h"

namespace ringactor::scheduler {
namespace {

void* Item(uintptr_t i) { return reinterpret_cast<void*>(i); }
uintptr_t Value(void* p) { return reinterpret_cast<uintptr_t>(p); }

TEST(StealQueueTest, OwnerPopsNewestThiefStealsOldest) {
  StealQueue q(8);
  for (uintptr_t i = 1; i <= 4; ++i) ASSERT_TRUE(q.Push(Item(i)));
  EXPECT_EQ(q.Size(), 4u);
  EXPECT_EQ(Value(q.Steal()), 1u);
  EXPECT_EQ(Value(q.Pop()), 4u);
  EXPECT_EQ(Value(q.Steal()), 2u);
  EXPECT_EQ(Value(q.Pop()), 3u);
  EXPECT_EQ(q.Pop(), nullptr);
  EXPECT_EQ(q.Steal(), nullptr);
  EXPECT_EQ(q.Size(), 0u);
}

TEST(StealQueueTest, AFullQueueRefusesAndWrapsAroundAfterwards) {
  StealQueue q(4);
  for (uintptr_t i = 1; i <= 4; ++i) ASSERT_TRUE(q.Push(Item(i)));
  EXPECT_FALSE(q.Push(Item(5)));
  EXPECT_EQ(q.Size(), 4u);
  // Room again once a thief took one; indices keep growing past the
  // capacity (the slots wrap).
  for (uintptr_t round = 0; round < 10; ++round) {
    ASSERT_NE(q.Steal(), nullptr);
    ASSERT_TRUE(q.Push(Item(100 + round)));
    EXPECT_FALSE(q.Push(Item(200)));
  }
  EXPECT_EQ(Value(q.Pop()), 109u);
}

// The owner pushes 1..N, popping one of every three pushes; two thieves
// steal until the owner is done and the queue is empty. Every item must be
// taken exactly once.
TEST(StealQueueTest, ConcurrentOwnerAndThievesTakeEveryItemOnce) {
  constexpr uintptr_t kItems = 200'000;
  StealQueue q(64);
  std::vector<std::atomic<uint8_t>> taken(kItems + 1);
  std::atomic<bool> owner_done{false};
  std::atomic<uint64_t> stolen{0};
  auto take = [&](void* p) {
    ASSERT_NE(p, nullptr);
    taken[Value(p)].fetch_add(1, std::memory_order_relaxed);
  };
  auto thief = [&] {
    while (true) {
      const bool done = owner_done.load(std::memory_order_acquire);
      if (void* p = q.Steal()) {
        take(p);
        stolen.fetch_add(1, std::memory_order_relaxed);
      } else if (done && q.Size() == 0) {
        return;
      } else {
        std::this_thread::yield();  // bounded: the owner finishes
      }
    }
  };
  std::thread t1(thief), t2(thief);
  // A first batch, and wait (on the event, not a clock) until a thief has
  // taken some, so the race below has thieves in it for sure.
  constexpr uintptr_t kFirst = 32;
  for (uintptr_t i = 1; i <= kFirst; ++i) ASSERT_TRUE(q.Push(Item(i)));
  while (stolen.load(std::memory_order_relaxed) == 0) std::this_thread::yield();
  for (uintptr_t i = kFirst + 1; i <= kItems; ++i) {
    while (!q.Push(Item(i))) {
      if (void* p = q.Pop()) take(p);  // full: make room ourselves
    }
    if (i % 3 == 0) {
      if (void* p = q.Pop()) take(p);
    }
  }
  owner_done.store(true, std::memory_order_release);
  t1.join();
  t2.join();
  for (uintptr_t i = 1; i <= kItems; ++i) {
    ASSERT_EQ(taken[i].load(), 1) << "item " << i;
  }
}

}  // namespace
}  // namespace ringactor::scheduler
