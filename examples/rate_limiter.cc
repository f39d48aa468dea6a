// examples/rate_limiter: timers on the ring, and the Boundary's dynamic
// entry for callers that only have bytes.
//
// One TokenBucket actor per tenant (Sticky by tenant name) grants tokens. Its
// refill loop is a coroutine handler ticking on an Interval
// (MissedTicks::kSkip: a late tick refills once for every period it covers);
// the actor is reentrant, so it keeps granting while that loop is suspended.
// Requests arrive the way a gateway sees them off the network: a type name
// and serialized bytes, from a plain std::thread pool, through
// Boundary::CallBytes to the bucket registered under the tenant's name.
// Some frames are garbage, name no type, or name a type the bucket does not
// expose: each is refused with InvalidArgument and never runs. The main
// thread polls live reports with TryCall (it fails at once when the
// Boundary is full instead of queueing). At the end one bucket is drained
// and a patient AcquireWait must still be granted, by the next refill tick
// (Sleep inside a handler). The program checks, per bucket, that tokens are
// conserved (burst + refilled - granted == left) and that the gateway saw
// exactly the grants and refusals the buckets made.
//
//   bazel run //examples:rate_limiter -- --seconds=2 --threads=3

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "actors/actor_system.h"
#include "actors/boundary.h"
#include "examples/rate_limiter.pb.h"

ABSL_FLAG(double, seconds, 2.0, "how long the gateway threads send");
ABSL_FLAG(int, threads, 3, "gateway threads (a plain std::thread pool)");
ABSL_FLAG(int, tenants, 8, "tenants, one token bucket each");
ABSL_FLAG(int64_t, burst, 100, "tokens per bucket at the start, and the cap");
ABSL_FLAG(int64_t, refill, 20, "tokens added per 10 ms tick");

namespace ringactor::examples {
namespace {

using ratelimit::Grant;

constexpr absl::Duration kTimeout = absl::Seconds(10);
constexpr absl::Duration kPeriod = absl::Milliseconds(10);

class TokenBucket : public Actor {
 public:
  // Handlers may interleave at co_await: the refill loop never finishes
  // while the bucket runs, and grants must go on meanwhile.
  static constexpr bool kReentrant = true;

  TokenBucket(int64_t burst, int64_t refill)
      : burst_(burst), refill_(refill), tokens_(burst) {}

  Grant Handle(const ratelimit::Acquire&) { return Take(); }

  Task<Grant> Handle(const ratelimit::AcquireWait& m) {
    const absl::Time give_up =
        absl::Now() + absl::Milliseconds(m.max_wait_ms());
    while (tokens_ == 0 && absl::Now() < give_up) {
      co_await Sleep(kPeriod);  // the next refill, or close to it
    }
    co_return Take();
  }

  Task<absl::Status> Handle(const ratelimit::StartRefill&) {
    if (refilling_) {
      co_return absl::FailedPreconditionError("the refill loop is running");
    }
    refilling_ = true;
    stop_refill_ = false;
    Interval interval(kPeriod, MissedTicks::kSkip);
    while (!stop_refill_) {
      const uint64_t periods = co_await interval.Tick();
      ticks_ += static_cast<int64_t>(periods);
      const int64_t added =
          std::min(burst_ - tokens_, refill_ * static_cast<int64_t>(periods));
      tokens_ += added;
      refilled_ += added;
    }
    refilling_ = false;
    co_return absl::OkStatus();
  }

  void Handle(const ratelimit::StopRefill&) { stop_refill_ = true; }

  ratelimit::Report Handle(const ratelimit::GetReport&) {
    ratelimit::Report r;
    r.set_granted(granted_);
    r.set_refused(refused_);
    r.set_refilled(refilled_);
    r.set_tokens(tokens_);
    r.set_ticks(ticks_);
    r.set_burst(burst_);
    return r;
  }

 private:
  Grant Take() {
    Grant g;
    g.set_granted(tokens_ > 0);
    if (tokens_ > 0) {
      --tokens_;
      ++granted_;
    } else {
      ++refused_;
    }
    g.set_tokens_left(tokens_);
    return g;
  }

  const int64_t burst_, refill_;
  int64_t tokens_;
  int64_t granted_ = 0, refused_ = 0, refilled_ = 0, ticks_ = 0;
  bool refilling_ = false, stop_refill_ = false;
};

// What one gateway thread saw.
struct GatewayCounts {
  int64_t granted = 0, refused = 0;
  int64_t bad_frames_sent = 0, bad_frames_refused = 0;
  absl::Status error;  // the first unexpected outcome
};

// Sends frames to the buckets registered as `names` until `stop`: mostly
// Acquire, and every 64th a bad one.
void Gateway(Boundary& boundary, int thread,
             const std::vector<std::string>& names,
             const std::atomic<bool>& stop, GatewayCounts& out) {
  const std::string acquire = ratelimit::Acquire().SerializeAsString();
  for (int64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
    const std::string& name = names[(i + thread) % names.size()];
    if (i % 64 == 63) {
      // Garbage bytes, a type that does not exist, and a real type the
      // bucket does not expose: all refused before any handler runs.
      const int kind = static_cast<int>((i / 64) % 3);
      const char* type = kind == 0   ? "ratelimit.Acquire"
                         : kind == 1 ? "ratelimit.NoSuchMessage"
                                     : "ratelimit.StopRefill";
      const std::string bytes = kind == 0 ? std::string("\xff\xff", 2) : "";
      ++out.bad_frames_sent;
      absl::Status s = boundary.CallBytes(name, type, bytes, kTimeout).status();
      if (absl::IsInvalidArgument(s)) {
        ++out.bad_frames_refused;
      } else if (out.error.ok()) {
        out.error = absl::InternalError(absl::StrCat(
            "a bad frame (", type, ") was not refused: ", s.ToString()));
      }
      continue;
    }
    absl::StatusOr<std::string> reply =
        boundary.CallBytes(name, "ratelimit.Acquire", acquire, kTimeout);
    Grant g;
    if (!reply.ok() || !g.ParseFromString(*reply)) {
      if (out.error.ok()) {
        out.error = reply.ok() ? absl::InternalError("unparsable reply")
                               : reply.status();
      }
      continue;
    }
    ++(g.granted() ? out.granted : out.refused);
  }
}

int Fail(const char* what, const absl::Status& s) {
  std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
  return 1;
}

int Main() {
  const int threads = absl::GetFlag(FLAGS_threads);
  const int tenants = absl::GetFlag(FLAGS_tenants);
  const int64_t burst = absl::GetFlag(FLAGS_burst);
  const int64_t refill = absl::GetFlag(FLAGS_refill);
  const double seconds = absl::GetFlag(FLAGS_seconds);
  if (threads < 1 || tenants < 1 || burst < 1 || refill < 1 || seconds < 0) {
    return Fail("flags", absl::InvalidArgumentError(
                             "--threads, --tenants, --burst and --refill must "
                             "be >= 1, --seconds >= 0"));
  }
  auto system = ActorSystem::Create(ActorSystemOptions{});  // a shard per CPU
  if (!system.ok()) return Fail("create", system.status());
  ActorSystem& sys = **system;
  std::shared_ptr<Boundary> boundary = sys.boundary();

  std::vector<ActorRef<TokenBucket>> buckets;
  std::vector<std::string> names;  // each bucket's registered name
  for (int t = 0; t < tenants; ++t) {
    names.push_back(absl::StrCat("bucket/", t));
    auto b = sys.Spawn<TokenBucket>(SpawnOptions{Sticky(names.back())}, burst,
                                    refill);
    if (!b.ok()) return Fail("spawn", b.status());
    // CallBytes reaches only the types listed here.
    absl::Status s =
        boundary->Register(names.back(), *b,
                           Accepts<ratelimit::Acquire, ratelimit::AcquireWait,
                                   ratelimit::GetReport>());
    if (!s.ok()) return Fail("register", s);
    if (s = boundary->Tell(*b, ratelimit::StartRefill()); !s.ok()) {
      return Fail("start refill", s);
    }
    buckets.push_back(*b);
  }

  std::atomic<bool> stop{false};
  std::vector<GatewayCounts> counts(threads);
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i) {
    pool.emplace_back(
        [&, i] { Gateway(*boundary, i, names, stop, counts[i]); });
  }
  // Live reports from this thread: TryCall never waits for Boundary capacity.
  const absl::Time end = absl::Now() + absl::Seconds(seconds);
  int64_t probes = 0, busy = 0;
  while (absl::Now() < end) {
    absl::SleepFor(std::min(absl::Milliseconds(250), end - absl::Now()));
    auto r = boundary->TryCall(buckets[0], ratelimit::GetReport(), kTimeout);
    ++probes;
    if (absl::IsResourceExhausted(r.status())) {
      ++busy;
    } else if (!r.ok()) {
      return Fail("live report", r.status());
    } else {
      std::printf("bucket/0: %lld granted, %lld refused, %lld tokens left\n",
                  static_cast<long long>(r->granted()),
                  static_cast<long long>(r->refused()),
                  static_cast<long long>(r->tokens()));
    }
  }
  stop = true;
  for (std::thread& t : pool) t.join();

  GatewayCounts seen;
  for (const GatewayCounts& c : counts) {
    if (!c.error.ok()) return Fail("gateway", c.error);
    seen.granted += c.granted;
    seen.refused += c.refused;
    seen.bad_frames_sent += c.bad_frames_sent;
    seen.bad_frames_refused += c.bad_frames_refused;
  }

  // A patient request on a drained bucket: only a refill tick can grant it.
  ratelimit::Report before;
  for (;;) {
    auto g = boundary->Call(buckets[0], ratelimit::Acquire(), kTimeout);
    if (!g.ok()) return Fail("drain", g.status());
    if (!g->granted()) break;
    ++seen.granted;
  }
  ++seen.refused;  // the Acquire that found it empty
  ratelimit::AcquireWait wait;
  wait.set_max_wait_ms(5'000);
  auto patient = boundary->Call(buckets[0], wait, kTimeout);
  if (!patient.ok()) return Fail("patient acquire", patient.status());
  if (!patient->granted()) {
    return Fail(
        "patient acquire",
        absl::InternalError("no refill within 5 s on a drained bucket"));
  }
  ++seen.granted;

  ratelimit::Report total;
  for (const ActorRef<TokenBucket>& b : buckets) {
    if (absl::Status s = boundary->Tell(b, ratelimit::StopRefill()); !s.ok()) {
      return Fail("stop refill", s);
    }
  }
  for (const ActorRef<TokenBucket>& b : buckets) {
    auto r = boundary->Call(b, ratelimit::GetReport(), kTimeout);
    if (!r.ok()) return Fail("report", r.status());
    // Conservation: every token is at the start, refilled, granted or left.
    if (r->burst() + r->refilled() - r->granted() != r->tokens()) {
      return Fail("report", absl::InternalError(absl::StrCat(
                                "tokens not conserved: ", r->DebugString())));
    }
    total.set_granted(total.granted() + r->granted());
    total.set_refused(total.refused() + r->refused());
    total.set_refilled(total.refilled() + r->refilled());
    total.set_ticks(total.ticks() + r->ticks());
  }
  std::printf(
      "%d gateway threads, %d tenants: %lld granted, %lld refused, "
      "%lld tokens refilled over %lld ticks\n",
      threads, tenants, static_cast<long long>(total.granted()),
      static_cast<long long>(total.refused()),
      static_cast<long long>(total.refilled()),
      static_cast<long long>(total.ticks()));
  std::printf("bad frames: %lld sent, %lld refused with InvalidArgument\n",
              static_cast<long long>(seen.bad_frames_sent),
              static_cast<long long>(seen.bad_frames_refused));
  std::printf("live reports: %lld probes, %lld found the Boundary full\n",
              static_cast<long long>(probes), static_cast<long long>(busy));
  if (total.granted() != seen.granted || total.refused() != seen.refused) {
    return Fail("totals", absl::InternalError(absl::StrCat(
                              "the gateway saw ", seen.granted, " granted and ",
                              seen.refused, " refused, the buckets made ",
                              total.granted(), " and ", total.refused())));
  }
  if (seen.bad_frames_refused != seen.bad_frames_sent) {
    return Fail("bad frames", absl::InternalError("not all were refused"));
  }
  if (absl::Status s = sys.Shutdown(); !s.ok()) return Fail("shutdown", s);
  std::printf("OK\n");
  return 0;
}

}  // namespace
}  // namespace ringactor::examples

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return ringactor::examples::Main();
}
