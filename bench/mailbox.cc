// File: bench/mailbox.cc
//
// //bench:mailbox: the mailbox fast lanes against plain messages and CAF.
//
//   hotspot      sender actors on every shard increment counters owned by 4
//                hot actors, 1,000,000 increments per sender:
//                  ringactor_counter    ActorRef::Count (counter lane)
//                  ringactor_coalesced  a coalesced hot message (merged)
//                  ringactor_tell       a plain Tell per increment
//                  caf                  a plain send per increment
//                metrics: increments_per_s, owner_wakeups_per_s
//   hot_latency  round trip of a hot request sent while its owner works
//                through a 10,000-message ordinary backlog (~0.5 us each),
//                over the same round trip unloaded: loaded_over_unloaded,
//                the same workload (actors_workload.h) for
//                  ringactor    a hot Ask
//                  caf          a request with message_priority::high
//                  mutex_queue  a mutex + condvar mailbox, hot queue first
//                  spsc_limit   busy-polled rings, hot slot checked first

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_format.h"
#include "actors/actor_system.h"
#include "bench/actors_workload.h"
#include "bench/bench_messages.pb.h"
#include "bench/bench_util.h"
#include "bench/peers/caf_actors.h"
#include "bench/peers/hot_latency_peers.h"
#include "scheduler/notification.h"

ABSL_FLAG(bool, smoke, false, "tiny run: proves the benchmark works");
ABSL_FLAG(int64_t, increments, 1'000'000, "increments per sender");
ABSL_FLAG(int, senders_per_shard, 2, "sender actors on each shard");
ABSL_FLAG(int, backlog, 10'000, "ordinary messages ahead of the hot one");
ABSL_FLAG(int, samples, 30, "hot_latency samples per condition");
ABSL_FLAG(int, rounds, 3, "interleaved rounds per impl; the median is kept");
ABSL_FLAG(bool, backlog_from_owner_shard, false,
          "hot_latency: the backlog is sent on the owner's own shard, so the "
          "caller's shard is idle while it waits");
ABSL_FLAG(bool, warm_up_ask, false,
          "hot_latency diagnostic: just before each measured hot Ask, send "
          "the same hot Ask to an idle actor on the owner's shard (warms "
          "the hot path on both shards; not the benchmark's figure)");
ABSL_FLAG(std::string, scenario, "",
          "run only this scenario (hotspot or hot_latency); empty: both");
ABSL_FLAG(bool, pin, false,
          "pin ringactor's shards to CPUs 0 and 1 in the hotspot runs "
          "(hot_latency always pins)");

namespace ringactor::bench {
namespace {

constexpr int kOwners = 4;
constexpr int kShards = 2;
// hot_latency: bumped by an owner when it starts on a backlog (its seq 0).
PaddedCounter g_backlog_started;
constexpr absl::Duration kDeadline = absl::Seconds(60);

enum class Mode { kCounter, kCoalesced, kTell };

// Owns one hot counter; reports when it has seen `expected` increments.
class Owner : public Actor {
 public:
  using CoalescedMessages = MessageList<Increment>;
  using HotMessages = MessageList<Alert>;
  static bool Merge(Increment& into, const Increment& from) {
    int64_t sum;
    if (__builtin_add_overflow(into.by(), from.by(), &sum)) return false;
    into.set_by(sum);
    return true;
  }

  Owner(int64_t expected, std::atomic<int>* remaining,
        scheduler::Notification* done)
      : expected_(expected), remaining_(remaining), done_(done) {}

  void Handle(const Increment& m) { Add(m.by()); }
  void Handle(const Small& m) { Add(m.value()); }  // the plain-Tell variant
  void OnCount(uint32_t counter) override { Add(TakeCount(counter)); }
  // hot_latency: ordinary work, and the hot probe (actors_workload.h).
  void Handle(const Ping& p) {
    sink_ += HashWork(p.seq(), kHotLatencyWork);
    hot_latency_.Ordinary(p.seq(), g_backlog_started);
  }
  AlertReply Handle(const Alert& a) {
    AlertReply r;
    r.set_seq(a.seq());
    r.set_ran_ticks(StampTicks());
    r.set_handled(hot_latency_.handled());
    return r;
  }

 private:
  void Add(int64_t n) {
    total_ += n;
    if (total_ == expected_ && remaining_->fetch_sub(1) == 1) done_->Notify();
  }
  int64_t expected_;
  int64_t total_ = 0;
  uint64_t sink_ = 0;
  HotLatencyOwner hot_latency_;
  std::atomic<int>* remaining_;
  scheduler::Notification* done_;
};

class Sender : public Actor {
 public:
  Sender(std::vector<ActorRef<Owner>> owners, Mode mode)
      : owners_(std::move(owners)), mode_(mode) {}
  Task<absl::Status> Handle(const Run& r) {
    Increment inc;
    inc.set_by(1);
    Small small;
    small.set_value(1);
    size_t next = 0;
    for (int64_t i = 0; i < r.count(); ++i) {
      const ActorRef<Owner>& o = owners_[next];
      if (++next == owners_.size()) next = 0;
      absl::Status s;
      switch (mode_) {
        case Mode::kCounter:
          s = o.Count(0, 1);
          break;
        case Mode::kCoalesced:
          s = o.Tell(inc);
          break;
        case Mode::kTell:
          s = o.Tell(small);
          if (!s.ok()) {  // classify only failures (docs/actors.md)
            while (absl::IsResourceExhausted(s)) {
              co_await Yield();
              s = o.Tell(small);
            }
          }
          break;
      }
      if (!s.ok()) co_return s;
      // Let the loop turn end now and then, as a real sender would.
      if ((i & 1023) == 1023) co_await Yield();
    }
    co_return absl::OkStatus();
  }

 private:
  std::vector<ActorRef<Owner>> owners_;
  Mode mode_;
};

std::unique_ptr<ActorSystem> NewSystem(bool pin = absl::GetFlag(FLAGS_pin),
                                       uint32_t backlog_capacity = 0) {
  ActorSystemOptions o;
  o.num_shards = kShards;
  o.pin_threads = pin;
  if (backlog_capacity > 0) o.backlog_capacity = backlog_capacity;
  auto sys = ActorSystem::Create(o);
  if (!sys.ok()) std::exit(1);
  return *std::move(sys);
}

struct HotspotResult {
  double increments_per_s = 0;
  double wakeups_per_s = 0;
};

HotspotResult RingactorHotspot(Mode mode, int senders_per_shard,
                               int64_t per_sender) {
  auto sys = NewSystem();
  const int senders = senders_per_shard * kShards;
  std::atomic<int> remaining{kOwners};
  scheduler::Notification done;
  std::vector<ActorRef<Owner>> owners;
  for (int i = 0; i < kOwners; ++i) {
    owners.push_back(*sys->Spawn<Owner>(
        SpawnOptions{Pinned{ShardId(i % kShards)}},
        senders * per_sender / kOwners, &remaining, &done));
  }
  std::vector<ActorRef<Sender>> by_shard[kShards];
  for (int s = 0; s < senders; ++s) {
    by_shard[s % kShards].push_back(*sys->Spawn<Sender>(
        SpawnOptions{Pinned{ShardId(s % kShards)}}, owners, mode));
  }
  Run run;
  run.set_count(per_sender);
  const Clock::time_point start = Clock::now();
  for (int shard = 0; shard < kShards; ++shard) {
    // Start each shard's senders from that shard, without waiting.
    (void)sys->SubmitTo(ShardId(shard), [&, shard] {
      scheduler::Shard::Current()->Start(
          [](std::vector<ActorRef<Sender>> senders, Run run) -> Task<void> {
            (void)co_await AskAll(senders, run, kDeadline);
          }(by_shard[shard], run));
    });
  }
  done.WaitForNotification();
  const double secs = Seconds(Clock::now() - start);
  const SystemStats st = sys->Stats();
  uint64_t wakes = 0;
  for (const ActorTypeStats& t : st.types) {
    if (t.type.find("Owner") != std::string::npos) {
      wakes = mode == Mode::kCounter ? t.counters.count_wakes : t.counters.handled;
    }
  }
  return {senders * per_sender / secs, wakes / secs};
}

// Ask round trip of a hot Alert, optionally behind `backlog` ordinary
// messages. The shards are always pinned here: both figures are ringactor's
// own, and unpinned the kernel now and then put both shards on one CPU for a
// whole round, which made the unloaded figure ~25 us and the ratio a
// meaningless 0.2. Each ordinary message costs the owner ~0.5 us, more than it
// costs to send, so the backlog really queues at the owner; the sender
// yields every 1,024 sends (as a real one would) so it moves there.
HotLatency MeasureHotLatency(int backlog, int samples) {
  // Flow control lets a shard run lane_capacity + backlog_capacity messages
  // ahead of a target (4,096 by default): room for the whole backlog, in
  // both conditions (the same system options for both).
  auto sys = NewSystem(/*pin=*/true, static_cast<uint32_t>(std::max(
                                         1, absl::GetFlag(FLAGS_backlog))));
  std::atomic<int> unused{1};
  scheduler::Notification never;
  auto owner = *sys->Spawn<Owner>(SpawnOptions{Pinned{ShardId(1)}},
                                  int64_t{-1}, &unused, &never);
  // Idle, on the owner's shard: --warm_up_ask sends it the same hot Ask
  // just before each measured one.
  auto neighbour = *sys->Spawn<Owner>(SpawnOptions{Pinned{ShardId(1)}},
                                      int64_t{-1}, &unused, &never);
  // All samples run back to back in one coroutine: the owner's shard stays
  // awake (busy, or within its idle spin), so neither figure includes a
  // wake-up of a sleeping shard.
  HotLatencySamples out;
  const bool from_owner_shard = absl::GetFlag(FLAGS_backlog_from_owner_shard);
  const bool warm_up_ask = absl::GetFlag(FLAGS_warm_up_ask);
  absl::Status run = sys->RunOn(ShardId(0), [&]() -> Task<absl::Status> {
    for (int i = 0; i < samples; ++i) {
      const int64_t started_seen =
          g_backlog_started.n.load(std::memory_order_acquire);
      if (from_owner_shard && backlog > 0) {
        // One closure on the owner's shard: the whole backlog is in the
        // mailbox before the owner runs, and this shard only waits. (Not
        // for the unloaded condition: a closure just before the Ask would
        // be load of its own, ~0.5 us on the request half.)
        absl::Status s = sys->SubmitTo(ShardId(1), [&owner, backlog] {
          Ping p;
          for (int k = 0; k < backlog; ++k) {
            p.set_seq(k);
            if (absl::Status t = owner.Tell(p); !t.ok()) {
              std::fprintf(stderr, "hot_latency: %s\n", t.ToString().c_str());
              std::abort();
            }
          }
        });
        if (!s.ok()) co_return s;
      } else {
        Ping p;
        for (int k = 0; k < backlog; ++k) {
          p.set_seq(k);
          absl::Status s = owner.Tell(p);
          if (!s.ok()) co_return s;
          if ((k & 1023) == 1023) co_await Yield();
        }
      }
      // Send the hot message once the owner is busy with the backlog.
      while (backlog > 0 &&
             g_backlog_started.n.load(std::memory_order_acquire) ==
                 started_seen) {
        co_await Yield();
      }
      Alert a;
      a.set_seq(i);
      if (warm_up_ask) {  // diagnostic: the same path, just used
        absl::StatusOr<AlertReply> w = co_await neighbour.Ask(a, kDeadline);
        if (!w.ok()) co_return w.status();
      }
      const int64_t t0 = StampTicks();
      absl::StatusOr<AlertReply> r = co_await owner.Ask(a, kDeadline);
      if (!r.ok()) co_return r.status();
      const int64_t t1 = StampTicks();
      out.Add(t0, r->ran_ticks(), t1, backlog, r->handled());
      // Let the backlog drain before the next sample (a Ping behind it; not
      // seq 0, which starts a backlog).
      if (backlog > 0) {
        Ping last;
        last.set_seq(-1);
        absl::Status drained = co_await owner.Ask(last, kDeadline);
        if (!drained.ok()) co_return drained;
      }
    }
    co_return absl::OkStatus();
  });
  if (!run.ok()) {
    std::fprintf(stderr, "hot_latency: %s\n", run.ToString().c_str());
    return {};
  }
  return out.Result();
}

struct Series {
  std::vector<double> rate, wakes;
};

void PrintHotspot(const Series& counter, const Series& coalesced,
                  const Series& tell, const Series& caf) {
  const double c_rate = Median(caf.rate);
  const double t_rate = Median(tell.rate);
  Table table({"impl", "increments/s", "owner wake-ups/s", "vs tell", "vs caf"});
  for (auto [name, s] :
       {std::pair<const char*, const Series*>{"ringactor_counter", &counter},
        {"ringactor_coalesced", &coalesced},
        {"ringactor_tell", &tell},
        {"caf", &caf}}) {
    const double rate = Median(s->rate), wakes = Median(s->wakes);
    table.AddRow({name, Human(rate), Human(wakes),
                  absl::StrFormat("%.1fx", rate / t_rate),
                  absl::StrFormat("%.1fx", rate / c_rate)});
    PrintBenchLine("hotspot", name, "increments_per_s", rate);
    PrintBenchLine("hotspot", name, "owner_wakeups_per_s", wakes);
  }
  std::printf("\n");
  table.Print();
  std::printf("targets: counter >= 20x tell: %.1fx; >= 50x caf: %.1fx\n\n",
              Median(counter.rate) / t_rate, Median(counter.rate) / c_rate);
}

// One implementation's hot_latency runs: one median per round and
// condition.
struct LatencySeries {
  explicit LatencySeries(const char* impl) : impl(impl) {}
  const char* impl;
  std::vector<HotLatency> loaded, unloaded;
};

void PrintHotLatency(const std::vector<LatencySeries>& all, int backlog) {
  auto median = [](const std::vector<HotLatency>& v, double HotLatency::*f) {
    std::vector<double> x;
    for (const HotLatency& h : v) x.push_back(h.*f);
    return Median(x);
  };
  Table table({"impl", "unloaded", "loaded", "loaded/unloaded",
               "queued ahead", "request half", "reply half"});
  double ringactor_ratio = 0;
  for (const LatencySeries& s : all) {
    const double l = median(s.loaded, &HotLatency::rtt_ns);
    const double u = median(s.unloaded, &HotLatency::rtt_ns);
    const double ahead = median(s.loaded, &HotLatency::ahead);
    const double u_request = median(s.unloaded, &HotLatency::request_ns);
    const double l_request = median(s.loaded, &HotLatency::request_ns);
    const double u_reply = median(s.unloaded, &HotLatency::reply_ns);
    const double l_reply = median(s.loaded, &HotLatency::reply_ns);
    const double ratio = u > 0 ? l / u : 0;
    if (std::string(s.impl) == "ringactor") ringactor_ratio = ratio;
    table.AddRow({s.impl, absl::StrFormat("%.2f us", u / 1e3),
                  absl::StrFormat("%.2f us", l / 1e3),
                  absl::StrFormat("%.2fx", ratio), absl::StrFormat("%.0f", ahead),
                  absl::StrFormat("%.2f -> %.2f us", u_request / 1e3,
                                  l_request / 1e3),
                  absl::StrFormat("%.2f -> %.2f us", u_reply / 1e3,
                                  l_reply / 1e3)});
    PrintBenchLine("hot_latency", s.impl, "unloaded_ns", u);
    PrintBenchLine("hot_latency", s.impl, "loaded_ns", l);
    PrintBenchLine("hot_latency", s.impl, "queued_ahead", ahead);
    PrintBenchLine("hot_latency", s.impl, "loaded_over_unloaded", ratio);
    PrintBenchLine("hot_latency", s.impl, "unloaded_request_ns", u_request);
    PrintBenchLine("hot_latency", s.impl, "loaded_request_ns", l_request);
    PrintBenchLine("hot_latency", s.impl, "unloaded_reply_ns", u_reply);
    PrintBenchLine("hot_latency", s.impl, "loaded_reply_ns", l_reply);
  }
  std::printf("\nhot_latency: a hot request's round trip, unloaded and "
              "behind a %d-message backlog (halves: unloaded -> loaded)\n",
              backlog);
  table.Print();
  std::printf("target: ringactor loaded/unloaded <= 2: %.2fx\n",
              ringactor_ratio);
}

int Main() {
  const bool smoke = absl::GetFlag(FLAGS_smoke);
  const int64_t per_sender = smoke ? 20'000 : absl::GetFlag(FLAGS_increments);
  const int per_shard = absl::GetFlag(FLAGS_senders_per_shard);
  const int backlog = smoke ? 1000 : absl::GetFlag(FLAGS_backlog);
  const int samples = smoke ? 5 : absl::GetFlag(FLAGS_samples);
  const int rounds = smoke ? 1 : absl::GetFlag(FLAGS_rounds);
  // Each sender deals its increments round-robin over the owners, and each
  // owner reports once it has its exact share: a multiple of kOwners.
  if (per_sender < kOwners || per_sender % kOwners != 0 || per_shard < 1 ||
      backlog < 0 || samples < 1 || rounds < 1) {
    std::fprintf(stderr, "--increments must be a positive multiple of %d "
                         "(the hot owners); --senders_per_shard, --samples "
                         "and --rounds >= 1; --backlog >= 0\n", kOwners);
    return 2;
  }
  std::printf("ringactor //bench:mailbox: %d senders per shard x 2 shards -> "
              "%d hot owners, %ld increments per sender%s\n\n",
              per_shard, kOwners, per_sender, smoke ? " (smoke)" : "");
  Series counter, coalesced, tell, caf;
  std::vector<LatencySeries> latency;
  for (const char* impl : {"ringactor", "caf", "mutex_queue", "spsc_limit"}) {
    latency.emplace_back(impl);
  }
  const std::string only = absl::GetFlag(FLAGS_scenario);
  if (!only.empty() && only != "hotspot" && only != "hot_latency") {
    std::fprintf(stderr, "--scenario: expected hotspot or hot_latency\n");
    return 2;
  }
  const bool run_hotspot = only.empty() || only == "hotspot";
  const bool run_latency = only.empty() || only == "hot_latency";
  if (run_latency) NanosPerTick();  // its one calibration, before any run
  for (int r = 0; r < rounds; ++r) {
    auto add = [](Series& s, HotspotResult h) {
      s.rate.push_back(h.increments_per_s);
      s.wakes.push_back(h.wakeups_per_s);
    };
    if (run_hotspot) {
      // Settled: each run starts from a trimmed heap (bench_util.h).
      add(counter,
          Settled(RingactorHotspot(Mode::kCounter, per_shard, per_sender)));
      add(coalesced,
          Settled(RingactorHotspot(Mode::kCoalesced, per_shard, per_sender)));
      add(tell, Settled(RingactorHotspot(Mode::kTell, per_shard, per_sender)));
      std::pair<double, double> best{0, 0};
      for (const char* policy : {"stealing", "sharing"}) {
        auto c = Settled(
            CafHotspot(policy, per_shard * kShards, per_sender, kOwners));
        if (c.first > best.first) best = c;
      }
      caf.rate.push_back(best.first);
      caf.wakes.push_back(best.second);
    }
    if (run_latency) {
      const std::function<HotLatency(int)> impls[] = {
          [samples](int b) { return MeasureHotLatency(b, samples); },
          [samples](int b) { return CafHotLatency("stealing", b, samples); },
          [samples](int b) { return MutexHotLatency(b, samples); },
          [samples](int b) { return SpscHotLatency(b, samples); },
      };
      for (size_t i = 0; i < latency.size(); ++i) {
        latency[i].unloaded.push_back(Settled(impls[i](0)));
        latency[i].loaded.push_back(Settled(impls[i](backlog)));
      }
    }
  }
  if (run_hotspot) PrintHotspot(counter, coalesced, tell, caf);
  if (run_latency) PrintHotLatency(latency, backlog);
  return 0;
}

}  // namespace
}  // namespace ringactor::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return ringactor::bench::Main();
}
