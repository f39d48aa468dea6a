// File: scheduler/awaitables.h
//
// Awaitables that suspend a coroutine on its shard: Yield, Sleep,
// SleepUntil, Interval and WithTimeout. Each resumes the coroutine from the
// loop of the shard it suspended on. Use them only on a shard thread (inside
// actor handlers or tasks started by Shard::Start / ShardSet::SubmitTo).

#ifndef RINGACTOR_SCHEDULER_AWAITABLES_H_
#define RINGACTOR_SCHEDULER_AWAITABLES_H_

#include <algorithm>
#include <coroutine>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "scheduler/clock.h"
#include "scheduler/shard.h"
#include "scheduler/task.h"
#include "scheduler/timer.h"

namespace ringactor::scheduler {

// co_await Yield(): lets the rest of the run queue and incoming envelopes go
// first, then resumes in a later loop turn.
inline auto Yield() {
  struct Awaiter {
    bool await_ready() noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) {
      Shard::Current()->PostResume(h);
    }
    void await_resume() noexcept {}
  };
  return Awaiter{};
}

namespace internal {

class SleepAwaiter final : public Timer {
 public:
  explicit SleepAwaiter(int64_t deadline_ns) : deadline_ns_(deadline_ns) {}
  bool await_ready() const noexcept { return deadline_ns_ <= MonoNanos(); }
  void await_suspend(std::coroutine_handle<> h) {
    handle_ = h;
    Arm(deadline_ns_);
  }
  void await_resume() noexcept {}

 private:
  void OnFire() noexcept override { handle_.resume(); }
  int64_t deadline_ns_;
  std::coroutine_handle<> handle_;
};

}  // namespace internal

// co_await Sleep(d): resumes after at least `d` (on the shard's timer heap;
// an idle shard sleeps in io_uring_enter until then).
inline internal::SleepAwaiter Sleep(absl::Duration d) {
  return internal::SleepAwaiter(DeadlineAfter(d));
}
// co_await SleepUntil(t): resumes at or after wall-clock time `t`.
inline internal::SleepAwaiter SleepUntil(absl::Time t) {
  return internal::SleepAwaiter(DeadlineAt(t));
}

// What an Interval does about ticks it missed because its coroutine was
// busy (or the shard was) past a tick.
enum class MissedTicks {
  // Deliver every missed tick, back to back, then resume the schedule.
  kBurst,
  // Deliver one tick reporting how many periods it covers; stay on the
  // original schedule (start + k * period).
  kSkip,
  // Deliver one tick and start a new schedule one period from now.
  kDelay,
};

// Interval
//
// Periodic ticks: `while (...) { uint64_t n = co_await interval.Tick(); }`.
// The first tick is one period after construction. Tick() yields the number
// of periods the tick covers (> 1 only for MissedTicks::kSkip).
//
// Shard-affine.
class Interval {
 public:
  explicit Interval(absl::Duration period,
                    MissedTicks policy = MissedTicks::kSkip)
      : period_ns_(std::max<int64_t>(1, absl::ToInt64Nanoseconds(period))),
        policy_(policy),
        next_ns_(MonoNanos() + period_ns_) {}

  Task<uint64_t> Tick() {
    int64_t now = MonoNanos();
    if (now < next_ns_) {
      co_await internal::SleepAwaiter(next_ns_);
      now = MonoNanos();
    }
    co_return Advance(now);
  }

  // Pure schedule arithmetic for a tick observed at `now_ns` (>= the due
  // time): returns the periods covered and moves the schedule.
  uint64_t Advance(int64_t now_ns) {
    switch (policy_) {
      case MissedTicks::kBurst:
        next_ns_ += period_ns_;
        return 1;
      case MissedTicks::kSkip: {
        const uint64_t n =
            static_cast<uint64_t>((now_ns - next_ns_) / period_ns_) + 1;
        next_ns_ += static_cast<int64_t>(n) * period_ns_;
        return n;
      }
      case MissedTicks::kDelay:
        next_ns_ = now_ns + period_ns_;
        return 1;
    }
    return 1;
  }
  int64_t next_deadline_ns() const { return next_ns_; }

 private:
  int64_t period_ns_;
  MissedTicks policy_;
  int64_t next_ns_;
};

namespace internal {

template <typename T>
struct TimeoutState {
  std::conditional_t<std::is_void_v<T>, bool, std::optional<T>> value{};
  std::exception_ptr exception;
  bool done = false;
  std::coroutine_handle<> waiter;  // set while the outer coroutine waits
};

template <typename T>
Task<void> RunInto(Task<T> inner, std::shared_ptr<TimeoutState<T>> st) {
  try {
    if constexpr (std::is_void_v<T>) {
      co_await std::move(inner);
    } else {
      st->value.emplace(co_await std::move(inner));
    }
  } catch (...) {
    st->exception = std::current_exception();
  }
  st->done = true;
  if (st->waiter) Shard::Current()->PostResume(std::exchange(st->waiter, {}));
}

template <typename T>
class TimeoutAwaiter final : public Timer {
 public:
  TimeoutAwaiter(std::shared_ptr<TimeoutState<T>> st, int64_t deadline_ns)
      : st_(std::move(st)), deadline_ns_(deadline_ns) {}
  ~TimeoutAwaiter() override { st_->waiter = {}; }
  bool await_ready() const noexcept { return st_->done; }
  void await_suspend(std::coroutine_handle<> h) {
    st_->waiter = h;
    if (deadline_ns_ != kNoDeadline) Arm(deadline_ns_);
  }
  void await_resume() { Disarm(); }

 private:
  void OnFire() noexcept override {
    if (!st_->waiter) return;
    std::exchange(st_->waiter, {}).resume();
  }
  std::shared_ptr<TimeoutState<T>> st_;
  int64_t deadline_ns_;
};

}  // namespace internal

// WithTimeout(task, d)
//
// Runs `task` and waits for it at most `d`. Yields its value (T) or
// DeadlineExceeded; for Task<void>, OkStatus or DeadlineExceeded. An
// exception from `task` is rethrown. On timeout the task keeps running to
// completion in the background (its result is dropped); at shutdown it is
// destroyed like every suspended coroutine.
template <typename T>
auto WithTimeout(Task<T> task, absl::Duration d)
    -> Task<std::conditional_t<std::is_void_v<T>, absl::Status,
                               absl::StatusOr<T>>> {
  auto st = std::make_shared<internal::TimeoutState<T>>();
  const int64_t deadline = DeadlineAfter(d);
  Shard::Current()->Start(internal::RunInto<T>(std::move(task), st));
  co_await internal::TimeoutAwaiter<T>(st, deadline);
  if (!st->done) {
    co_return absl::DeadlineExceededError(
        absl::StrCat("WithTimeout: not done after ", absl::FormatDuration(d)));
  }
  if (st->exception) std::rethrow_exception(st->exception);
  if constexpr (std::is_void_v<T>) {
    co_return absl::OkStatus();
  } else {
    co_return std::move(*st->value);
  }
}

}  // namespace ringactor::scheduler

#endif  // RINGACTOR_SCHEDULER_AWAITABLES_H_
