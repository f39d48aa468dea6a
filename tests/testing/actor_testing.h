// File: tests/testing/actor_testing.h
//
// Test helpers for code running on shards.

#ifndef RINGACTOR_TESTS_TESTING_ACTOR_TESTING_H_
#define RINGACTOR_TESTS_TESTING_ACTOR_TESTING_H_

#include <cstdint>
#include <functional>

#include "scheduler/awaitables.h"
#include "scheduler/clock.h"
#include "scheduler/task.h"
#include "tests/testing/shard_thread.h"

namespace ringactor::testing {

// co_await YieldUntil(pred) on a shard: yields loop turns until `pred`
// holds (an event on another thread), at most kHangGuard. False on timeout.
inline scheduler::Task<bool> YieldUntil(std::function<bool()> pred) {
  const int64_t end = scheduler::DeadlineAfter(kHangGuard);
  while (!pred()) {
    if (scheduler::MonoNanos() > end) co_return false;
    co_await scheduler::Yield();
  }
  co_return true;
}

}  // namespace ringactor::testing

#endif  // RINGACTOR_TESTS_TESTING_ACTOR_TESTING_H_
