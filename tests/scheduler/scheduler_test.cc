// Tests of the scheduler: Task<T>, the shard loop, timers (Sleep,
// SleepUntil, WithTimeout, Interval), placement, SubmitTo and orderly stop.
// No timing assertions: timers are checked for order and "never early".

#include <sched.h>
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "scheduler/awaitables.h"
#include "scheduler/clock.h"
#include "scheduler/envelope_queue.h"
#include "scheduler/notification.h"
#include "scheduler/placement.h"
#include "scheduler/shard.h"
#include "scheduler/shard_set.h"
#include "scheduler/task.h"
#include "tests/testing/shard_thread.h"

namespace ringactor::scheduler {
namespace {

using ::ringactor::testing::kHangGuard;
using ::ringactor::testing::ThreadIsSleeping;
using ::ringactor::testing::WaitUntil;
using transport::ShardId;

class NullHooks : public ShardHooks {
 public:
  void OnEnvelopes(ShardId, const transport::Envelope*, size_t) override {}
  void OnWord(uint32_t, uint64_t) override {}
};

class SchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ShardSetOptions o;
    o.num_shards = 2;
    auto set = ShardSet::Create(o, {&hooks_[0], &hooks_[1]});
    ASSERT_TRUE(set.ok()) << set.status();
    set_ = *std::move(set);
  }

  // Runs `make()` as a root task on `shard` and waits for it to finish.
  template <typename F>
  void RunTask(ShardId shard, F make) {
    Notification done;
    auto task = [&]() -> Task<void> {
      co_await make();
      done.Notify();
    };
    ASSERT_TRUE(set_->SubmitTo(shard, [&] { Shard::Current()->Start(task()); })
                    .ok());
    ASSERT_TRUE(done.WaitForNotificationWithTimeout(kHangGuard));
  }

  NullHooks hooks_[2];
  std::unique_ptr<ShardSet> set_;
};

Task<int> Answer() { co_return 42; }
Task<int> Twice(int x) { co_return 2 * co_await Answer() + x; }
Task<int> Throws() {
  throw std::runtime_error("boom");
  co_return 0;
}

TEST(EnvelopeQueueTest, FifoThroughGrowthAndWrapAround) {
  EnvelopeQueue q;
  uint64_t next_in = 0, next_out = 0;
  // Interleave pushes and pops so the ring wraps before it grows.
  for (int round = 0; round < 50; ++round) {
    for (int i = 0; i < 100; ++i) q.push_back({0, next_in++});
    for (int i = 0; i < 60; ++i) {
      ASSERT_FALSE(q.empty());
      ASSERT_EQ(q.front().value, next_out++);
      q.pop_front();
    }
  }
  EXPECT_EQ(q.size(), next_in - next_out);
  while (!q.empty()) {
    ASSERT_EQ(q.front().value, next_out++);
    q.pop_front();
  }
  EXPECT_EQ(next_out, next_in);
}

TEST(EnvelopeQueueTest, KeepsASmallBufferAndReleasesALargeOneWhenDrained) {
  EnvelopeQueue small;
  for (uint64_t i = 0; i < 100; ++i) small.push_back({0, i});
  while (!small.empty()) small.pop_front();
  EXPECT_GT(small.capacity(), 0u);  // reused by the next burst
  EnvelopeQueue large;
  for (uint64_t i = 0; i < 2 * EnvelopeQueue::kKeptCapacity; ++i) {
    large.push_back({0, i});
  }
  EXPECT_GT(large.capacity(), EnvelopeQueue::kKeptCapacity);
  while (!large.empty()) large.pop_front();
  EXPECT_EQ(large.capacity(), 0u);
  large.push_back({0, 7});  // still usable
  EXPECT_EQ(large.front().value, 7u);
}

TEST_F(SchedulerTest, TasksChainValuesAndExceptions) {
  int value = 0;
  std::string error;
  RunTask(ShardId(0), [&]() -> Task<void> {
    value = co_await Twice(1);
    try {
      co_await Throws();
    } catch (const std::exception& e) {
      error = e.what();
    }
  });
  EXPECT_EQ(value, 85);
  EXPECT_EQ(error, "boom");
}

Task<int> Immediately(int v) { co_return v; }
Task<int> AfterYield(int v) {
  co_await Yield();
  co_return v;
}

// A loop awaiting tasks that finish without suspending must not nest a
// frame per task: 200,000 of them would overflow any thread's stack (GCC
// makes symmetric transfer a tail call only when optimizing without ASan).
TEST_F(SchedulerTest, AwaitingManyTasksThatFinishAtOnceKeepsTheStackFlat) {
  int64_t sum = 0;
  RunTask(ShardId(0), [&]() -> Task<void> {
    for (int i = 0; i < 200000; ++i) sum += co_await Immediately(i % 3);
    // And tasks that suspend, then finish: their awaiter still resumes.
    for (int i = 0; i < 3; ++i) sum += co_await AfterYield(5);
  });
  EXPECT_EQ(sum, 199999 + 15);  // 0+1+2 repeated, then 3 x 5
}

TEST_F(SchedulerTest, AnAwaitedTaskResumesOnTheSameShard) {
  std::vector<Shard*> seen;
  RunTask(ShardId(1), [&]() -> Task<void> {
    seen.push_back(Shard::Current());
    co_await Yield();
    seen.push_back(Shard::Current());
    co_await Sleep(absl::Milliseconds(1));
    seen.push_back(Shard::Current());
  });
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0], &set_->shard(ShardId(1)));
  EXPECT_EQ(seen[1], seen[0]);
  EXPECT_EQ(seen[2], seen[0]);
}

TEST(ClockTest, MayHavePassedSaysFalseOnlyForDeadlinesCertainlyAhead) {
  // The coarse clock never runs ahead of the precise one.
  const int64_t coarse = CoarseMonoNanos();
  const int64_t now = MonoNanos();
  EXPECT_LE(coarse, now);
  // Due or nearly due: the caller must read the precise clock.
  EXPECT_TRUE(MayHavePassed(now - 1'000'000'000));
  EXPECT_TRUE(MayHavePassed(now));
  EXPECT_TRUE(MayHavePassed(now + 1'000'000));  // within the coarse slack
  // Far ahead: no precise read needed.
  EXPECT_FALSE(MayHavePassed(now + 60'000'000'000));
  EXPECT_FALSE(MayHavePassed(kNoDeadline));
}

TEST(ClockTest, EstimateStaysWithinItsSlackAndAskDeadlinesAreNeverEarly) {
  // On a thread of its own, so it starts without an anchor: 60 reads ~2 ms
  // apart cover its first ~10 ms (MonoNanos itself), the measured rate,
  // and re-anchors (every kEstimateAnchorNanos). The sleeps only let time
  // pass; nothing waits on them.
  std::thread t([] {
    int from_tsc = 0;
    for (int i = 0; i < 60; ++i) {
      const int64_t before = MonoNanos();
      const int64_t estimate = EstimateMonoNanos();
      from_tsc += internal::EstimatesFromTsc() ? 1 : 0;
      const int64_t deadline = LooseDeadlineAfter(absl::Milliseconds(1));
      const int64_t after = MonoNanos();
      EXPECT_GE(estimate, before - kEstimateSlackNanos) << "read " << i;
      EXPECT_LE(estimate, after + kEstimateSlackNanos) << "read " << i;
      // An Ask's deadline: never before MonoNanos() + 1 ms, at most twice
      // the slack after it.
      EXPECT_GE(deadline, before + 1'000'000) << "read " << i;
      EXPECT_LE(deadline, after + 1'000'000 + 2 * kEstimateSlackNanos)
          << "read " << i;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    if (internal::TscUsable()) {
      EXPECT_GE(from_tsc, 10) << "the estimate never came from the TSC";
    }
  });
  t.join();
  EXPECT_EQ(LooseDeadlineAfter(absl::InfiniteDuration()), kNoDeadline);
}

TEST_F(SchedulerTest, SleepIsNeverEarlyAndTimersFireInDeadlineOrder) {
  std::vector<int> order;
  int64_t early = 0;
  RunTask(ShardId(0), [&]() -> Task<void> {
    // Every sleeper's deadline from one base, so the firing order is the
    // deadlines' order however long the shard takes to start them. With
    // each sleeper's own start as its base, a preempted start once made
    // 25 ms due after 30.
    const absl::Time base = absl::Now();
    auto sleeper = [&](int ms) -> Task<void> {
      const absl::Time until = base + absl::Milliseconds(ms);
      co_await SleepUntil(until);
      if (absl::Now() < until) ++early;
      order.push_back(ms);
    };
    for (int ms : {30, 10, 20, 5, 25}) Shard::Current()->Start(sleeper(ms));
    // A relative Sleep: never early either, and due after all five.
    const int64_t start = MonoNanos();
    co_await Sleep(absl::Milliseconds(40));
    if (MonoNanos() - start < 40'000'000) ++early;
  });
  EXPECT_EQ(order, (std::vector<int>{5, 10, 20, 25, 30}));
  EXPECT_EQ(early, 0);
}

TEST_F(SchedulerTest, AnIdleShardWithAFarTimerSleepsInTheKernel) {
  RunTask(ShardId(1), [&]() -> Task<void> {
    Shard::Current()->Start([]() -> Task<void> {
      co_await Sleep(absl::Hours(1));  // destroyed at Stop
    }());
    co_return;
  });
  const pid_t tid = set_->shard(ShardId(1)).tid();
  EXPECT_TRUE(WaitUntil([&] { return ThreadIsSleeping(tid); }));
}

// The kernel can leave its TASKRUN flag set with no task work behind it
// (io::Ring::Reap says how). A shard that trusted it would find "work" in
// every idle check and never sleep again; it must clear it and sleep.
TEST_F(SchedulerTest, AShardWithAStaleTaskRunFlagStillSleeps) {
  const pid_t tid = set_->shard(ShardId(1)).tid();
  // Counted on the shard, awake for the closure: only a sleep after the
  // flag was set counts.
  std::atomic<uint64_t> before{0};
  Notification flagged;
  ASSERT_TRUE(set_->SubmitTo(ShardId(1), [&] {
                   before = Shard::Current()->endpoint().Stats().sleeps;
                   Shard::Current()->ring().SetTaskRunFlagForTest();
                   flagged.Notify();
                 }).ok());
  ASSERT_TRUE(flagged.WaitForNotificationWithTimeout(kHangGuard));
  EXPECT_TRUE(WaitUntil([&] {
    return set_->mesh().Stats(ShardId(1)).sleeps > before.load() &&
           ThreadIsSleeping(tid);
  }));
  // (Usually the clear did it, but real task work that arrives meanwhile
  // also clears the flag, in the kernel; RingTest counts the clear itself.)
}

// A closure the shard accepted runs, even if the kernel refused to wake the
// sleeping shard for it: SubmitTo says OK (an error would let the caller
// free what the closure uses), and the next wake-up runs it.
TEST_F(SchedulerTest, AnAcceptedClosureRunsEvenIfItsWakeUpFailed) {
  // Asleep for good: past the short first sleep an idle shard takes
  // before it tidies up (Shard::kQuietAfter), in the one with no timeout.
  const pid_t tid = set_->shard(ShardId(1)).tid();
  ASSERT_TRUE(WaitUntil([&] {
    return set_->mesh().Stats(ShardId(1)).sleeps >= 2 && ThreadIsSleeping(tid);
  }));
  set_->mesh().endpoint(ShardId(1)).FailNextForeignWakeForTest();
  Notification first, second;
  EXPECT_TRUE(set_->SubmitTo(ShardId(1), [&] { first.Notify(); }).ok());
  EXPECT_EQ(set_->mesh().Stats(ShardId(1)).foreign_wake_failures, 1u);
  EXPECT_TRUE(ThreadIsSleeping(tid));
  EXPECT_FALSE(first.HasBeenNotified());
  ASSERT_TRUE(set_->SubmitTo(ShardId(1), [&] { second.Notify(); }).ok());
  EXPECT_TRUE(first.WaitForNotificationWithTimeout(kHangGuard));
  EXPECT_TRUE(second.WaitForNotificationWithTimeout(kHangGuard));
}

TEST_F(SchedulerTest, WithTimeoutYieldsTheValueOrDeadlineExceeded) {
  absl::StatusOr<int> fast, slow;
  absl::Status void_slow;
  std::string error;
  RunTask(ShardId(0), [&]() -> Task<void> {
    fast = co_await WithTimeout(Answer(), kHangGuard);
    slow = co_await WithTimeout(
        []() -> Task<int> {
          co_await Sleep(absl::Hours(1));
          co_return 1;
        }(),
        absl::Milliseconds(5));
    void_slow = co_await WithTimeout(
        []() -> Task<void> { co_await Sleep(absl::Hours(1)); }(),
        absl::Milliseconds(5));
    try {
      (void)co_await WithTimeout(Throws(), kHangGuard);
    } catch (const std::exception& e) {
      error = e.what();
    }
  });
  ASSERT_TRUE(fast.ok());
  EXPECT_EQ(*fast, 42);
  EXPECT_EQ(slow.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(void_slow.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(error, "boom");
}

TEST(IntervalTest, MissedTickPolicies) {
  // Schedule arithmetic only: a tick observed 3.5 periods late.
  const int64_t kPeriod = absl::ToInt64Nanoseconds(absl::Milliseconds(10));
  Interval skip(absl::Milliseconds(10), MissedTicks::kSkip);
  const int64_t due = skip.next_deadline_ns();
  EXPECT_EQ(skip.Advance(due + 3 * kPeriod + kPeriod / 2), 4u);
  EXPECT_EQ(skip.next_deadline_ns(), due + 4 * kPeriod);  // on the grid

  Interval burst(absl::Milliseconds(10), MissedTicks::kBurst);
  const int64_t bdue = burst.next_deadline_ns();
  EXPECT_EQ(burst.Advance(bdue + 3 * kPeriod), 1u);
  EXPECT_EQ(burst.next_deadline_ns(), bdue + kPeriod);  // the next, overdue

  Interval delay(absl::Milliseconds(10), MissedTicks::kDelay);
  const int64_t late = delay.next_deadline_ns() + 3 * kPeriod;
  EXPECT_EQ(delay.Advance(late), 1u);
  EXPECT_EQ(delay.next_deadline_ns(), late + kPeriod);  // a new schedule
}

TEST_F(SchedulerTest, IntervalTicksAreNeverEarly) {
  uint64_t periods = 0;
  int64_t elapsed = 0;
  RunTask(ShardId(0), [&]() -> Task<void> {
    Interval iv(absl::Milliseconds(2));
    const int64_t start = MonoNanos();
    for (int i = 0; i < 5; ++i) periods += co_await iv.Tick();
    elapsed = MonoNanos() - start;
  });
  EXPECT_GE(periods, 5u);
  EXPECT_GE(elapsed, static_cast<int64_t>(periods) * 2000000);
}

TEST(PlacementTest, StickyIsStableAcrossProcessesAndSpreads) {
  // Fixed values: a key must map to the same shard in every build.
  EXPECT_EQ(StableHash(uint64_t{0}), 0xe220a8397b1dcdafull);
  EXPECT_EQ(Resolve(Sticky(std::string_view("user:42")), 4, 0),
            Resolve(Sticky(std::string_view("user:42")), 4, 99));
  std::vector<int> hits(4);
  for (uint64_t k = 0; k < 4000; ++k) ++hits[Resolve(Sticky(k), 4, 0).value()];
  for (int h : hits) EXPECT_GT(h, 800);
  EXPECT_EQ(Resolve(Pinned{ShardId(3)}, 4, 0), ShardId(3));
  EXPECT_EQ(Resolve(Pinned{ShardId(4)}, 4, 0), transport::kForeignShard);
  EXPECT_EQ(Resolve(RoundRobin{}, 4, 6), ShardId(2));
}

TEST_F(SchedulerTest, SubmitToValidatesAndStopRunsAcceptedClosures) {
  EXPECT_EQ(set_->SubmitTo(ShardId(9), [] {}).code(),
            absl::StatusCode::kInvalidArgument);
  std::atomic<int> ran{0};
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(set_->SubmitTo(ShardId(i % 2), [&] { ran.fetch_add(1); }).ok());
  }
  ASSERT_TRUE(set_->Stop().ok());
  EXPECT_EQ(ran.load(), 100);
  EXPECT_EQ(set_->SubmitTo(ShardId(0), [] {}).code(),
            absl::StatusCode::kUnavailable);
}

struct DoneProbe {
  std::atomic<int> finished{0}, destroyed{0};
  static void Done(void* ctx, std::coroutine_handle<> frame, bool finished) {
    auto* p = static_cast<DoneProbe*>(ctx);
    (finished ? p->finished : p->destroyed).fetch_add(1);
    frame.destroy();
  }
};

TEST_F(SchedulerTest, StopDestroysSuspendedRootsAndReportsThem) {
  DoneProbe probe;
  RunTask(ShardId(0), [&]() -> Task<void> {
    Shard::Current()->Start(
        []() -> Task<void> { co_await Sleep(absl::Hours(1)); }(),
        &DoneProbe::Done, &probe);
    Shard::Current()->Start([]() -> Task<void> { co_return; }(),
                            &DoneProbe::Done, &probe);
    co_return;
  });
  EXPECT_EQ(probe.finished.load(), 1);
  ASSERT_TRUE(set_->Stop().ok());
  EXPECT_EQ(probe.destroyed.load(), 1);
}

// The CPUs this process may run on, and the calling thread's mask size.
std::vector<int> AllowedCpusForTest() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return cpus;
  for (int c = 0; c < CPU_SETSIZE; ++c) {
    if (CPU_ISSET(c, &set)) cpus.push_back(c);
  }
  return cpus;
}

// The number of CPUs shard `id`'s thread may run on, asked on that thread.
int MaskSizeOn(ShardSet& set, uint32_t id) {
  Notification done;
  int count = -1;
  EXPECT_TRUE(set.SubmitTo(ShardId(id), [&] {
                   cpu_set_t mask;
                   CPU_ZERO(&mask);
                   if (sched_getaffinity(0, sizeof(mask), &mask) == 0) {
                     count = CPU_COUNT(&mask);
                   }
                   done.Notify();
                 }).ok());
  EXPECT_TRUE(done.WaitForNotificationWithTimeout(kHangGuard));
  return count;
}

// Two shards on a machine with at least two CPUs (else the test skips).
class ShardSetPlacementTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cpus_ = AllowedCpusForTest();
    if (cpus_.size() < 2) GTEST_SKIP() << "needs two CPUs";
  }
  ShardSet& Start(bool pin) {
    ShardSetOptions o;
    o.num_shards = 2;
    o.pin_threads = pin;
    auto set = ShardSet::Create(o, {&hooks_[0], &hooks_[1]});
    if (!set.ok()) {  // nothing to test without it
      ADD_FAILURE() << set.status();
      std::abort();
    }
    set_ = *std::move(set);
    return *set_;
  }

  std::vector<int> cpus_;
  NullHooks hooks_[2];
  std::unique_ptr<ShardSet> set_;
};

TEST_F(ShardSetPlacementTest, UnpinnedShardsStartOnTheirOwnCpusAndKeepTheMask) {
  ShardSet& set = Start(/*pin=*/false);
  EXPECT_EQ(set.shard(ShardId(0)).start_cpu(), cpus_[0]);
  EXPECT_EQ(set.shard(ShardId(1)).start_cpu(), cpus_[1]);
  // Not pinned: each may run anywhere the process may.
  EXPECT_EQ(MaskSizeOn(set, 0), static_cast<int>(cpus_.size()));
  EXPECT_EQ(MaskSizeOn(set, 1), static_cast<int>(cpus_.size()));
}

TEST_F(ShardSetPlacementTest, PinnedShardsStayOnTheirCpus) {
  ShardSet& set = Start(/*pin=*/true);
  EXPECT_EQ(set.shard(ShardId(0)).start_cpu(), cpus_[0]);
  EXPECT_EQ(set.shard(ShardId(1)).start_cpu(), cpus_[1]);
  EXPECT_EQ(MaskSizeOn(set, 0), 1);
  EXPECT_EQ(MaskSizeOn(set, 1), 1);
}

// Runs the calling thread on `cpu`: for good (`pin`), or the way the
// kernel's own placement would leave it, there now and free to go anywhere.
void MoveCallerTo(int cpu, bool pin) {
  cpu_set_t all, one;
  ASSERT_EQ(sched_getaffinity(0, sizeof(all), &all), 0);
  CPU_ZERO(&one);
  CPU_SET(cpu, &one);
  ASSERT_EQ(sched_setaffinity(0, sizeof(one), &one), 0);
  if (!pin) {
    ASSERT_EQ(sched_setaffinity(0, sizeof(all), &all), 0);
  }
}

// Keeps its shard awake (a turn every time, never parked) until `stop`.
Task<void> StayAwake(std::atomic<bool>* stop, Notification* spinning,
                     Notification* stopped) {
  spinning->Notify();
  while (!stop->load()) co_await Yield();
  stopped->Notify();
}

TEST_F(ShardSetPlacementTest, AnUnpinnedShardMovesOffAnAwakeShardsCpu) {
  ShardSet& set = Start(/*pin=*/false);
  // Shard 0 held on cpus_[0] by the test (so that the kernel cannot move
  // it while it never idles), seen there by its next idle turn, then kept
  // awake (yielding, never parked).
  ASSERT_TRUE(set.SubmitTo(ShardId(0), [&] {
                   MoveCallerTo(cpus_[0], /*pin=*/true);
                 }).ok());
  ASSERT_TRUE(
      WaitUntil([&] { return set.shard(ShardId(0)).last_cpu() == cpus_[0]; }));
  std::atomic<bool> stop{false};
  Notification spinning, stopped;
  ASSERT_TRUE(set.SubmitTo(ShardId(0), [&] {
                   Shard::Current()->Start(
                       StayAwake(&stop, &spinning, &stopped));
                 }).ok());
  ASSERT_TRUE(spinning.WaitForNotificationWithTimeout(kHangGuard));
  // Shard 1 put on the same CPU: it moves itself when it next idles (or,
  // if it moved less than kMoveEvery ago, at a later idle turn: an empty
  // closure every 2 ms gives it those instead of leaving it asleep).
  ASSERT_TRUE(set.SubmitTo(ShardId(1), [&] {
                   MoveCallerTo(cpus_[0], /*pin=*/false);
                 }).ok());
  absl::Time next_nudge = absl::Now() + absl::Milliseconds(2);
  EXPECT_TRUE(WaitUntil([&] {
    if (set.shard(ShardId(1)).placement_moves() >= 1) return true;
    if (absl::Now() >= next_nudge) {
      next_nudge = absl::Now() + absl::Milliseconds(2);
      EXPECT_TRUE(set.SubmitTo(ShardId(1), [] {}).ok());
    }
    return false;
  }));
  // The move took it to the first CPU no shard was seen on. (Where it is
  // now is the kernel's business: the thread is not pinned, and a wake-up
  // may well put it back next to shard 0 before the next idle check.)
  EXPECT_EQ(set.shard(ShardId(1)).last_move_cpu(), cpus_[1]);
  // Not pinned by the move: it may run anywhere the process may.
  EXPECT_EQ(MaskSizeOn(set, 1), static_cast<int>(cpus_.size()));
  EXPECT_EQ(set.shard(ShardId(0)).placement_moves(), 0u);  // the earlier stays
  stop.store(true);
  ASSERT_TRUE(stopped.WaitForNotificationWithTimeout(kHangGuard));
}

TEST(ShardSetOptionsTest, RejectsBadValues) {
  ShardSetOptions o;
  o.num_shards = 0;
  EXPECT_EQ(o.Validate().code(), absl::StatusCode::kInvalidArgument);
  o.num_shards = 2;
  o.loop.incoming_budget = 0;
  EXPECT_THAT(std::string(o.Validate().message()),
              ::testing::HasSubstr("incoming_budget"));
  NullHooks h;
  o = ShardSetOptions();
  o.num_shards = 2;
  auto set = ShardSet::Create(o, {&h});  // one hook for two shards
  EXPECT_EQ(set.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ringactor::scheduler
