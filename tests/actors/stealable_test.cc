// Tests of stealable (stateless) actors: options and spawn errors, one
// instance per shard, an idle shard stealing while the owner is busy, Asks
// and Boundary calls answered wherever they ran, StealablePreferred, stop,
// failure policies and shutdown. Synchronized by events; no sleeps.

#include <atomic>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "actors/actor_system.h"
#include "actors/boundary.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/actors/actor_test_util.h"
#include "tests/actors/test_messages.pb.h"
#include "tests/testing/actor_testing.h"
#include "tests/testing/shard_thread.h"

namespace ringactor {
namespace {

using ::ringactor::testing::kHangGuard;
using ::ringactor::testing::kShard0;
using ::ringactor::testing::kShard1;
using ::ringactor::testing::MakeAdd;
using ::ringactor::testing::MakeSystem;
using ::ringactor::testing::ThreadIsSleeping;
using ::ringactor::testing::WaitUntil;
using ::testing::HasSubstr;
using test::Add;
using test::Boom;
using test::Get;
using test::Ping;
using test::Total;

std::atomic<int64_t> ran_on[2];
std::atomic<int64_t> added{0};
std::atomic<int> starts{0};
std::atomic<int> stops{0};

void ResetCounters() {
  ran_on[0] = ran_on[1] = 0;
  added = 0;
  starts = stops = 0;
}

// Stateless: every answer depends on the message and the constructor
// argument only.
class Hasher : public Actor {
 public:
  static constexpr bool kStateless = true;
  explicit Hasher(int64_t salt) : salt_(salt) {}
  void OnStart() override { starts.fetch_add(1); }
  void OnStop() override { stops.fetch_add(1); }
  Total Handle(const Ping& m) {
    ran_on[shard().value()].fetch_add(1);
    Total t;
    t.set_value(m.seq() * 2 + salt_);
    return t;
  }
  void Handle(const Add& m) {
    ran_on[shard().value()].fetch_add(1);
    added.fetch_add(m.delta());
  }
  Total Handle(const Boom& m) { throw std::runtime_error(m.what()); }

 private:
  int64_t salt_;
};

// Not declared stateless.
class Stateful : public Actor {
 public:
  void Handle(const Add&) {}
};

// Stateless, but its argument cannot be copied to a second shard.
class Owning : public Actor {
 public:
  static constexpr bool kStateless = true;
  explicit Owning(std::unique_ptr<int> p) : p_(std::move(p)) {}
  void Handle(const Add&) {}

 private:
  std::unique_ptr<int> p_;
};

Ping MakePing(int64_t seq) {
  Ping p;
  p.set_seq(seq);
  return p;
}

struct Outcomes {
  std::atomic<int> ok{0}, not_found{0}, unavailable{0}, other{0};
  int total() const {
    return ok.load() + not_found.load() + unavailable.load() + other.load();
  }
  void Record(const absl::Status& s) {
    if (s.ok()) {
      ok.fetch_add(1);
    } else if (absl::IsNotFound(s)) {
      not_found.fetch_add(1);
    } else if (absl::IsUnavailable(s)) {
      unavailable.fetch_add(1);
    } else {
      other.fetch_add(1);
    }
  }
};

Task<void> AskAndRecord(ActorRef<Hasher> h, int64_t seq, Outcomes* out) {
  absl::StatusOr<Total> r = co_await h.Ask(MakePing(seq), kHangGuard);
  if (r.ok() && r->value() != seq * 2) {
    out->Record(absl::InternalError("wrong answer"));
  } else {
    out->Record(r.status());
  }
}

uint64_t LiveHashers(const ActorSystem& sys) {
  for (const ActorTypeStats& t : sys.Stats().types) {
    if (t.type.find("Hasher") != std::string::npos) {
      return t.counters.live_actors;
    }
  }
  return 0;
}

// `set` makes the options bad; Create must refuse them, naming `field`.
void ExpectRefused(void (*set)(ActorSystemOptions&, uint32_t), uint32_t bad,
                   const char* field) {
  ActorSystemOptions o;
  o.num_shards = 2;
  set(o, bad);
  absl::Status s = ActorSystem::Create(o).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << field << bad;
  EXPECT_THAT(s.message(), HasSubstr(field));
}

TEST(StealableOptionsTest, BadStealOptionsAreRefusedWithAMessage) {
  for (uint32_t bad : {0u, 3u, 1u << 21}) {
    ExpectRefused([](ActorSystemOptions& o, uint32_t v) {
      o.steal_queue_capacity = v;
    }, bad, "steal_queue_capacity");
  }
  for (uint32_t bad : {0u, 65537u}) {
    ExpectRefused([](ActorSystemOptions& o, uint32_t v) {
      o.steal_budget = v;
    }, bad, "steal_budget");
  }
}

TEST(StealableSpawnTest, BadSpawnsAreRefusedWithAMessage) {
  auto sys = MakeSystem();
  absl::Status s = sys->Spawn<Stateful>(SpawnOptions{Stealable{}}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("kStateless"));
  s = sys->Spawn<Hasher>(SpawnOptions{StealablePreferred{ShardId(2)}}, 0)
          .status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("out of range"));
  s = sys->Spawn<Owning>(SpawnOptions{Stealable{}}, std::make_unique<int>(1))
          .status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("copyable"));
}

TEST(StealableSpawnTest, OneInstancePerShardAndNoCounterLanes) {
  ResetCounters();
  auto sys = MakeSystem();
  auto h = sys->Spawn<Hasher>(SpawnOptions{Stealable{}}, 0);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_TRUE(h->alive());
  EXPECT_EQ(h->shard(), transport::kForeignShard);
  ASSERT_TRUE(WaitUntil([] { return starts.load() == 2; }));
  EXPECT_EQ(LiveHashers(*sys), 2u);
  EXPECT_EQ(h->Count(1, 1).code(), absl::StatusCode::kFailedPrecondition);
}

// Shard 0 queues N Tells and then keeps its thread busy until shard 1 has
// handled all N: only stealing can get them done.
TEST(StealingTest, AnIdleShardStealsWhileTheOwnerIsBusy) {
  constexpr int64_t kTells = 200;
  ResetCounters();
  auto sys = MakeSystem();
  auto h = sys->Spawn<Hasher>(SpawnOptions{Stealable{}}, 0);
  ASSERT_TRUE(h.ok());
  absl::Status s = sys->RunOn(kShard0, [h = *h]() -> Task<absl::Status> {
    for (int64_t i = 1; i <= kTells; ++i) {
      absl::Status t = h.Tell(MakeAdd(i));
      if (!t.ok()) co_return t;
    }
    if (!WaitUntil([] { return ran_on[1].load() == kTells; })) {
      co_return absl::DeadlineExceededError("nothing was stolen");
    }
    co_return absl::OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(ran_on[0].load(), 0);
  EXPECT_EQ(added.load(), kTells * (kTells + 1) / 2);
  SystemStats stats = sys->Stats();
  EXPECT_EQ(stats.shards[0].steal.pushed, uint64_t{kTells});
  EXPECT_EQ(stats.shards[1].steal.stolen, uint64_t{kTells});
  EXPECT_EQ(stats.shards[0].steal.depth, 0u);
  // Once the work is done, both shards go back to sleep: nudges do not
  // keep anyone spinning.
  for (uint32_t i = 0; i < 2; ++i) {
    const int tid = sys->shard_set().shard(ShardId(i)).tid();
    EXPECT_TRUE(WaitUntil([tid] { return ThreadIsSleeping(tid); }))
        << "shard " << i;
  }
}

TEST(StealingTest, AsksAndBoundaryCallsAreAnsweredWhereverTheyRun) {
  ResetCounters();
  auto sys = MakeSystem();
  auto h = sys->Spawn<Hasher>(SpawnOptions{Stealable{}}, 5);
  ASSERT_TRUE(h.ok());
  constexpr int kAsks = 64;
  absl::StatusOr<int64_t> sum =
      sys->RunOn(kShard0, [h = *h]() -> Task<absl::StatusOr<int64_t>> {
        std::vector<ActorRef<Hasher>> refs(kAsks, h);
        int64_t total = 0;
        for (auto& r : co_await AskAll(refs, MakePing(10), kHangGuard)) {
          if (!r.ok()) co_return r.status();
          total += r->value();
        }
        co_return total;
      });
  ASSERT_TRUE(sum.ok()) << sum.status();
  EXPECT_EQ(*sum, kAsks * 25);
  EXPECT_EQ(ran_on[0].load() + ran_on[1].load(), kAsks);
  // From a thread outside the system: the Boundary and a plain Tell.
  auto r = sys->boundary()->Call(*h, MakePing(7), kHangGuard);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->value(), 19);
  ASSERT_TRUE(h->Tell(MakeAdd(3)).ok());
  EXPECT_TRUE(WaitUntil([] { return added.load() == 3; }));
}

TEST(StealingTest, TheBoundaryRegistryNamesAStealableActor) {
  ResetCounters();
  auto sys = MakeSystem();
  auto h = sys->Spawn<Hasher>(SpawnOptions{Stealable{}}, 1);
  ASSERT_TRUE(h.ok());
  std::shared_ptr<Boundary> b = sys->boundary();
  ASSERT_TRUE(b->Register("hasher", *h, Accepts<Ping>()).ok());
  EXPECT_EQ(b->Register("hasher", *h).code(), absl::StatusCode::kAlreadyExists);
  absl::StatusOr<ActorRef<Hasher>> found = b->Lookup<Hasher>("hasher");
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_TRUE(*found == *h);
  absl::StatusOr<std::string> bytes = b->CallBytes(
      "hasher", "ringactor.test.Ping", MakePing(4).SerializeAsString(),
      kHangGuard);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  Total t;
  ASSERT_TRUE(t.ParseFromString(*bytes));
  EXPECT_EQ(t.value(), 9);
  ASSERT_TRUE(h->Stop().ok());
  EXPECT_EQ(b->Lookup<Hasher>("hasher").status().code(),
            absl::StatusCode::kNotFound);
}

std::atomic<bool> slow_may_finish{false};
std::atomic<bool> slow_suspended{false};

// Stateless, with a coroutine handler that stays suspended until released.
class Waiter : public Actor {
 public:
  static constexpr bool kStateless = true;
  Task<Total> Handle(const test::Snooze&) {
    slow_suspended = true;
    co_await ::ringactor::testing::YieldUntil(
        [] { return slow_may_finish.load(); });
    co_return Total();
  }
  Total Handle(const Get&) { return Total(); }
};

// One shard, so nothing can be stolen: the quick Asks finish while the slow
// handler is suspended only because the instance is reentrant.
TEST(StealingTest, ASuspendedHandlerDoesNotHoldTheInstance) {
  slow_may_finish = false;
  slow_suspended = false;
  ActorSystemOptions o;
  o.num_shards = 1;
  auto sys = MakeSystem(o);
  auto w = sys->Spawn<Waiter>(SpawnOptions{Stealable{}});
  ASSERT_TRUE(w.ok()) << w.status();
  absl::Status s = sys->RunOn(kShard0, [w = *w]() -> Task<absl::Status> {
    test::Snooze snooze;
    auto slow = [](ActorRef<Waiter> w, test::Snooze m) -> Task<void> {
      (void)co_await w.Ask(m, kHangGuard);
    };
    scheduler::Shard::Current()->Start(slow(w, snooze));
    if (!co_await ::ringactor::testing::YieldUntil(
            [] { return slow_suspended.load(); })) {
      co_return absl::DeadlineExceededError("the slow handler never ran");
    }
    for (int i = 0; i < 10; ++i) {
      absl::StatusOr<Total> t = co_await w.Ask(Get(), kHangGuard);
      if (!t.ok()) co_return t.status();
    }
    slow_may_finish = true;
    co_return absl::OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s;
  slow_may_finish = true;
}

TEST(StealingTest, StealablePreferredQueuesOnThePreferredShard) {
  ResetCounters();
  auto sys = MakeSystem();
  auto h = sys->Spawn<Hasher>(SpawnOptions{StealablePreferred{kShard1}}, 0);
  ASSERT_TRUE(h.ok());
  constexpr int64_t kTells = 100;
  absl::Status s = sys->RunOn(kShard0, [h = *h]() -> Task<absl::Status> {
    for (int64_t i = 0; i < kTells; ++i) {
      absl::Status t = h.Tell(MakeAdd(1));
      if (!t.ok()) co_return t;
    }
    co_return absl::OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_TRUE(WaitUntil([] { return added.load() == kTells; }));
  SystemStats stats = sys->Stats();
  EXPECT_EQ(stats.shards[1].steal.pushed, uint64_t{kTells});
  EXPECT_EQ(stats.shards[0].steal.pushed, 0u);
}

std::atomic<bool> hold_released{false};
std::atomic<bool> holding{false};

// Keeps its shard's thread busy until released (so that shard steals
// nothing meanwhile).
class Holder : public Actor {
 public:
  void Handle(const Add&) {
    holding = true;
    WaitUntil([] { return hold_released.load(); });
  }
};

TEST(StealableLifecycleTest, StopStopsEveryInstanceAndResolvesQueuedAsks) {
  ResetCounters();
  hold_released = false;
  holding = false;
  auto sys = MakeSystem();
  auto h = sys->Spawn<Hasher>(SpawnOptions{Stealable{}}, 0);
  auto holder = sys->Spawn<Holder>(SpawnOptions{Pinned{kShard1}});
  ASSERT_TRUE(h.ok() && holder.ok());
  ASSERT_TRUE(WaitUntil([] { return starts.load() == 2; }));
  // Shard 1 is busy, so nothing is stolen: the Asks wait in shard 0's
  // queue, and the Stop comes before shard 0 takes any of them.
  ASSERT_TRUE(holder->Tell(MakeAdd(1)).ok());
  ASSERT_TRUE(WaitUntil([] { return holding.load(); }));
  constexpr int kAsks = 100;
  Outcomes out;
  absl::Status s = sys->RunOn(kShard0, [&, h = *h]() -> Task<absl::Status> {
    for (int i = 0; i < kAsks; ++i) {
      scheduler::Shard::Current()->Start(AskAndRecord(h, i, &out));
    }
    co_return h.Stop();
  });
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_TRUE(WaitUntil([&] { return out.total() == kAsks; }));
  EXPECT_EQ(out.not_found.load(), kAsks);
  EXPECT_FALSE(h->alive());
  EXPECT_EQ(h->Tell(MakeAdd(1)).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(h->Stop().code(), absl::StatusCode::kNotFound);
  hold_released = true;  // shard 1 now stops its instance too
  ASSERT_TRUE(WaitUntil([] { return stops.load() == 2; }));
  EXPECT_EQ(LiveHashers(*sys), 0u);
  EXPECT_EQ(sys->Stats().shards[0].steal.depth, 0u);
}

TEST(StealableLifecycleTest, FailuresFollowThePolicyOnEveryInstance) {
  ResetCounters();
  auto sys = MakeSystem();
  auto restarting = sys->Spawn<Hasher>(SpawnOptions{Stealable{}}, 0);
  auto stopping = sys->Spawn<Hasher>(
      SpawnOptions{Stealable{}, OnFailure::kStop}, 0);
  ASSERT_TRUE(restarting.ok() && stopping.ok());
  ASSERT_TRUE(WaitUntil([] { return starts.load() == 4; }));
  Boom boom;
  boom.set_what("kaput");
  for (auto ref : {*restarting, *stopping}) {
    auto r = sys->boundary()->Call(ref, boom, kHangGuard);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInternal);
    EXPECT_THAT(r.status().message(), HasSubstr("kaput"));
  }
  // kRestart: a fresh instance, the same ref.
  auto again = sys->boundary()->Call(*restarting, MakePing(1), kHangGuard);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->value(), 2);
  EXPECT_GE(sys->Stats().total.restarts, 1u);
  // kStop: the failed instance stops, and with it the other shard's.
  ASSERT_TRUE(WaitUntil([&] { return !stopping->alive(); }));
  EXPECT_EQ(stopping->Tell(MakeAdd(1)).code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(WaitUntil([] { return stops.load() >= 2; }));
  EXPECT_TRUE(restarting->alive());
}

TEST(StealableLifecycleTest, ShutdownResolvesEveryQueuedAsk) {
  ResetCounters();
  auto sys = MakeSystem();
  auto h = sys->Spawn<Hasher>(SpawnOptions{Stealable{}}, 0);
  ASSERT_TRUE(h.ok());
  ASSERT_TRUE(WaitUntil([] { return starts.load() == 2; }));  // OnStop: too
  constexpr int kAsks = 500;
  Outcomes out;
  absl::Status s = sys->RunOn(kShard0, [&, h = *h]() -> Task<void> {
    for (int i = 0; i < kAsks; ++i) {
      scheduler::Shard::Current()->Start(AskAndRecord(h, i, &out));
    }
    co_return;
  });
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_TRUE(sys->Shutdown().ok());
  EXPECT_EQ(out.total(), kAsks);
  EXPECT_EQ(out.ok.load() + out.unavailable.load(), kAsks);
  EXPECT_EQ(h->Tell(MakeAdd(1)).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(stops.load(), 2);
}

}  // namespace
}  // namespace ringactor
