// Tests of the mailbox fast lanes: counter lanes (exact totals, threshold,
// first-after-zero and max-delay wakes), hot messages (overtaking a 10,000
// deep backlog, not starving ordinary mail) and coalesced hot messages
// (merged on the sender and at ingest, never overflowing). Synchronized by
// events and message order; no sleeps.

#include <atomic>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "actors/actor_system.h"
#include "gtest/gtest.h"
#include "tests/actors/actor_test_util.h"
#include "tests/actors/test_messages.pb.h"
#include "tests/testing/actor_testing.h"
#include "tests/testing/shard_thread.h"

namespace ringactor {
namespace {

using ::ringactor::testing::kHangGuard;
using ::ringactor::testing::TellRetrying;
using ::ringactor::testing::WaitUntil;
using ::ringactor::testing::YieldUntil;
using test::Alert;
using test::Credit;
using test::Get;
using test::Ping;
using test::Report;

using test::Snooze;

constexpr ShardId kShard0(0);
constexpr ShardId kShard1(1);
constexpr uint32_t kCounter = 7;

std::atomic<bool> gate{false};
std::atomic<bool> owner_blocked{false};
std::atomic<int> wakes_seen{0};


// Owns a counter, hot Alerts and coalesced Credits. A Snooze holds it (its
// mailbox) until `gate` opens, so messages pile up behind it.
template <bool kTake, int64_t kThreshold, int64_t kDelayMs>
class OwnerT : public Actor {
 public:
  using HotMessages = MessageList<Alert>;
  using CoalescedMessages = MessageList<Credit>;
  static constexpr int64_t kCountWakeThreshold = kThreshold;
  static constexpr absl::Duration kCountMaxDelay = absl::Milliseconds(kDelayMs);

  static bool Merge(Credit& into, const Credit& from) {
    int64_t sum;
    if (__builtin_add_overflow(into.amount(), from.amount(), &sum)) return false;
    into.set_amount(sum);
    return true;
  }

  Task<void> Handle(const Snooze&) {
    owner_blocked = true;
    co_await YieldUntil([] { return gate.load(); });
  }
  void Handle(const Credit& c) {
    if (__builtin_add_overflow(credits_, c.amount(), &credits_)) {
      credits_ = std::numeric_limits<int64_t>::max();
    }
    ++credit_messages_;
    ++handled_;
  }
  void Handle(const Alert&) {
    if (alert_position_ < 0) alert_position_ = handled_;
    ++handled_;
  }
  void Handle(const Ping&) {
    if (ping_position_ < 0) ping_position_ = handled_;
    ++handled_;
  }
  Report Handle(const Get&) {
    Report r;
    r.set_credits(credits_);
    r.set_credit_messages(credit_messages_);
    r.set_counted(counted_ + PeekCount(kCounter));
    for (int64_t w : wakes_) r.add_wakes(w);
    r.set_alert_position(alert_position_);
    r.set_ping_position(ping_position_);
    r.set_handled(handled_);
    return r;
  }
  void OnCount(uint32_t counter) override {
    wakes_.push_back(PeekCount(counter));
    if (kTake) counted_ += TakeCount(counter);
    wakes_seen.fetch_add(1);
  }

 private:
  int64_t credits_ = 0, credit_messages_ = 0, counted_ = 0, handled_ = 0;
  int64_t alert_position_ = -1, ping_position_ = -1;
  std::vector<int64_t> wakes_;
};

using Owner = OwnerT<true, 1024, 1>;

// Counts `Flood::count` increments into its owner's counter lane, yielding
// now and then so the senders on one shard interleave over many turns.
class Counting : public Actor {
 public:
  explicit Counting(ActorRef<Owner> owner) : owner_(owner) {}
  Task<absl::Status> Handle(const test::Flood& f) {
    for (int64_t i = 0; i < f.count(); ++i) {
      absl::Status s = owner_.Count(kCounter, 1);
      if (!s.ok()) co_return s;
      if ((i & 4095) == 0) co_await Yield();
    }
    co_return absl::OkStatus();
  }

 private:
  ActorRef<Owner> owner_;
};

class FastLaneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    gate = false;
    owner_blocked = false;
    wakes_seen = 0;
    ActorSystemOptions o;
    o.num_shards = 2;
    // Flow control: room for a 10,000-deep backlog from shard 0 at a held
    // owner (by default a shard runs at most 4,096 messages ahead).
    o.backlog_capacity = 16384;
    auto sys = ActorSystem::Create(o);
    ASSERT_TRUE(sys.ok()) << sys.status();
    sys_ = *std::move(sys);
  }
  template <typename O>
  Report GetReport(const ActorRef<O>& owner, ShardId from = kShard0) {
    absl::StatusOr<Report> r =
        sys_->RunOn(from, [owner]() -> Task<absl::StatusOr<Report>> {
          co_return co_await owner.Ask(Get(), kHangGuard);
        });
    EXPECT_TRUE(r.ok()) << r.status();
    return r.value_or(Report());
  }
  // Holds `owner`'s mailbox (a Snooze) until `gate` opens. Hot messages
  // travel as direct words and may overtake a Snooze sent in the same turn,
  // so this waits until the owner is really held.
  template <typename O>
  void Block(const ActorRef<O>& owner) {
    ASSERT_TRUE(sys_->RunOn(kShard0, [owner]() -> Task<absl::Status> {
                      co_return owner.Tell(Snooze());
                    }).ok());
    ASSERT_TRUE(WaitUntil([] { return owner_blocked.load(); }));
  }
  template <typename O, typename F>
  void OnShard(ShardId shard, const ActorRef<O>& owner, F body) {
    ASSERT_TRUE(sys_->RunOn(shard, [owner, body]() -> Task<absl::Status> {
                      co_return body(owner);
                    }).ok());
  }
  std::unique_ptr<ActorSystem> sys_;
};

TEST_F(FastLaneTest, CounterLanesKeepExactTotals) {
  auto owner = sys_->Spawn<Owner>(SpawnOptions{Pinned{kShard1}});
  ASSERT_TRUE(owner.ok());
  constexpr int64_t kTotal = 10'000'000;
  constexpr int kSendersPerShard = 4;
  std::vector<ActorRef<Counting>> senders[2];
  for (int shard = 0; shard < 2; ++shard) {
    for (int k = 0; k < kSendersPerShard; ++k) {
      auto c = sys_->Spawn<Counting>(SpawnOptions{Pinned{ShardId(shard)}},
                                     *owner);
      ASSERT_TRUE(c.ok());
      senders[shard].push_back(*c);
    }
  }
  test::Flood flood;
  flood.set_count(kTotal / (2 * kSendersPerShard));
  std::vector<std::thread> drivers;
  for (int shard = 0; shard < 2; ++shard) {
    drivers.emplace_back([&, shard] {
      absl::Status s = sys_->RunOn(
          ShardId(shard), [&, shard]() -> Task<absl::Status> {
            // All of this shard's senders at once.
            for (const absl::Status& r :
                 co_await AskAll(senders[shard], flood, kHangGuard)) {
              if (!r.ok()) co_return r;
            }
            co_return absl::OkStatus();
          });
      EXPECT_TRUE(s.ok()) << s;
    });
  }
  for (auto& t : drivers) t.join();
  // Updates from shard 0 were submitted before this Ask leaves shard 0.
  Report r = GetReport(*owner, kShard0);
  EXPECT_EQ(r.counted(), kTotal);
  SystemStats st = sys_->Stats();
  EXPECT_EQ(st.total.count_updates, uint64_t{kTotal});
  // Coalescing: far fewer updates travelled than were made.
  EXPECT_LT(st.total.count_envelopes * 100, st.total.count_updates);
  EXPECT_GE(st.total.count_wakes, 1u);
}

TEST_F(FastLaneTest, FirstAfterZeroAndThresholdWake) {
  using O = OwnerT<false, 100, 3'600'000>;  // no max-delay wakes here
  auto owner = sys_->Spawn<O>(SpawnOptions{Pinned{kShard1}});
  ASSERT_TRUE(owner.ok());
  auto count = [&](int64_t n) {
    OnShard(kShard0, *owner, [n](const ActorRef<O>& o) { return o.Count(kCounter, n); });
  };
  count(1);  // first update after zero: always wakes
  EXPECT_EQ(GetReport(*owner).wakes_size(), 1);
  count(98);  // 99 < 100: no wake
  Report r = GetReport(*owner);
  ASSERT_EQ(r.wakes_size(), 1);
  EXPECT_EQ(r.wakes(0), 1);
  count(1);  // crosses 100
  r = GetReport(*owner);
  ASSERT_EQ(r.wakes_size(), 2);
  EXPECT_EQ(r.wakes(1), 100);
  EXPECT_EQ(r.counted(), 100);
}

TEST_F(FastLaneTest, MaxDelayDeliversBelowTheThreshold) {
  using O = OwnerT<false, 1'000'000'000, 5>;
  auto owner = sys_->Spawn<O>(SpawnOptions{Pinned{kShard1}});
  ASSERT_TRUE(owner.ok());
  OnShard(kShard0, *owner, [](const ActorRef<O>& o) { return o.Count(kCounter, 1); });
  ASSERT_TRUE(WaitUntil([] { return wakes_seen.load() == 1; }));
  OnShard(kShard0, *owner, [](const ActorRef<O>& o) { return o.Count(kCounter, 5); });
  // Not the first after zero, far below the threshold: only the max delay
  // can wake it.
  ASSERT_TRUE(WaitUntil([] { return wakes_seen.load() == 2; }));
  Report r = GetReport(*owner);
  ASSERT_EQ(r.wakes_size(), 2);
  EXPECT_EQ(r.wakes(1), 6);
}

TEST_F(FastLaneTest, HotMessagesOvertakeATenThousandDeepBacklog) {
  auto owner = sys_->Spawn<Owner>(SpawnOptions{Pinned{kShard1}});
  ASSERT_TRUE(owner.ok());
  Block(*owner);
  ASSERT_TRUE(sys_->RunOn(kShard0, [o = *owner]() -> Task<absl::Status> {
                    absl::Status s;
                    for (int i = 0; i < 10000 && s.ok(); ++i) {
                      Ping p;
                      p.set_seq(i);
                      s = co_await TellRetrying(o, p);
                    }
                    if (s.ok()) s = o.Tell(Alert());
                    co_return s;
                  }).ok());
  // The alert is waiting in the hot queue, ahead of the pings.
  ASSERT_TRUE(WaitUntil([&] { return sys_->Stats().total.hot_depth == 1; }));
  gate = true;
  Report r = GetReport(*owner, kShard0);  // after the 10,000 pings (FIFO)
  EXPECT_EQ(r.handled(), 10001);
  EXPECT_EQ(r.alert_position(), 0);
  EXPECT_EQ(r.ping_position(), 1);
}

TEST_F(FastLaneTest, AHotFloodDoesNotStarveOrdinaryMail) {
  auto owner = sys_->Spawn<Owner>(SpawnOptions{Pinned{kShard1}});
  ASSERT_TRUE(owner.ok());
  Block(*owner);
  ASSERT_TRUE(sys_->RunOn(kShard0, [o = *owner]() -> Task<absl::Status> {
                    absl::Status s = o.Tell(Ping());
                    for (int i = 0; i < 1000 && s.ok(); ++i) s = o.Tell(Alert());
                    co_return s;
                  }).ok());
  // The ping (a lane) may still be on its way: wait for all of it.
  ASSERT_TRUE(WaitUntil([&] {
    SystemStats st = sys_->Stats();
    return st.total.hot_depth == 1000 && st.total.mailbox_depth == 1;
  }));
  gate = true;
  ASSERT_TRUE(WaitUntil([&] {
    SystemStats st = sys_->Stats();
    return st.total.hot_depth == 0 && st.total.mailbox_depth == 0;
  }));
  Report r = GetReport(*owner, kShard0);
  EXPECT_EQ(r.handled(), 1001);
  EXPECT_EQ(r.alert_position(), 0);
  // One batch of hot messages at most, then the ordinary one gets its turn.
  EXPECT_GT(r.ping_position(), 0);
  EXPECT_LT(r.ping_position(), 100);
}

TEST_F(FastLaneTest, CoalescedMessagesMergeOnSendAndAtIngest) {
  auto owner = sys_->Spawn<Owner>(SpawnOptions{Pinned{kShard1}});
  ASSERT_TRUE(owner.ok());
  auto credits = [&](int n, int64_t amount) {
    OnShard(kShard0, *owner, [n, amount](const ActorRef<Owner>& o) {
      absl::Status s;
      Credit c;
      c.set_amount(amount);
      for (int i = 0; i < n && s.ok(); ++i) s = o.Tell(c);
      return s;
    });
  };
  Block(*owner);
  credits(1000, 1);  // one turn: merged on the sending shard
  ASSERT_TRUE(WaitUntil([&] { return sys_->Stats().total.hot_depth == 1; }));
  credits(500, 1);  // a later turn: merged into the waiting one at ingest
  ASSERT_TRUE(WaitUntil([&] {
    return sys_->Stats().total.coalesced_sends == 999 + 499 + 1;
  }));
  gate = true;
  Report r = GetReport(*owner);
  EXPECT_EQ(r.credits(), 1500);
  EXPECT_EQ(r.credit_messages(), 1);
}

TEST_F(FastLaneTest, CoalescingNeverOverflows) {
  auto owner = sys_->Spawn<Owner>(SpawnOptions{Pinned{kShard1}});
  ASSERT_TRUE(owner.ok());
  Block(*owner);
  OnShard(kShard0, *owner, [](const ActorRef<Owner>& o) {
    absl::Status s;
    Credit big;
    big.set_amount(std::numeric_limits<int64_t>::max() - 1);
    Credit two;
    two.set_amount(2);
    if (s.ok()) s = o.Tell(big);
    if (s.ok()) s = o.Tell(two);  // would overflow: stays a separate message
    return s;
  });
  ASSERT_TRUE(WaitUntil([&] { return sys_->Stats().total.hot_depth == 2; }));
  gate = true;
  Report r = GetReport(*owner);
  EXPECT_EQ(r.credit_messages(), 2);
}

TEST_F(FastLaneTest, CounterSumsNeverOverflowSilently) {
  using O = OwnerT<false, 100, 3'600'000>;
  auto owner = sys_->Spawn<O>(SpawnOptions{Pinned{kShard1}});
  ASSERT_TRUE(owner.ok());
  // One turn: the sender's accumulator would overflow, so it ships early.
  OnShard(kShard0, *owner, [](const ActorRef<O>& o) {
    absl::Status s = o.Count(kCounter, std::numeric_limits<int64_t>::max());
    if (s.ok()) s = o.Count(kCounter, 1);
    return s;
  });
  Report r = GetReport(*owner);
  // The receiver's total saturates (and says so) instead of wrapping.
  EXPECT_EQ(r.counted(), std::numeric_limits<int64_t>::max());
  SystemStats st = sys_->Stats();
  EXPECT_EQ(st.total.count_envelopes, 2u);
  EXPECT_EQ(st.total.count_updates, 2u);
  EXPECT_EQ(st.total.count_saturations, 1u);
}

TEST_F(FastLaneTest, CountToAStoppedActorIsADeadLetter) {
  auto owner = sys_->Spawn<Owner>(SpawnOptions{Pinned{kShard1}});
  ASSERT_TRUE(owner.ok());
  ASSERT_TRUE(owner->Stop().ok());
  ASSERT_TRUE(WaitUntil([&] { return !owner->alive(); }));
  absl::Status s = sys_->RunOn(kShard0, [o = *owner]() -> Task<absl::Status> {
    co_return o.Count(kCounter, 1);
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(owner->Count(kCounter, 1).code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace ringactor
