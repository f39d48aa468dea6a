// Tests of backpressure between shards: replies are never refused behind a
// full lane, and flow control holds a sender at lane_capacity +
// backlog_capacity messages not yet handled and sent home. Synchronization
// is by events; deadlines are hang guards.

#include <atomic>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "actors/actor_system.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "scheduler/notification.h"
#include "tests/actors/actor_test_util.h"
#include "tests/actors/test_messages.pb.h"
#include "tests/testing/actor_testing.h"
#include "tests/testing/shard_thread.h"

namespace ringactor {
namespace {

using ::ringactor::testing::GetTotalRetrying;
using ::ringactor::testing::kHangGuard;
using ::ringactor::testing::kShard0;
using ::ringactor::testing::kShard1;
using ::ringactor::testing::MakeAdd;
using ::ringactor::testing::MakeSystem;
using ::ringactor::testing::WaitUntil;
using ::ringactor::testing::YieldUntil;
using ::testing::HasSubstr;
using test::Add;
using test::Flood;
using test::Get;
using test::Snooze;
using test::Total;

// Replies never wait behind requests: with requests refused (full lane, no
// backlog), a reply on the same lane still gets through.
std::atomic<bool> shard0_blocked{false};
std::atomic<bool> release_shard0{false};
std::atomic<bool> flood_done{false};

class Sink : public Actor {
 public:
  void Handle(const Add& m) { total_ += m.delta(); }
  Total Handle(const Get&) {
    Total t;
    t.set_value(total_);
    return t;
  }
  // Blocks its shard's thread (only to create a full lane in this test).
  Task<void> Handle(const Snooze&) {
    co_await Sleep(absl::Milliseconds(1));  // a turn later: lanes flushed
    shard0_blocked = true;
    WaitUntil([] { return release_shard0.load(); });
  }

 private:
  int64_t total_ = 0;
};

class Flooder : public Actor {
 public:
  explicit Flooder(ActorRef<Sink>* sink) : sink_(sink) {}
  Task<absl::StatusOr<Total>> Handle(const Flood&) {
    if (!co_await YieldUntil([] { return shard0_blocked.load(); })) {
      co_return absl::DeadlineExceededError("shard 0 never blocked");
    }
    int64_t accepted = 0;
    for (int i = 0; i < 1000000; ++i) {
      absl::Status s = sink_->Tell(MakeAdd(1));
      if (absl::IsResourceExhausted(s)) break;
      ++accepted;
    }
    refused_ = true;
    Total t;
    t.set_value(accepted);
    flood_done = true;
    co_return t;  // the reply meets the same full lane
  }
  bool refused_ = false;

 private:
  ActorRef<Sink>* sink_;
};

TEST(BackpressureTest, RepliesAreNeverRefusedBehindAFullLane) {
  ActorSystemOptions o;
  o.lane_capacity = 2;
  o.backlog_capacity = 0;  // a request meeting a full lane is refused
  auto sys = MakeSystem(o);
  ActorRef<Sink> sink_ref;
  auto sink = sys->Spawn<Sink>(SpawnOptions{Pinned{kShard0}});
  auto flooder =
      sys->Spawn<Flooder>(SpawnOptions{Pinned{kShard1}}, &sink_ref);
  ASSERT_TRUE(sink.ok() && flooder.ok());
  sink_ref = *sink;
  scheduler::Notification replied;
  absl::StatusOr<Total> reply;
  ASSERT_TRUE(sys->RunOn(kShard0, [&, f = *flooder, s = *sink]() -> Task<void> {
                    auto ask = [](ActorRef<Flooder> f, absl::StatusOr<Total>* out,
                                  scheduler::Notification* n) -> Task<void> {
                      *out = co_await f.Ask(Flood(), kHangGuard);
                      n->Notify();
                    };
                    scheduler::Shard::Current()->Start(ask(f, &reply, &replied));
                    EXPECT_TRUE(s.Tell(Snooze()).ok());  // blocks shard 0 soon
                    co_return;
                  })
                  .ok());
  ASSERT_TRUE(WaitUntil([] { return flood_done.load(); }));
  release_shard0 = true;
  ASSERT_TRUE(replied.WaitForNotificationWithTimeout(kHangGuard));
  ASSERT_TRUE(reply.ok()) << reply.status();
  const int64_t accepted = reply->value();
  EXPECT_GE(accepted, 1);
  EXPECT_LT(accepted, 1000000);  // the lane really was full
  // Nothing accepted was lost. (With no backlog, this request too may meet
  // a full lane and be refused until shard 0 drains: retry.)
  absl::StatusOr<int64_t> total = GetTotalRetrying(*sys, *sink, kShard1);
  ASSERT_TRUE(total.ok()) << total.status();
  EXPECT_EQ(*total, accepted);
}

// A sender runs at most lane_capacity + backlog_capacity messages ahead of
// what the target shard has handled and sent home, even when the target
// takes every message off the lane at once (into the mailbox of an actor
// that is busy): remote senders cannot grow a mailbox, or the returns on
// their way home, without bound.
std::atomic<bool> holder_open{false};

class Holder : public Actor {
 public:
  // Holds the mailbox (a suspended handler, non-reentrant) until opened.
  Task<void> Handle(const Snooze&) {
    while (!holder_open.load()) co_await Sleep(absl::Microseconds(200));
  }
  void Handle(const Add& m) { total_ += m.delta(); }
  Total Handle(const Get&) {
    Total t;
    t.set_value(total_);
    return t;
  }

 private:
  int64_t total_ = 0;
};

TEST(BackpressureTest, ASenderStopsAtTheCapOfMessagesNotYetSentHome) {
  holder_open = false;
  ActorSystemOptions o;
  o.lane_capacity = 4;
  o.backlog_capacity = 8;  // the cap: 12 messages away from shard 0
  auto sys = MakeSystem(o);
  auto holder = sys->Spawn<Holder>(SpawnOptions{Pinned{kShard1}});
  ASSERT_TRUE(holder.ok());
  ActorSystem* system = sys.get();
  const auto depth = [system] {
    return system->Stats().shards[1].actors.mailbox_depth;
  };
  absl::Status refusal;
  absl::StatusOr<int64_t> accepted = sys->RunOn(
      kShard0, [&, h = *holder]() -> Task<absl::StatusOr<int64_t>> {
        absl::Status s = h.Tell(Snooze());
        if (!s.ok()) co_return s;
        int64_t n = 1;  // messages accepted
        for (; n < 1000; ++n) {
          s = h.Tell(MakeAdd(1));
          if (absl::IsResourceExhausted(s)) break;
          if (!s.ok()) co_return s;
          // Shard 1 takes each Add off the lane into the held mailbox: the
          // lane and the backlog stay empty.
          if (!co_await YieldUntil(
                  [&] { return depth() == static_cast<uint64_t>(n); })) {
            co_return absl::DeadlineExceededError("the Add never arrived");
          }
        }
        refusal = s;
        co_return n;
      });
  ASSERT_TRUE(accepted.ok()) << accepted.status();
  EXPECT_EQ(*accepted, 12);  // the Snooze and 11 Adds
  EXPECT_THAT(refusal.message(), HasSubstr("not yet handled"));
  EXPECT_EQ(sys->Stats().shards[0].flow_control_refusals, 1u);
  // Once the holder has handled them and they came home, sends pass again.
  holder_open = true;
  absl::StatusOr<int64_t> total = GetTotalRetrying(*sys, *holder, kShard0);
  ASSERT_TRUE(total.ok()) << total.status();
  EXPECT_EQ(*total, 11);
}

}  // namespace
}  // namespace ringactor
