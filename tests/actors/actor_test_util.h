// File: tests/actors/actor_test_util.h
//
// Helpers shared by the actor-layer tests (tests/actors/*_test.cc).

#ifndef RINGACTOR_TESTS_ACTORS_ACTOR_TEST_UTIL_H_
#define RINGACTOR_TESTS_ACTORS_ACTOR_TEST_UTIL_H_

#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "actors/actor_system.h"
#include "gtest/gtest.h"
#include "tests/actors/test_messages.pb.h"
#include "tests/testing/shard_thread.h"

namespace ringactor::testing {

inline constexpr ShardId kShard0(0);
inline constexpr ShardId kShard1(1);

// A system with 2 shards unless `o` says otherwise; fails the test if the
// options are refused.
inline std::unique_ptr<ActorSystem> MakeSystem(ActorSystemOptions o = {}) {
  if (!o.num_shards.has_value()) o.num_shards = 2;
  auto s = ActorSystem::Create(o);
  EXPECT_TRUE(s.ok()) << s.status();
  return *std::move(s);
}

inline test::Add MakeAdd(int64_t d) {
  test::Add a;
  a.set_delta(d);
  return a;
}

// On a shard: tells `ref` `m`, yielding and retrying while the send is
// refused for backpressure (ResourceExhausted). Any other status is
// returned.
template <typename A, typename M>
Task<absl::Status> TellRetrying(ActorRef<A> ref, const M& m) {
  absl::Status s = ref.Tell(m);
  while (absl::IsResourceExhausted(s)) {
    co_await Yield();
    s = ref.Tell(m);
  }
  co_return s;
}

// On a shard: asks `ref` `m` (a message it answers with a Total; Get by
// default), retrying while the Ask is refused for backpressure
// (ResourceExhausted).
template <typename A, typename M = test::Get>
Task<absl::StatusOr<test::Total>> AskTotalRetrying(ActorRef<A> ref,
                                                   M m = M()) {
  absl::StatusOr<test::Total> t = co_await ref.Ask(m, kHangGuard);
  while (absl::IsResourceExhausted(t.status())) {
    co_await Yield();
    t = co_await ref.Ask(m, kHangGuard);
  }
  co_return t;
}

// AskTotalRetrying from shard `from`, for a thread outside the system.
template <typename A>
absl::StatusOr<int64_t> GetTotalRetrying(ActorSystem& sys,
                                         const ActorRef<A>& ref, ShardId from) {
  return sys.RunOn(from, [ref]() -> Task<absl::StatusOr<int64_t>> {
    absl::StatusOr<test::Total> t = co_await AskTotalRetrying(ref);
    if (!t.ok()) co_return t.status();
    co_return t->value();
  });
}

}  // namespace ringactor::testing

#endif  // RINGACTOR_TESTS_ACTORS_ACTOR_TEST_UTIL_H_
