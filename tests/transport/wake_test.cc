// Tests of sleeping and waking across threads: doorbells into shards parked
// in the kernel, the idle poll, producers parked on a full lane, and
// foreign threads waking a shard through its inbox (both mechanisms).
// Split from mesh_test.cc, which keeps the single-thread semantics.

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "io/ring.h"
#include "tests/testing/shard_thread.h"
#include "tests/transport/mesh_test_util.h"
#include "transport/mesh.h"

namespace ringactor::transport {
namespace {

using ::ringactor::testing::RunLoop;
using ::ringactor::testing::ShardThread;
using ::ringactor::testing::ThreadIsSleeping;
using ::ringactor::testing::WaitUntil;
using testing::CountingReceiver;
using testing::MakeMesh;

// The test thread is shard 0 (a producer with its own ring); shard 1 runs the
// ordinary loop and parks when idle.
class ProducerAndSleeper : public ::testing::Test {
 protected:
  void Start(MeshOptions o = {}) {
    mesh_ = MakeMesh(o);
    auto ring = io::Ring::Create();
    ASSERT_TRUE(ring.ok());
    ring_ = std::move(*ring);
    ASSERT_TRUE(producer().Attach(ring_.get()).ok());
    target_ = std::make_unique<ShardThread>(
        *mesh_, ShardId(1),
        [this](Endpoint& ep) { RunLoop(ep, receiver_, stop_); });
    tid_ = target_->WaitAttached();
  }
  void TearDown() override {
    stop_ = true;
    if (mesh_ != nullptr) {
      EXPECT_TRUE(mesh_->Wake(ShardId(1)).ok());
      EXPECT_TRUE(target_->Join().ok());
      EXPECT_TRUE(producer().Detach().ok());
    }
  }
  Endpoint& producer() { return mesh_->endpoint(ShardId(0)); }
  // Waits until shard 1 has gone to sleep `n` times and is blocked in the
  // kernel now.
  void WaitUntilParked(uint64_t n) {
    ASSERT_TRUE(WaitUntil([&] {
      return mesh_->Stats(ShardId(1)).sleeps >= n && ThreadIsSleeping(tid_);
    }));
  }

  std::unique_ptr<Mesh> mesh_;
  std::unique_ptr<io::Ring> ring_;
  CountingReceiver receiver_;
  std::atomic<bool> stop_{false};
  std::unique_ptr<ShardThread> target_;
  pid_t tid_ = 0;
};

TEST_F(ProducerAndSleeper, ASleepingTargetWakesOnOneMessageWithOneDoorbell) {
  Start();
  WaitUntilParked(1);
  ASSERT_TRUE(producer().Send(ShardId(1), {0, 7}).ok());
  ASSERT_TRUE(producer().Flush().ok());
  EXPECT_EQ(mesh_->Stats(ShardId(0)).doorbells_sent, 1u);
  ASSERT_TRUE(WaitUntil([&] { return receiver_.received.load() == 1; }));
  EXPECT_EQ(receiver_.last_value.load(), 7u);

  // Asleep again: again exactly one doorbell, however many envelopes.
  WaitUntilParked(2);
  for (uint64_t i = 0; i < 10; ++i) {
    ASSERT_TRUE(producer().Send(ShardId(1), {0, i}).ok());
  }
  ASSERT_TRUE(producer().Flush().ok());
  EXPECT_EQ(mesh_->Stats(ShardId(0)).doorbells_sent, 2u);
  ASSERT_TRUE(WaitUntil([&] { return receiver_.received.load() == 11; }));
}

// An urgent send rings a sleeping target at once: no Flush is called here,
// so the envelope could only arrive through SendUrgent's own doorbell.
TEST_F(ProducerAndSleeper, AnUrgentSendWakesASleepingTargetWithoutAFlush) {
  Start();
  WaitUntilParked(1);
  ASSERT_TRUE(producer().SendUrgent(ShardId(1), {0, 9}).ok());
  ASSERT_TRUE(WaitUntil([&] { return receiver_.received.load() == 1; }));
  EXPECT_EQ(receiver_.last_value.load(), 9u);
  EXPECT_EQ(mesh_->Stats(ShardId(0)).doorbells_sent, 1u);
  EXPECT_EQ(mesh_->Stats(ShardId(0)).urgent_sent, 1u);
}

// A nudge to a sleeping shard rings it (with the next Flush), once.
TEST_F(ProducerAndSleeper, ANudgeRingsASleepingTargetOnce) {
  Start();
  WaitUntilParked(1);
  const uint64_t polls_before = receiver_.received.load();
  EXPECT_EQ(producer().Nudge(ShardId(1)), Endpoint::Nudged::kRang);
  EXPECT_EQ(producer().Nudge(ShardId(1)), Endpoint::Nudged::kPending);
  ASSERT_TRUE(producer().Flush().ok());
  EXPECT_EQ(mesh_->Stats(ShardId(0)).doorbells_sent, 1u);
  WaitUntilParked(2);  // it woke, looked, and went back to sleep
  EXPECT_EQ(receiver_.received.load(), polls_before);
}

// Past its first few microseconds the idle poll yields the CPU between
// looks (so a thread waiting for that CPU runs), and still catches work
// without sleeping.
TEST_F(ProducerAndSleeper, TheIdlePollYieldsTheCpuAndStillCatchesWork) {
  MeshOptions o;
  o.idle_spin = absl::Seconds(1);  // the whole test happens inside the window
  Start(o);
  ASSERT_TRUE(WaitUntil(
      [&] { return mesh_->Stats(ShardId(1)).idle_yields >= 3; }));
  ASSERT_TRUE(producer().Send(ShardId(1), {0, 5}).ok());
  ASSERT_TRUE(producer().Flush().ok());
  ASSERT_TRUE(WaitUntil([&] { return receiver_.received.load() == 1; }));
  EXPECT_EQ(receiver_.last_value.load(), 5u);
  EXPECT_EQ(mesh_->Stats(ShardId(1)).sleeps, 0u);  // caught while polling
  EXPECT_EQ(mesh_->Stats(ShardId(0)).doorbells_sent, 0u);
}

// The premise is a shard that stays asleep for seconds: the 2 s wait below is
// what is being tested (no periodic or spurious wake-ups), not a way to
// synchronize; every step that depends on another thread waits on an event.
TEST_F(ProducerAndSleeper, ATargetAsleepForSecondsWakesOnOneMessage) {
  Start();
  WaitUntilParked(1);
  const uint64_t sleeps = mesh_->Stats(ShardId(1)).sleeps;
  absl::SleepFor(absl::Seconds(2));  // the premise: asleep for seconds
  EXPECT_EQ(mesh_->Stats(ShardId(1)).sleeps, sleeps);  // never woke meanwhile
  EXPECT_TRUE(ThreadIsSleeping(tid_));
  ASSERT_TRUE(producer().Send(ShardId(1), {0, 99}).ok());
  ASSERT_TRUE(producer().Flush().ok());
  ASSERT_TRUE(WaitUntil([&] { return receiver_.received.load() == 1; }));
  EXPECT_EQ(receiver_.last_value.load(), 99u);
  EXPECT_EQ(mesh_->Stats(ShardId(0)).doorbells_sent, 1u);
}

TEST_F(ProducerAndSleeper, AFailedDoorbellIsReRungAndTheMessageArrives) {
  Start();
  WaitUntilParked(1);
  producer().FailNextDoorbellsForTest(1);
  ASSERT_TRUE(producer().Send(ShardId(1), {0, 5}).ok());
  ASSERT_TRUE(producer().Flush().ok());
  // The kernel failed that MSG_RING at submit; the target still sleeps.
  EXPECT_EQ(receiver_.received.load(), 0u);
  EXPECT_TRUE(ThreadIsSleeping(tid_));
  CountingReceiver mine;
  ASSERT_TRUE(WaitUntil([&] {
    producer().Poll(mine, 16);  // reaps the error CQE, which re-rings
    (void)producer().Flush();   // submits the new doorbell
    return receiver_.received.load() == 1;
  }));
  const TransportStats s = mesh_->Stats(ShardId(0));
  EXPECT_EQ(s.doorbell_failures, 1u);
  EXPECT_EQ(s.doorbells_sent, 2u);
}

// A producer that met a full lane parks; the consumer's drain must wake it
// (a lost "room again" wake would leave it asleep with work to send).
TEST(MeshThreadsTest, AProducerParkedOnAFullLaneIsWokenWhenRoomFrees) {
  MeshOptions o;
  o.lane_capacity = 8;
  o.idle_spin = absl::ZeroDuration();
  auto mesh = MakeMesh(o);
  constexpr uint64_t kCount = 1000;
  std::atomic<uint64_t> sent{0};
  ShardThread producer(*mesh, ShardId(0), [&](Endpoint& ep) {
    CountingReceiver none;
    while (sent.load() < kCount) {
      while (sent.load() < kCount && ep.Send(ShardId(1), {0, sent.load()}).ok()) {
        sent.fetch_add(1);
      }
      const size_t handled = ep.Poll(none, 16);
      (void)ep.Flush();
      // Blocked and idle: sleep until the consumer rings "room again". (A
      // non-zero Poll may be that very wake request: retry before parking.)
      if (handled == 0 && sent.load() < kCount) (void)ep.Park();
    }
    (void)ep.Flush();
  });
  const pid_t tid = producer.WaitAttached();
  auto ring = io::Ring::Create();
  ASSERT_TRUE(ring.ok());
  Endpoint& consumer = mesh->endpoint(ShardId(1));
  ASSERT_TRUE(consumer.Attach(ring->get()).ok());
  // The producer fills the lane and goes to sleep in the kernel.
  ASSERT_TRUE(WaitUntil([&] {
    return mesh->Stats(ShardId(0)).sleeps >= 1 && ThreadIsSleeping(tid);
  }));
  EXPECT_EQ(sent.load(), 8u);
  CountingReceiver r;
  ASSERT_TRUE(WaitUntil([&] {
    consumer.Poll(r, 4);  // small batches: many "room again" wakes
    (void)consumer.Flush();
    return r.received.load() == kCount;
  }));
  EXPECT_TRUE(producer.Join().ok());
  EXPECT_GE(mesh->Stats(ShardId(1)).doorbells_sent, 1u);
  EXPECT_GE(mesh->Stats(ShardId(0)).backpressure, 1u);
  EXPECT_TRUE(consumer.Detach().ok());
}

TEST(MeshThreadsTest, ABusyTargetCostsNoDoorbells) {
  MeshOptions o;
  auto mesh = MakeMesh(o);
  std::atomic<bool> stop{false};
  CountingReceiver receiver;
  // A target that polls and never parks: it never raises `sleeping`.
  ShardThread target(*mesh, ShardId(1), [&](Endpoint& ep) {
    while (!stop.load()) {
      if (ep.Poll(receiver, 1024) == 0) std::this_thread::yield();
    }
  });
  target.WaitAttached();
  auto ring = io::Ring::Create();
  ASSERT_TRUE(ring.ok());
  Endpoint& producer = mesh->endpoint(ShardId(0));
  ASSERT_TRUE(producer.Attach(ring->get()).ok());
  constexpr int kBatches = 1000;
  for (int b = 0; b < kBatches; ++b) {
    for (int i = 0; i < 10; ++i) {
      while (!producer.Send(ShardId(1), {0, 1}).ok()) std::this_thread::yield();
    }
    ASSERT_TRUE(producer.Flush().ok());
  }
  ASSERT_TRUE(WaitUntil([&] { return receiver.received.load() == 10 * kBatches; }));
  stop = true;
  EXPECT_TRUE(target.Join().ok());
  const TransportStats s = mesh->Stats(ShardId(0));
  EXPECT_EQ(s.doorbells_sent, 0u);
  EXPECT_GE(s.doorbells_suppressed, static_cast<uint64_t>(kBatches));
  EXPECT_TRUE(producer.Detach().ok());
}

TEST(MeshThreadsTest, IdleShardsSleepInTheKernel) {
  MeshOptions o;
  auto mesh = MakeMesh(o);
  std::atomic<bool> stop{false};
  CountingReceiver r0, r1;
  ShardThread s0(*mesh, ShardId(0), [&](Endpoint& ep) { RunLoop(ep, r0, stop); });
  ShardThread s1(*mesh, ShardId(1), [&](Endpoint& ep) { RunLoop(ep, r1, stop); });
  const pid_t t0 = s0.WaitAttached(), t1 = s1.WaitAttached();
  EXPECT_TRUE(WaitUntil([&] {
    return mesh->TotalStats().sleeps >= 2 && ThreadIsSleeping(t0) &&
           ThreadIsSleeping(t1);
  }));
  stop = true;
  ASSERT_TRUE(mesh->Wake(ShardId(0)).ok());
  ASSERT_TRUE(mesh->Wake(ShardId(1)).ok());
  EXPECT_TRUE(s0.Join().ok());
  EXPECT_TRUE(s1.Join().ok());
}

// One shard, woken by foreign threads in the parameter's way.
class ForeignInboxTest : public ::testing::TestWithParam<ForeignWake> {
 protected:
  // Creates the one-shard mesh, starts its shard with a new R as its
  // receiver (owned here, so it outlives the shard) and waits until it
  // sleeps in the kernel. Skips the test when the kernel lacks the wake
  // mode; the caller returns when IsSkipped() or HasFatalFailure().
  template <typename R>
  R& StartAsleep(uint32_t inbox_capacity) {
    auto receiver = std::make_shared<R>();
    receiver_ = receiver;
    Start(inbox_capacity, *receiver);
    return *receiver;
  }
  void Start(uint32_t inbox_capacity, Receiver& receiver) {
    MeshOptions o;
    o.num_shards = 1;
    o.inbox_capacity = inbox_capacity;
    o.foreign_wake = GetParam();
    mesh_ = MakeMesh(o);
    ASSERT_NE(mesh_, nullptr);
    shard_ = std::make_unique<ShardThread>(
        *mesh_, ShardId(0),
        [this, &receiver](Endpoint& ep) { RunLoop(ep, receiver, stop_); });
    tid_ = shard_->WaitAttached();
    if (GetParam() == ForeignWake::kSendMsgRing &&
        !WaitUntil([&] { return mesh_->TotalStats().sleeps >= 1; },
                   absl::Seconds(5))) {
      // Attach refuses kSendMsgRing on kernels without it.
      stop_ = true;
      const absl::Status attached = shard_->Join();
      shard_.reset();
      if (attached.code() == absl::StatusCode::kUnimplemented) {
        GTEST_SKIP() << attached;
      }
      FAIL() << "the shard never slept: " << attached;
    }
    ASSERT_TRUE(WaitUntil([&] {
      return mesh_->TotalStats().sleeps >= 1 && ThreadIsSleeping(tid_);
    }));
  }
  void TearDown() override {
    if (shard_ == nullptr) return;
    stop_ = true;
    EXPECT_TRUE(mesh_->Wake(ShardId(0)).ok());
    EXPECT_TRUE(shard_->Join().ok());  // Detach cancels an armed eventfd read
  }

  std::unique_ptr<Mesh> mesh_;
  std::shared_ptr<void> receiver_;  // a Receiver, of the test's type
  std::atomic<bool> stop_{false};
  std::unique_ptr<ShardThread> shard_;  // stopped before the others go
  pid_t tid_ = 0;
};

TEST_P(ForeignInboxTest, EightForeignThreadsIntoOneSleepingShard) {
  constexpr int kThreads = 8;
  constexpr uint64_t kPerThread = 20'000;
  struct Checker final : Receiver {
    uint64_t next[kThreads] = {};  // per foreign thread
    std::atomic<uint64_t> received{0};
    std::atomic<bool> ok{true};
    void OnEnvelopes(ShardId from, const Envelope* e, size_t n) override {
      for (size_t i = 0; i < n; ++i) {
        if (from != kForeignShard || e[i].value != next[e[i].tag]) ok = false;
        ++next[e[i].tag];
      }
      received.fetch_add(n);
    }
    void OnWord(uint32_t, uint64_t) override {}
  };
  // A small inbox, so producers meet backpressure.
  Checker& checker = StartAsleep<Checker>(/*inbox_capacity=*/64);
  if (IsSkipped() || HasFatalFailure()) return;
  std::atomic<uint64_t> refused{0};
  std::vector<std::thread> foreign;
  for (int t = 0; t < kThreads; ++t) {
    foreign.emplace_back([&, t] {
      for (uint64_t i = 0; i < kPerThread;) {
        absl::Status s =
            mesh_->Inject(ShardId(0), {static_cast<uint64_t>(t), i});
        if (s.ok()) {
          ++i;
        } else {
          ASSERT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
          refused.fetch_add(1);
          std::this_thread::yield();
        }
      }
    });
  }
  for (auto& t : foreign) t.join();
  ASSERT_TRUE(WaitUntil(
      [&] { return checker.received.load() == kThreads * kPerThread; }));
  EXPECT_TRUE(checker.ok.load());
  const TransportStats s = mesh_->TotalStats();
  EXPECT_EQ(s.inbox_enqueued, kThreads * kPerThread);
  EXPECT_EQ(s.inbox_backpressure, refused.load());
  EXPECT_GE(s.foreign_wakes, 1u);
}

// A wake-up the kernel refuses must not make Inject disown an envelope it
// queued (its caller would free what the shard then reads): Inject answers
// OK, counts the failure, and the next producer's wake rings the shard.
TEST_P(ForeignInboxTest, ARefusedWakeLosesNothingAndTheNextProducerRings) {
  CountingReceiver& receiver = StartAsleep<CountingReceiver>(64);
  if (IsSkipped() || HasFatalFailure()) return;
  mesh_->endpoint(ShardId(0)).FailNextForeignWakeForTest();
  EXPECT_TRUE(mesh_->Inject(ShardId(0), {0, 1}).ok());
  EXPECT_EQ(mesh_->Stats(ShardId(0)).foreign_wake_failures, 1u);
  EXPECT_EQ(mesh_->Stats(ShardId(0)).inbox_enqueued, 1u);
  // Nobody woke it: still asleep, the envelope waiting in the inbox.
  EXPECT_TRUE(ThreadIsSleeping(tid_));
  EXPECT_EQ(receiver.received.load(), 0u);
  ASSERT_TRUE(mesh_->Inject(ShardId(0), {0, 2}).ok());
  ASSERT_TRUE(WaitUntil([&] { return receiver.received.load() == 2; }));
  EXPECT_EQ(receiver.last_value.load(), 2u);
  EXPECT_EQ(mesh_->Stats(ShardId(0)).foreign_wakes, 2u);
}

INSTANTIATE_TEST_SUITE_P(Wakes, ForeignInboxTest,
                         ::testing::Values(ForeignWake::kSendMsgRing,
                                           ForeignWake::kEventfd),
                         [](const auto& info) {
                           return info.param == ForeignWake::kEventfd
                                      ? std::string("Eventfd")
                                      : std::string("SendMsgRing");
                         });

}  // namespace
}  // namespace ringactor::transport
