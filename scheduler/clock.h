// File: scheduler/clock.h
//
// The scheduler's one clock: CLOCK_MONOTONIC in nanoseconds (vDSO, no
// syscall). Deadlines and timers use it, so wall-clock jumps move nothing.

#ifndef RINGACTOR_SCHEDULER_CLOCK_H_
#define RINGACTOR_SCHEDULER_CLOCK_H_

#include <time.h>

#include <chrono>
#include <cstdint>
#include <limits>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace ringactor::scheduler {

// The clock `id` in nanoseconds.
inline int64_t ClockNanos(clockid_t id) {
  timespec ts;
  clock_gettime(id, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

// Monotonic nanoseconds; never decreases.
inline int64_t MonoNanos() { return ClockNanos(CLOCK_MONOTONIC); }

// A cheap lower bound of MonoNanos(): CLOCK_MONOTONIC_COARSE, the time of
// the kernel's last tick (no TSC read, no lfence). It lags by a tick or two
// (up to ~8 ms was seen here) and never runs ahead.
inline int64_t CoarseMonoNanos() { return ClockNanos(CLOCK_MONOTONIC_COARSE); }

// EstimateMonoNanos()
//
// MonoNanos() estimated without the kernel: on x86-64 with an invariant
// TSC, one `rdtsc` scaled by a rate this thread measured against
// MonoNanos() (over >= 10 ms), and re-anchored to MonoNanos() once the
// anchor is kEstimateAnchorNanos old; elsewhere, and for a thread's first
// ~10 ms, MonoNanos() itself. Within kEstimateSlackNanos of MonoNanos()
// either way (NTP slews that clock by at most 500 ppm, 25 us over an
// anchor's 50 ms; not monotonic across re-anchors): a thread whose
// estimate strays by half the slack at a re-anchor (CPUs whose TSCs
// disagree) reads MonoNanos() from then on.
//
// Why: clock_gettime is cheap only while its vDSO code and data pages are
// cached. After a few milliseconds without a read they are not: 0.3-1.4 us
// per read on the VMs measured here, and the first Ask after a burst of
// Tells paid that twice, once for its deadline and once for the target's
// check of it (docs/benchmarks.md#hot_latency). `rdtsc` reads a register.
int64_t EstimateMonoNanos();
inline constexpr int64_t kEstimateSlackNanos = 100'000;
inline constexpr int64_t kEstimateAnchorNanos = 50'000'000;

namespace internal {
// For tests: whether this CPU's TSC can be used at all, and whether the
// calling thread has measured its rate and not given up on it.
bool TscUsable();
bool EstimatesFromTsc();
}  // namespace internal

// More than the coarse clock's lag, and than the estimate's error.
inline constexpr int64_t kCoarseClockSlackNanos = 20'000'000;

// False only when `deadline_ns` (MonoNanos time) is certainly still ahead:
// the coarse clock, plus more than its lag, has not reached it. A caller
// that gets true reads MonoNanos() to decide. Checks that run every loop
// turn use it, so a far deadline (the common case) costs no precise clock
// read: cross-shard ping-pong 4-7% faster in 8 of 10 in-process A/B runs.
inline bool MayHavePassed(int64_t deadline_ns) {
  return deadline_ns <= CoarseMonoNanos() + kCoarseClockSlackNanos;
}

// The same answer from EstimateMonoNanos(), for a check that may come
// after milliseconds without a clock read on its thread (an Ask's
// deadline, checked where the request runs): there the coarse clock's
// vDSO pages are cold. Where a read comes every loop turn, MayHavePassed
// is cheaper (7 ns warm against ~14 ns for `rdtsc` here).
inline bool MayHavePassedAfterQuiet(int64_t deadline_ns) {
  return deadline_ns <= EstimateMonoNanos() + kCoarseClockSlackNanos;
}

inline constexpr int64_t kNoDeadline = std::numeric_limits<int64_t>::max();

// now() + `d`, saturating (InfiniteDuration -> kNoDeadline, without
// calling now()); a negative `d` counts as zero.
template <typename Now>
int64_t DeadlineFrom(Now now, absl::Duration d) {
  if (d == absl::InfiniteDuration()) return kNoDeadline;
  if (d < absl::ZeroDuration()) d = absl::ZeroDuration();
  const int64_t base = now();
  const int64_t ns = absl::ToInt64Nanoseconds(d);
  return ns > kNoDeadline - base ? kNoDeadline : base + ns;
}

// MonoNanos() + `d`.
inline int64_t DeadlineAfter(absl::Duration d) {
  return DeadlineFrom(MonoNanos, d);
}

// The deadline of an Ask: MonoNanos() + `d` read from EstimateMonoNanos(),
// so never earlier than DeadlineAfter(d) would have been, and at most
// 2 * kEstimateSlackNanos later. Timers still fire by MonoNanos().
inline int64_t LooseDeadlineAfter(absl::Duration d) {
  return DeadlineFrom([] { return EstimateMonoNanos() + kEstimateSlackNanos; },
                      d);
}

// The same instant on std::chrono::steady_clock, which is CLOCK_MONOTONIC
// on Linux (kNoDeadline maps to time_point::max()).
inline std::chrono::steady_clock::time_point SteadyAt(int64_t mono_ns) {
  using TimePoint = std::chrono::steady_clock::time_point;
  if (mono_ns == kNoDeadline) return TimePoint::max();
  return TimePoint(std::chrono::nanoseconds(mono_ns));
}

// Converts a wall-clock deadline to the monotonic clock.
inline int64_t DeadlineAt(absl::Time t) {
  if (t == absl::InfiniteFuture()) return kNoDeadline;
  return DeadlineAfter(t - absl::Now());
}

}  // namespace ringactor::scheduler

#endif  // RINGACTOR_SCHEDULER_CLOCK_H_
