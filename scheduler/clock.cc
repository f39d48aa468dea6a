// File: scheduler/clock.cc

#include "scheduler/clock.h"

#include <cstdint>
#include <cstdlib>

#include "absl/base/attributes.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <x86intrin.h>
#endif

namespace ringactor::scheduler {

#if defined(__x86_64__)
namespace {

// CPUID 8000_0007h EDX bit 8: the TSC runs at one rate in every P-, C- and
// T-state (Intel and AMD alike).
bool HasInvariantTsc() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (__get_cpuid(0x80000000u, &a, &b, &c, &d) == 0 || a < 0x80000007u) {
    return false;
  }
  __get_cpuid(0x80000007u, &a, &b, &c, &d);
  return ((d >> 8) & 1u) != 0;
}

// Asked once, on the first re-anchor of any thread (off the fast path,
// which reads nothing but this thread's anchor).
bool InvariantTsc() {
  static const bool invariant = HasInvariantTsc();
  return invariant;
}

// The rate is measured over at least this long, so the jitter of one
// bracketed clock read (~0.1 us) is 10 ppm of it.
constexpr int64_t kMinSpanNanos = 10'000'000;
// A bracketed read that took longer than this many ticks (~40 us at
// 2.5 GHz) was interrupted: its pairing of ticks and time is not kept.
constexpr uint64_t kMaxBracketTicks = 100'000;
// Sane rates: a TSC between 50 MHz and 20 GHz.
constexpr double kMinNanosPerTick = 0.05;
constexpr double kMaxNanosPerTick = 20.0;

struct Anchor {
  int64_t ns = 0;          // MonoNanos() at `tsc`
  uint64_t tsc = 0;        // 0: no anchor yet
  double ns_per_tick = 0;  // 0: not measured yet
  bool off = false;        // no invariant TSC, or strayed once: MonoNanos()
};
constinit thread_local Anchor anchor;

// Nanoseconds from the anchor to TSC `t`, once the rate is known (a `t`
// behind the anchor's wraps to a huge count).
double NanosSinceAnchor(const Anchor& a, uint64_t t) {
  return static_cast<double>(t - a.tsc) * a.ns_per_tick;
}

// MonoNanos(), paired with the TSC when the pairing is clean; measures the
// rate once the anchor is kMinSpanNanos old, and checks how far the
// estimate had strayed before it moves the anchor.
ABSL_ATTRIBUTE_NOINLINE int64_t Reanchor(Anchor& a) {
  if (!InvariantTsc()) {
    a.off = true;
    return MonoNanos();
  }
  for (int tries = 0; tries < 3; ++tries) {
    const uint64_t t0 = __rdtsc();
    const int64_t now = MonoNanos();
    const uint64_t t1 = __rdtsc();
    if (t1 - t0 > kMaxBracketTicks) continue;
    const uint64_t t = t0 + (t1 - t0) / 2;
    if (a.tsc == 0 || t <= a.tsc) {  // the first, or a TSC behind ours
      a.ns = now;
      a.tsc = t;
      return now;
    }
    if (a.ns_per_tick > 0) {
      const int64_t estimate =
          a.ns + static_cast<int64_t>(NanosSinceAnchor(a, t));
      if (std::llabs(estimate - now) > kEstimateSlackNanos / 2) {
        a.off = true;
        return now;
      }
    }
    const int64_t span = now - a.ns;
    if (span < kMinSpanNanos) return now;  // a longer span next time
    const double rate =
        static_cast<double>(span) / static_cast<double>(t - a.tsc);
    if (rate < kMinNanosPerTick || rate > kMaxNanosPerTick) {
      a.off = true;
      return now;
    }
    a.ns_per_tick = rate;
    a.ns = now;
    a.tsc = t;
    return now;
  }
  return MonoNanos();
}

}  // namespace

int64_t EstimateMonoNanos() {
  Anchor& a = anchor;
  if (a.off) return MonoNanos();
  if (a.ns_per_tick > 0) {
    // A TSC behind the anchor's (another CPU's) wraps to a huge count and
    // re-anchors.
    const double ns = NanosSinceAnchor(a, __rdtsc());
    if (ns < static_cast<double>(kEstimateAnchorNanos)) {
      return a.ns + static_cast<int64_t>(ns);
    }
  }
  return Reanchor(a);
}

namespace internal {
bool TscUsable() { return InvariantTsc(); }
bool EstimatesFromTsc() { return !anchor.off && anchor.ns_per_tick > 0; }
}  // namespace internal

#else  // not x86-64

int64_t EstimateMonoNanos() { return MonoNanos(); }

namespace internal {
bool TscUsable() { return false; }
bool EstimatesFromTsc() { return false; }
}  // namespace internal

#endif

}  // namespace ringactor::scheduler
