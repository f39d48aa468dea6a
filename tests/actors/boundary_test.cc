// Tests of the Boundary: capacity, deadlines, cancellation, shutdown, the
// named registry and the dynamic (bytes) entry. Waits are on events; every
// deadline here is either the thing under test or a hang guard.

#include "actors/boundary.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "actors/actor_system.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "scheduler/notification.h"
#include "tests/actors/actor_test_util.h"
#include "tests/actors/test_messages.pb.h"
#include "tests/testing/shard_thread.h"

namespace ringactor {
namespace {

using ::ringactor::testing::kHangGuard;
using ::ringactor::testing::MakeAdd;
using ::ringactor::testing::WaitUntil;
using ::testing::HasSubstr;
using test::Add;
using test::Boom;
using test::Get;
using test::Hop;
using test::Ping;
using test::Snooze;
using test::Total;

std::atomic<bool> gate_open{false};
std::atomic<int> gets_handled{0};

// Snooze: holds the actor until `gate_open` (or the request is cancelled /
// its deadline passes). Get: counts and answers. Hop: waits out its own
// deadline and reports what it saw.
class Service : public Actor {
 public:
  Task<Total> Handle(const Snooze&, Context& ctx) {
    while (!gate_open.load() && !ctx.cancelled() && !ctx.expired()) {
      co_await Sleep(absl::Microseconds(200));
    }
    Total t;
    t.set_value(ctx.cancelled() ? -1 : 1);
    co_return t;
  }
  Total Handle(const Get&) {
    gets_handled.fetch_add(1);
    Total t;
    t.set_value(total_);
    return t;
  }
  void Handle(const Add& m) { total_ += m.delta(); }
  Task<absl::StatusOr<Total>> Handle(const Hop&, Context& ctx) {
    if (ctx.deadline() == absl::InfiniteFuture()) {
      co_return absl::FailedPreconditionError("no deadline reached the handler");
    }
    while (!ctx.expired()) co_await Sleep(absl::Milliseconds(1));
    co_return absl::DeadlineExceededError("handler saw its deadline pass");
  }

 private:
  int64_t total_ = 0;
};

class BoundaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    gate_open = false;
    gets_handled = 0;
    ActorSystemOptions o;
    o.num_shards = 2;
    o.boundary_capacity = 5;
    Configure(o);
    auto sys = ActorSystem::Create(o);
    ASSERT_TRUE(sys.ok()) << sys.status();
    sys_ = *std::move(sys);
    boundary_ = sys_->boundary();
    auto svc = sys_->Spawn<Service>(SpawnOptions{Pinned{ShardId(1)}});
    ASSERT_TRUE(svc.ok());
    svc_ = *svc;
  }

  virtual void Configure(ActorSystemOptions&) {}

  std::unique_ptr<ActorSystem> sys_;
  std::shared_ptr<Boundary> boundary_;
  ActorRef<Service> svc_;
};

// Callers that poll for their replies for up to a second.
class BoundarySpinTest : public BoundaryTest {
 protected:
  void Configure(ActorSystemOptions& o) override {
    o.boundary_spin = absl::Seconds(1);
  }
};

TEST_F(BoundaryTest, CallTellAndTheCallbackForm) {
  ASSERT_TRUE(boundary_->Tell(svc_, MakeAdd(3)).ok());
  ASSERT_TRUE(boundary_->Tell(svc_, MakeAdd(4)).ok());
  absl::StatusOr<Total> t = boundary_->Call(svc_, Get(), kHangGuard);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->value(), 7);  // the same thread's Tells came first

  scheduler::Notification done;
  absl::StatusOr<Total> async;
  ASSERT_TRUE(boundary_
                  ->CallAsync(svc_, Get(), kHangGuard,
                              [&](absl::StatusOr<Total> r) {
                                async = std::move(r);
                                done.Notify();
                              })
                  .ok());
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(kHangGuard));
  ASSERT_TRUE(async.ok());
  EXPECT_EQ(async->value(), 7);
  // The request is done just after the callback returns.
  EXPECT_TRUE(WaitUntil([&] { return boundary_->Stats().in_flight == 0; }));
}

TEST_F(BoundaryTest, CapacityIsExactUnderEightRacingThreads) {
  // Every admitted call stays in flight until the gate opens.
  std::atomic<int> admitted{0}, refused{0}, other{0};
  std::vector<std::vector<CallHandle<Total>>> handles(8);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        CallHandle<Total> h = boundary_->CallAsync(svc_, Snooze(), kHangGuard);
        if (h.ready()) {
          absl::StatusOr<Total> r = h.Wait();
          (absl::IsResourceExhausted(r.status()) ? refused : other).fetch_add(1);
        } else {
          admitted.fetch_add(1);
          handles[t].push_back(std::move(h));
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(admitted.load(), 5);
  EXPECT_EQ(refused.load(), 8 * 20 - 5);
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(boundary_->Stats().in_flight, 5u);
  gate_open = true;
  for (auto& v : handles) {
    for (auto& h : v) {
      absl::StatusOr<Total> r = h.Wait();
      ASSERT_TRUE(r.ok()) << r.status();
      EXPECT_EQ(r->value(), 1);
    }
  }
  ASSERT_TRUE(WaitUntil([&] { return boundary_->Stats().in_flight == 0; }));
  // A blocking Call waits for room instead of failing.
  gate_open = false;
  std::vector<CallHandle<Total>> hold;
  for (int i = 0; i < 5; ++i) {
    hold.push_back(boundary_->CallAsync(svc_, Snooze(), kHangGuard));
  }
  std::thread opener([&] {
    WaitUntil([&] { return boundary_->Stats().rejected > 155; });
    gate_open = true;
  });
  EXPECT_EQ(boundary_->TryCall(svc_, Get(), kHangGuard).status().code(),
            absl::StatusCode::kResourceExhausted);
  absl::StatusOr<Total> waited = boundary_->Call(svc_, Get(), kHangGuard);
  opener.join();
  EXPECT_TRUE(waited.ok()) << waited.status();
  for (auto& h : hold) EXPECT_TRUE(h.Wait().ok());
}

TEST_F(BoundaryTest, ARequestWhoseDeadlinePassedIsNotRun) {
  CallHandle<Total> busy = boundary_->CallAsync(svc_, Snooze(), kHangGuard);
  // Queued behind the Snooze; expires while it waits.
  absl::StatusOr<Total> late = boundary_->Call(svc_, Get(), absl::Milliseconds(30));
  EXPECT_EQ(late.status().code(), absl::StatusCode::kDeadlineExceeded);
  gate_open = true;
  ASSERT_TRUE(busy.Wait().ok());
  ASSERT_TRUE(boundary_->Call(svc_, Get(), kHangGuard).ok());
  EXPECT_EQ(gets_handled.load(), 1);  // only the second Get ran
  EXPECT_GE(boundary_->Stats().timed_out, 1u);
}

TEST_F(BoundaryTest, TheDeadlineTravelsIntoTheHandler) {
  absl::StatusOr<Total> r = boundary_->Call(svc_, Hop(), absl::Milliseconds(30));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded);
  // The handler saw a finite deadline (else FailedPrecondition) and stopped
  // when it passed; its reply then arrives late or races the caller's
  // timeout. Either way the call is resolved exactly once.
  ASSERT_TRUE(WaitUntil([&] {
    return boundary_->Stats().in_flight == 0;
  }));
}

TEST_F(BoundaryTest, CancelResolvesTheCallerAndReachesTheHandler) {
  CallHandle<Total> h = boundary_->CallAsync(svc_, Snooze(), kHangGuard);
  ASSERT_FALSE(h.ready());
  h.Cancel();
  absl::StatusOr<Total> r = h.Wait();
  EXPECT_EQ(r.status().code(), absl::StatusCode::kCancelled);
  // The handler noticed (it returns early) and its reply is dropped.
  ASSERT_TRUE(WaitUntil([&] { return boundary_->Stats().late_replies == 1; }));
  EXPECT_EQ(boundary_->Stats().cancelled, 1u);
  EXPECT_TRUE(WaitUntil([&] { return boundary_->Stats().in_flight == 0; }));
}

TEST_F(BoundaryTest, ACallWaitingForRoomFailsAtItsDeadline) {
  std::vector<CallHandle<Total>> hold;
  for (int i = 0; i < 5; ++i) {
    hold.push_back(boundary_->CallAsync(svc_, Snooze(), kHangGuard));
  }
  ASSERT_EQ(boundary_->Stats().in_flight, 5u);
  // The gate stays shut, so no room frees: the wait ends at the deadline.
  absl::Status s =
      boundary_->Call(svc_, Get(), absl::Milliseconds(20)).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(s.message(), HasSubstr("no capacity"));
  EXPECT_EQ(boundary_->Stats().rejected, 1u);
  EXPECT_EQ(gets_handled.load(), 0);
  gate_open = true;
  for (auto& h : hold) EXPECT_TRUE(h.Wait().ok());
  ASSERT_TRUE(WaitUntil([&] { return boundary_->Stats().in_flight == 0; }));
}

TEST_F(BoundaryTest, ShutdownResolvesEveryPendingCall) {
  std::vector<std::thread> callers;
  std::atomic<int> unavailable{0}, other{0};
  // 5 fill the capacity; 2 more wait for room (or find the system closed).
  for (int i = 0; i < 7; ++i) {
    callers.emplace_back([&] {
      absl::Status s = boundary_->Call(svc_, Snooze(), kHangGuard * 4).status();
      (absl::IsUnavailable(s) ? unavailable : other).fetch_add(1);
      if (!absl::IsUnavailable(s)) ADD_FAILURE() << s;
    });
  }
  ASSERT_TRUE(WaitUntil([&] { return boundary_->Stats().in_flight == 5; }));
  ASSERT_TRUE(sys_->Shutdown().ok());
  for (auto& t : callers) t.join();
  EXPECT_EQ(unavailable.load(), 7);
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(boundary_->Call(svc_, Get(), kHangGuard).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(boundary_->Tell(svc_, Get()).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(boundary_->Stats().in_flight, 0u);
}

TEST_F(BoundaryTest, DestroyingTheSystemWhileEightThreadsCallIsSafe) {
  std::atomic<bool> stop{false};
  std::atomic<int64_t> ok{0}, unavailable{0}, other{0};
  std::vector<std::thread> callers;
  for (int i = 0; i < 8; ++i) {
    callers.emplace_back([&, b = boundary_, svc = svc_] {
      while (!stop.load()) {
        absl::Status s = b->Call(svc, Get(), kHangGuard).status();
        if (s.ok()) {
          ok.fetch_add(1);
        } else if (absl::IsUnavailable(s)) {
          unavailable.fetch_add(1);
          return;
        } else if (!absl::IsResourceExhausted(s) &&
                   !absl::IsDeadlineExceeded(s)) {
          other.fetch_add(1);
          ADD_FAILURE() << s;
        }
      }
    });
  }
  ASSERT_TRUE(WaitUntil([&] { return ok.load() > 100; }));
  sys_.reset();  // destroys the system under the callers
  for (auto& t : callers) t.join();
  EXPECT_EQ(unavailable.load(), 8);
  EXPECT_EQ(other.load(), 0);
}

TEST_F(BoundaryTest, TheNamedRegistry) {
  ASSERT_TRUE(boundary_->Register("svc", svc_).ok());
  EXPECT_EQ(boundary_->Register("svc", svc_).code(),
            absl::StatusCode::kAlreadyExists);
  absl::StatusOr<ActorRef<Service>> found = boundary_->Lookup<Service>("svc");
  ASSERT_TRUE(found.ok());
  EXPECT_TRUE(*found == svc_);
  EXPECT_EQ(boundary_->Lookup<Service>("nope").status().code(),
            absl::StatusCode::kNotFound);
  class Other : public Actor {
   public:
    void Handle(const Ping&) {}
  };
  EXPECT_EQ(boundary_->Lookup<Other>("svc").status().code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(svc_.Stop().ok());
  ASSERT_TRUE(WaitUntil([&] {
    return absl::IsNotFound(boundary_->Lookup<Service>("svc").status());
  }));
  // A stopped actor's name can be taken again.
  auto again = sys_->Spawn<Service>();
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(boundary_->Register("svc", *again).ok());
}

TEST_F(BoundaryTest, TheDynamicEntryTakesBytesAndATypeName) {
  ASSERT_TRUE(
      boundary_->Register("svc", svc_, Accepts<Add, Get>()).ok());
  Add add = MakeAdd(5);
  absl::StatusOr<std::string> r = boundary_->CallBytes(
      "svc", "ringactor.test.Add", add.SerializeAsString(), kHangGuard);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, "");  // Add's handler returns nothing
  r = boundary_->CallBytes("svc", "ringactor.test.Get", "", kHangGuard);
  ASSERT_TRUE(r.ok()) << r.status();
  Total total;
  ASSERT_TRUE(total.ParseFromString(*r));
  EXPECT_EQ(total.value(), 5);

  EXPECT_EQ(boundary_->CallBytes("nobody", "ringactor.test.Get", "", kHangGuard)
                .status()
                .code(),
            absl::StatusCode::kNotFound);
  // A type the actor has a handler for but does not expose, and one that
  // does not exist.
  for (const char* type : {"ringactor.test.Snooze", "no.such.Type", ""}) {
    absl::Status s = boundary_->CallBytes("svc", type, "", kHangGuard).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << type;
  }
}

TEST_F(BoundaryTest, RandomAndMutatedBytesNeverCrash) {
  ASSERT_TRUE(boundary_->Register("svc", svc_, Accepts<Add, Get>()).ok());
  std::mt19937_64 rng(42);
  Add seed = MakeAdd(1);
  const std::string valid = seed.SerializeAsString();
  int64_t parsed_ok = 0, invalid = 0, other = 0;
  for (int i = 0; i < 100000; ++i) {
    std::string bytes;
    if (i % 2 == 0) {  // random bytes of random length
      bytes.resize(rng() % 24);
      for (char& c : bytes) c = static_cast<char>(rng());
    } else {  // a valid message with a few bytes flipped, cut or extended
      bytes = valid;
      for (int k = 0; k < 1 + static_cast<int>(rng() % 3); ++k) {
        bytes[rng() % bytes.size()] = static_cast<char>(rng());
      }
      if (rng() % 4 == 0) bytes.resize(rng() % (bytes.size() + 4));
    }
    Add probe;
    const bool parses = probe.ParseFromString(bytes);
    absl::StatusOr<std::string> r = boundary_->CallBytes(
        "svc", i % 3 == 0 ? "ringactor.test.Get" : "ringactor.test.Add", bytes,
        kHangGuard);
    if (r.ok()) {
      ++parsed_ok;
    } else if (absl::IsInvalidArgument(r.status())) {
      ++invalid;
      if (i % 3 != 0) {
        EXPECT_FALSE(parses) << "valid bytes were refused";
      }
    } else {
      ++other;
      ADD_FAILURE() << r.status();
    }
  }
  EXPECT_EQ(parsed_ok + invalid, 100000);
  EXPECT_GT(invalid, 1000);
  EXPECT_EQ(other, 0);
}

// A reply that comes within boundary_spin finds its caller polling: no
// caller sleeps (nor, then, any wake-up by the shard).
TEST_F(BoundarySpinTest, RepliesWithinTheSpinNeverPutTheCallerToSleep) {
  for (int i = 1; i <= 200; ++i) {
    ASSERT_TRUE(boundary_->Tell(svc_, MakeAdd(1)).ok());
    absl::StatusOr<Total> t = boundary_->Call(svc_, Get(), kHangGuard);
    ASSERT_TRUE(t.ok()) << t.status();
    ASSERT_EQ(t->value(), i);
  }
  EXPECT_EQ(boundary_->Stats().caller_sleeps, 0u);
}

// The poll ends at the call's deadline: a call that cannot be answered in
// time still ends in DeadlineExceeded, after one sleep (the deadline's
// wait), and is not run.
TEST_F(BoundarySpinTest, ThePollStopsAtTheDeadline) {
  CallHandle<Total> busy = boundary_->CallAsync(svc_, Snooze(), kHangGuard);
  absl::StatusOr<Total> late =
      boundary_->Call(svc_, Get(), absl::Milliseconds(30));
  EXPECT_EQ(late.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(boundary_->Stats().caller_sleeps, 1u);
  gate_open = true;
  ASSERT_TRUE(busy.Wait().ok());
  EXPECT_EQ(gets_handled.load(), 0);
}


}  // namespace
}  // namespace ringactor
