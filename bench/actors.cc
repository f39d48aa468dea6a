// File: bench/actors.cc
//
// //bench:actors: ringactor against CAF (and the SPSC physical limit) on the
// same actor workloads, in one process run:
//
//   pingpong         Ask round trip between actors on different shards
//                    (also reported: the same with both actors on one
//                    shard, and how often CAF's two handlers ran on two
//                    threads: CAF places them itself)
//   tell             2 senders on one shard -> 1 receiver on the other
//                    (ringactor's senders yield every 1,024 sends, as the
//                    docs advise bulk senders; CAF's send without pause;
//                    also reported: how many messages CAF's receiver
//                    handled on another thread than their sender's)
//   fanout_balanced  a request Asks 16 workers, waits for all 16 replies
//   fanout_skewed    the same, one worker does 20x the work
//                    (both run twice: workers pinned 8 per shard, and
//                    workers spawned Stealable, which idle shards steal)
//   spawn_memory     RSS per idle actor for 1,000,000 actors
//   idle             CPU of an idle system (2 shards, 10,000 actors)
//   idle_after_load  the same, for the fan-out's system after its run
//
// Both frameworks get 2 threads (ringactor: 2 shards; CAF: 2 scheduler
// threads, "stealing" and "sharing" both run, the better reported). Nothing
// is pinned, so neither gets an advantage from placement.

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "actors/actor_system.h"
#include "bench/actors_workload.h"
#include "bench/bench_messages.pb.h"
#include "bench/bench_util.h"
#include "bench/peers/caf_actors.h"
#include "bench/peers/spsc_limit.h"
#include "scheduler/notification.h"

ABSL_FLAG(bool, smoke, false, "tiny run: proves the benchmark works");
ABSL_FLAG(int64_t, pingpongs, 200'000, "round trips per impl");
ABSL_FLAG(int64_t, tells, 1'000'000, "messages per sender (2 senders)");
ABSL_FLAG(int64_t, requests, 10'000, "fan-out requests");
ABSL_FLAG(int64_t, spawn_actors, 1'000'000, "actors for spawn_memory");
ABSL_FLAG(double, idle_seconds, 3.0, "window for the idle CPU measurement");
ABSL_FLAG(bool, pin, false, "pin ringactor's shards to CPUs 0 and 1");
ABSL_FLAG(int, idle_spin_us, 50, "ringactor's idle_spin");
ABSL_FLAG(bool, only_ringactor, false,
          "skip the peers, spawn_memory and idle (for profiling and A/B "
          "pairs)");
ABSL_FLAG(int, rounds, 3, "interleaved rounds per impl; the median is kept");

namespace ringactor::bench {

namespace {

constexpr absl::Duration kDeadline = absl::Seconds(60);

std::unique_ptr<ActorSystem> NewSystem() {
  ActorSystemOptions o;
  o.num_shards = 2;
  o.pin_threads = absl::GetFlag(FLAGS_pin);
  o.idle_spin = absl::Microseconds(absl::GetFlag(FLAGS_idle_spin_us));
  auto sys = ActorSystem::Create(o);
  if (!sys.ok()) {
    std::fprintf(stderr, "ActorSystem::Create: %s\n",
                 sys.status().ToString().c_str());
    std::exit(1);
  }
  return *std::move(sys);
}

void Check(const absl::Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
    std::exit(1);
  }
}

// -- pingpong ------------------------------------------------------------------

class Ponger : public Actor {
 public:
  Pong Handle(const Ping& p) {
    Pong r;
    r.set_seq(p.seq());
    return r;
  }
};

class Pinger : public Actor {
 public:
  explicit Pinger(ActorRef<Ponger> peer) : peer_(peer) {}
  Task<absl::Status> Handle(const Run& r) {
    Ping p;
    for (int64_t i = 0; i < r.count(); ++i) {
      p.set_seq(i);
      absl::StatusOr<Pong> pong = co_await peer_.Ask(p, kDeadline);
      if (!pong.ok()) co_return pong.status();
    }
    co_return absl::OkStatus();
  }

 private:
  ActorRef<Ponger> peer_;
};

// The Ponger on shard `pong_shard`, the Pinger on shard 0.
double RingactorPingPong(int64_t iters, uint32_t pong_shard) {
  auto sys = NewSystem();
  auto pong = sys->Spawn<Ponger>(SpawnOptions{Pinned{ShardId(pong_shard)}});
  Check(pong.status(), "spawn");
  auto ping = sys->Spawn<Pinger>(SpawnOptions{Pinned{ShardId(0)}}, *pong);
  Check(ping.status(), "spawn");
  Run run;
  run.set_count(iters);
  const Clock::time_point start = Clock::now();
  Check(sys->RunOn(ShardId(0), [&]() -> Task<absl::Status> {
    co_return co_await ping->Ask(run, kDeadline);
  }),
        "pingpong");
  return Seconds(Clock::now() - start) * 1e9 / iters;
}

// -- tell ----------------------------------------------------------------------

class Receiver : public Actor {
 public:
  Receiver(int64_t expected, scheduler::Notification* done)
      : expected_(expected), done_(done) {}
  void Handle(const Small& m) {
    sum_ += m.value();
    if (++count_ == expected_) done_->Notify();
  }

 private:
  int64_t expected_;
  int64_t count_ = 0;
  int64_t sum_ = 0;
  scheduler::Notification* done_;
};

class Sender : public Actor {
 public:
  explicit Sender(ActorRef<Receiver> to) : to_(to) {}
  Task<absl::Status> Handle(const Run& r) {
    Small m;
    for (int64_t i = 0; i < r.count(); ++i) {
      m.set_value(i);
      absl::Status s = to_.Tell(m);
      if (!s.ok()) {  // inline; the library is called only on failure
        while (absl::IsResourceExhausted(s)) {  // lane and backlog full
          co_await Yield();
          s = to_.Tell(m);
        }
        if (!s.ok()) co_return s;
      }
      // A bulk sender ends its loop turn now and then (docs/actors.md), so
      // the shard drains what comes back and moves its backlog.
      if ((i & 1023) == 1023) co_await Yield();
    }
    co_return absl::OkStatus();
  }

 private:
  ActorRef<Receiver> to_;
};

double RingactorTell(int64_t per_sender) {
  auto sys = NewSystem();
  scheduler::Notification done;
  auto recv = sys->Spawn<Receiver>(SpawnOptions{Pinned{ShardId(1)}},
                                   2 * per_sender, &done);
  Check(recv.status(), "spawn");
  std::vector<ActorRef<Sender>> senders;
  for (int i = 0; i < 2; ++i) {
    auto s = sys->Spawn<Sender>(SpawnOptions{Pinned{ShardId(0)}}, *recv);
    Check(s.status(), "spawn");
    senders.push_back(*s);
  }
  Run run;
  run.set_count(per_sender);
  const Clock::time_point start = Clock::now();
  Check(sys->RunOn(ShardId(0), [&]() -> Task<absl::Status> {
    for (auto& r : co_await AskAll(senders, run, kDeadline)) {
      if (!r.ok()) co_return r;
    }
    co_return absl::OkStatus();
  }),
        "tell");
  done.WaitForNotification();
  return 2.0 * per_sender / Seconds(Clock::now() - start);
}

// -- fanout --------------------------------------------------------------------

// Stateless, so it may also be spawned Stealable (see RingactorFanout).
class Worker : public Actor {
 public:
  static constexpr bool kStateless = true;
  explicit Worker(int iterations) : iterations_(iterations) {}
  WorkDone Handle(const Work& w) {
    WorkDone d;
    d.set_value(HashWork(w.seed(), iterations_));
    return d;
  }

 private:
  int iterations_;
};

class Coordinator : public Actor {
 public:
  explicit Coordinator(std::vector<ActorRef<Worker>> workers)
      : workers_(std::move(workers)) {}
  Task<absl::Status> Handle(const Run& r) {
    Work w;
    for (int64_t i = 0; i < r.count(); ++i) {
      w.set_seed(i + 1);
      for (auto& reply : co_await AskAll(workers_, w, kDeadline)) {
        if (!reply.ok()) co_return reply.status();
      }
    }
    co_return absl::OkStatus();
  }

 private:
  std::vector<ActorRef<Worker>> workers_;
};

// The CPU this process uses over `seconds` once its shards have gone past
// every idle spin (100 ms on), while this thread sleeps.
double IdleCpuPercent(double seconds) {
  absl::SleepFor(absl::Milliseconds(100));
  return ProcessCpuPercentWhileSleeping(seconds);
}

// `stealable`: the workers are spawned Stealable, so each request's 16
// Asks queue on the coordinator's shard and the other shard steals from
// there; otherwise they are pinned, 8 per shard.
//
// With `idle_cpu`: afterwards, once past every idle spin, the CPU the idle
// system uses over `idle_seconds` (a shard that never parks again after
// load, as a stale kernel TASKRUN flag once made one, shows here as ~100%).
double RingactorFanout(const FanoutParams& p, bool stealable,
                       double* idle_cpu = nullptr, double idle_seconds = 0) {
  auto sys = NewSystem();
  std::vector<ActorRef<Worker>> workers;
  for (int i = 0; i < p.workers; ++i) {
    const Placement placement =
        stealable ? Placement(Stealable{}) : Placement(Pinned{ShardId(i % 2)});
    auto w = sys->Spawn<Worker>(SpawnOptions{placement},
                                p.WorkerIterations(i));
    Check(w.status(), "spawn");
    workers.push_back(*w);
  }
  auto coord =
      sys->Spawn<Coordinator>(SpawnOptions{Pinned{ShardId(0)}}, workers);
  Check(coord.status(), "spawn");
  Run run;
  run.set_count(p.requests);
  const Clock::time_point start = Clock::now();
  Check(sys->RunOn(ShardId(0), [&]() -> Task<absl::Status> {
    co_return co_await coord->Ask(run, kDeadline);
  }),
        "fanout");
  const double rate = p.requests / Seconds(Clock::now() - start);
  if (idle_cpu != nullptr) *idle_cpu = IdleCpuPercent(idle_seconds);
  return rate;
}

// The ideal: all the hashing of a request spread evenly over both threads.
double IdealFanout(const FanoutParams& p) {
  int64_t iters = 0;
  for (int i = 0; i < p.workers; ++i) iters += p.WorkerIterations(i);
  const int64_t reps = 2000;
  uint64_t sink = 0;
  const Clock::time_point start = Clock::now();
  for (int64_t r = 0; r < reps; ++r) sink += HashWork(r, static_cast<int>(iters));
  const double per_request_s = Seconds(Clock::now() - start) / reps;
  if (sink == 42) std::printf(" ");
  return 2.0 / per_request_s;
}

// -- spawn_memory --------------------------------------------------------------

class Idle : public Actor {
 public:
  void Handle(const Small&) {}
};

double RingactorSpawnMemory(int64_t n) {
  auto sys = NewSystem();
  std::vector<ActorRef<Idle>> refs;
  refs.reserve(n);
  const uint64_t before = ResidentBytes();
  for (int64_t i = 0; i < n; ++i) {
    auto r = sys->Spawn<Idle>();
    Check(r.status(), "spawn");
    refs.push_back(*r);
  }
  // Every actor started on its shard.
  while (sys->Stats().total.live_actors < static_cast<uint64_t>(n)) {
    std::this_thread::yield();
  }
  return static_cast<double>(ResidentBytes() - before) / n;
}

// -- idle ------------------------------------------------------------------------

// CPU used by an idle system (2 shards, 10,000 started actors, nothing to
// do), in percent of one CPU over `seconds`.
double RingactorIdleCpuPercent(double seconds) {
  auto sys = NewSystem();
  std::vector<ActorRef<Idle>> refs;
  for (int i = 0; i < 10'000; ++i) refs.push_back(*sys->Spawn<Idle>());
  while (sys->Stats().total.live_actors < refs.size()) std::this_thread::yield();
  return IdleCpuPercent(seconds);
}

// Runs `fn` in a fresh child process (before this process starts threads)
// so that each framework's RSS is measured from a clean heap.
double InChild(const std::function<double()>& fn) {
  int fds[2];
  if (pipe(fds) != 0) return 0;
  const pid_t pid = fork();
  if (pid == 0) {
    const double v = fn();
    (void)!write(fds[1], &v, sizeof(v));
    _exit(0);
  }
  close(fds[1]);
  double v = 0;
  if (read(fds[0], &v, sizeof(v)) != sizeof(v)) v = 0;
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return v;
}

int Main() {
  const bool smoke = absl::GetFlag(FLAGS_smoke);
  const int64_t pingpongs = smoke ? 2'000 : absl::GetFlag(FLAGS_pingpongs);
  const int64_t tells = smoke ? 20'000 : absl::GetFlag(FLAGS_tells);
  const int64_t spawn_n = smoke ? 20'000 : absl::GetFlag(FLAGS_spawn_actors);
  FanoutParams balanced;
  balanced.requests = smoke ? 200 : absl::GetFlag(FLAGS_requests);
  FanoutParams skewed = balanced;
  skewed.skew = 20;
  const int rounds = smoke ? 1 : absl::GetFlag(FLAGS_rounds);
  const double idle_s = smoke ? 0.3 : absl::GetFlag(FLAGS_idle_seconds);
  if (pingpongs < 0 || tells < 0 || spawn_n < 0 || balanced.requests < 0 ||
      idle_s < 0 || rounds < 1) {
    std::fprintf(stderr, "counts and --idle_seconds must be >= 0 (0 skips "
                         "that scenario), --rounds >= 1\n");
    return 2;
  }

  std::printf("ringactor //bench:actors: 2 shards vs CAF 0.17 with 2 "
              "scheduler threads (best of stealing/sharing)%s\n\n",
              smoke ? " (smoke)" : "");
  // A count of 0 skips that scenario for every implementation.
  const bool only_ringactor = absl::GetFlag(FLAGS_only_ringactor);
  const bool run_mem = !only_ringactor && spawn_n > 0;
  const bool run_idle = !only_ringactor && idle_s > 0;
  // Fresh processes, before any thread exists.
  const double ra_mem =
      run_mem ? InChild([&] { return RingactorSpawnMemory(spawn_n); }) : 0;
  const double caf_mem =
      run_mem ? InChild([&] { return CafSpawnMemory(spawn_n); }) : 0;
  const double idle_cpu =
      run_idle ? InChild([&] { return RingactorIdleCpuPercent(idle_s); }) : 0;
  const double idle_after_load_cpu =
      run_idle ? InChild([&] {
        double cpu = 0;
        RingactorFanout(balanced, /*stealable=*/false, &cpu, idle_s);
        return cpu;
      })
               : 0;

  struct Series {
    std::vector<double> rtt, rtt_one_shard, cross_thread, tell,
        tell_cross_thread, bal, skew, steal_bal, steal_skew;
  } ra, caf, spsc;
  for (int round = 0; round < rounds; ++round) {
    // Settled: each run starts from a trimmed heap (bench_util.h).
    if (pingpongs > 0) {
      ra.rtt.push_back(Settled(RingactorPingPong(pingpongs, 1)));
      ra.rtt_one_shard.push_back(Settled(RingactorPingPong(pingpongs, 0)));
    }
    if (tells > 0) ra.tell.push_back(Settled(RingactorTell(tells)));
    if (balanced.requests > 0) {
      ra.bal.push_back(Settled(RingactorFanout(balanced, false)));
      ra.skew.push_back(Settled(RingactorFanout(skewed, false)));
      ra.steal_bal.push_back(Settled(RingactorFanout(balanced, true)));
      ra.steal_skew.push_back(Settled(RingactorFanout(skewed, true)));
    }
    if (only_ringactor) continue;
    CafPingPongResult best_pp{1e30, 0};
    CafTellResult best_tell{0, 0};
    double best_bal = 0, best_skew = 0;
    for (const char* policy : {"stealing", "sharing"}) {
      if (pingpongs > 0) {
        const CafPingPongResult pp = Settled(CafPingPong(policy, pingpongs));
        if (pp.rtt_ns < best_pp.rtt_ns) best_pp = pp;
      }
      if (tells > 0) {
        const CafTellResult t = Settled(CafTell(policy, tells));
        if (t.msgs_per_s > best_tell.msgs_per_s) best_tell = t;
      }
      if (balanced.requests > 0) {
        best_bal = std::max(best_bal, Settled(CafFanout(policy, balanced)));
        best_skew = std::max(best_skew, Settled(CafFanout(policy, skewed)));
      }
    }
    if (pingpongs > 0) {
      caf.rtt.push_back(best_pp.rtt_ns);
      caf.cross_thread.push_back(best_pp.cross_thread);
      spsc.rtt.push_back(Settled(SpscPingPong(pingpongs)));
    }
    if (tells > 0) {
      caf.tell.push_back(best_tell.msgs_per_s);
      caf.tell_cross_thread.push_back(best_tell.cross_thread);
    }
    if (balanced.requests > 0) {
      caf.bal.push_back(best_bal);
      caf.skew.push_back(best_skew);
    }
  }
  if (only_ringactor) {
    std::printf("ringactor only: rtt %.0f ns (one shard: %.0f ns), tell "
                "%s/s, fanout %s/s and %s/s (stealable workers: %s/s and "
                "%s/s)\n",
                Median(ra.rtt), Median(ra.rtt_one_shard),
                Human(Median(ra.tell)).c_str(),
                Human(Median(ra.bal)).c_str(), Human(Median(ra.skew)).c_str(),
                Human(Median(ra.steal_bal)).c_str(),
                Human(Median(ra.steal_skew)).c_str());
    return 0;
  }
  const double ideal_bal = IdealFanout(balanced);
  const double ideal_skew = IdealFanout(skewed);
  const double r_rtt = Median(ra.rtt), c_rtt = Median(caf.rtt),
               s_rtt = Median(spsc.rtt), r_rtt1 = Median(ra.rtt_one_shard),
               c_cross = Median(caf.cross_thread);
  const double r_tell = Median(ra.tell), c_tell = Median(caf.tell),
               c_tell_cross = Median(caf.tell_cross_thread);
  const double r_bal = Median(ra.bal), c_bal = Median(caf.bal);
  const double r_skew = Median(ra.skew), c_skew = Median(caf.skew);
  const double st_bal = Median(ra.steal_bal), st_skew = Median(ra.steal_skew);

  Table table({"scenario", "metric", "ringactor", "caf", "spsc_limit",
               "ringactor vs caf"});
  std::string targets;
  if (pingpongs > 0) {
    table.AddRow({"pingpong", "rtt_ns", absl::StrFormat("%.0f", r_rtt),
                  absl::StrFormat("%.0f", c_rtt),
                  absl::StrFormat("%.0f", s_rtt),
                  absl::StrFormat("%.2fx faster", c_rtt / r_rtt)});
    table.AddRow({"pingpong (ringactor: one shard)", "rtt_ns",
                  absl::StrFormat("%.0f", r_rtt1),
                  absl::StrFormat("%.0f", c_rtt), "-",
                  absl::StrFormat("%.2fx faster", c_rtt / r_rtt1)});
    absl::StrAppendFormat(&targets,
                          "pingpong >= 3x CAF: %.2fx, <= 2.5x spsc_limit: "
                          "%.2fx; ",
                          c_rtt / r_rtt, r_rtt / s_rtt);
  }
  if (tells > 0) {
    table.AddRow({"tell", "msgs_per_s", Human(r_tell), Human(c_tell), "-",
                  absl::StrFormat("%.2fx", r_tell / c_tell)});
    absl::StrAppendFormat(&targets, "tell >= 5x CAF: %.2fx; ",
                          r_tell / c_tell);
  }
  if (balanced.requests > 0) {
    table.AddRow({"fanout_balanced", "requests_per_s", Human(r_bal),
                  Human(c_bal), "-", absl::StrFormat("%.2fx", r_bal / c_bal)});
    table.AddRow({"fanout_skewed", "requests_per_s", Human(r_skew),
                  Human(c_skew), "-",
                  absl::StrFormat("%.2fx", r_skew / c_skew)});
    table.AddRow({"fanout_balanced (stealable workers)", "requests_per_s",
                  Human(st_bal), Human(c_bal), "-",
                  absl::StrFormat("%.2fx", st_bal / c_bal)});
    table.AddRow({"fanout_skewed (stealable workers)", "requests_per_s",
                  Human(st_skew), Human(c_skew), "-",
                  absl::StrFormat("%.2fx", st_skew / c_skew)});
    absl::StrAppendFormat(&targets,
                          "fanout >= 2x CAF: pinned workers %.2fx / %.2fx, "
                          "stealable workers %.2fx / %.2fx; ",
                          r_bal / c_bal, r_skew / c_skew, st_bal / c_bal,
                          st_skew / c_skew);
  }
  if (run_mem) {
    table.AddRow({"spawn_memory", "bytes_per_actor",
                  absl::StrFormat("%.0f", ra_mem),
                  absl::StrFormat("%.0f", caf_mem), "-",
                  absl::StrFormat("%.2fx smaller", caf_mem / ra_mem)});
    absl::StrAppendFormat(&targets, "spawn <= 256 B: %.0f B", ra_mem);
  }
  table.Print();
  std::printf("\ntargets: %s\n", targets.c_str());
  if (run_idle) {
    std::printf("idle: 2 shards with 10,000 idle actors use %.3f%% of one "
                "CPU over %.1f s; after a %lld-request fan-out, %.3f%%\n",
                idle_cpu, idle_s, static_cast<long long>(balanced.requests),
                idle_after_load_cpu);
  }
  if (balanced.requests > 0) {
    std::printf("fanout vs ideal (all work spread over 2 threads): balanced "
                "ringactor %.0f%% (stealable %.0f%%), caf %.0f%%; skewed "
                "ringactor %.0f%% (stealable %.0f%%), caf %.0f%%\n",
                100 * r_bal / ideal_bal, 100 * st_bal / ideal_bal,
                100 * c_bal / ideal_bal, 100 * r_skew / ideal_skew,
                100 * st_skew / ideal_skew, 100 * c_skew / ideal_skew);
  }
  if (pingpongs > 0) {
    std::printf("pingpong: CAF ran the request and the reply handler on "
                "different threads in %.1f%% of round trips (ringactor's "
                "pingpong: 100%%, its actors are pinned to shards 0 and 1)\n",
                100 * c_cross);
  }
  if (tells > 0) {
    std::printf("tell: CAF's receiver handled %.1f%% of the messages on "
                "another thread than their sender's (ringactor's tell: 100%%, "
                "senders on shard 0, receiver on shard 1)\n",
                100 * c_tell_cross);
  }
  std::printf("\n");
  if (pingpongs > 0) {
    PrintBenchLine("pingpong", "ringactor", "rtt_ns", r_rtt);
    PrintBenchLine("pingpong_one_shard", "ringactor", "rtt_ns", r_rtt1);
    PrintBenchLine("pingpong", "caf", "cross_thread_pct", 100 * c_cross);
    PrintBenchLine("pingpong", "caf", "rtt_ns", c_rtt);
    PrintBenchLine("pingpong", "spsc_limit", "rtt_ns", s_rtt);
  }
  if (tells > 0) {
    PrintBenchLine("tell", "ringactor", "msgs_per_s", r_tell);
    PrintBenchLine("tell", "caf", "msgs_per_s", c_tell);
    PrintBenchLine("tell", "caf", "cross_thread_pct", 100 * c_tell_cross);
  }
  if (balanced.requests > 0) {
    PrintBenchLine("fanout_balanced", "ringactor", "requests_per_s", r_bal);
    PrintBenchLine("fanout_balanced", "caf", "requests_per_s", c_bal);
    PrintBenchLine("fanout_balanced", "ringactor_stealable", "requests_per_s",
                   st_bal);
    PrintBenchLine("fanout_balanced", "ideal", "requests_per_s", ideal_bal);
    PrintBenchLine("fanout_skewed", "ringactor", "requests_per_s", r_skew);
    PrintBenchLine("fanout_skewed", "caf", "requests_per_s", c_skew);
    PrintBenchLine("fanout_skewed", "ringactor_stealable", "requests_per_s",
                   st_skew);
    PrintBenchLine("fanout_skewed", "ideal", "requests_per_s", ideal_skew);
  }
  if (run_mem) {
    PrintBenchLine("spawn_memory", "ringactor", "bytes_per_actor", ra_mem);
    PrintBenchLine("spawn_memory", "caf", "bytes_per_actor", caf_mem);
  }
  if (run_idle) {
    PrintBenchLine("idle", "ringactor", "cpu_percent", idle_cpu);
    PrintBenchLine("idle_after_load", "ringactor", "cpu_percent",
                   idle_after_load_cpu);
  }
  return 0;
}

}  // namespace
}  // namespace ringactor::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return ringactor::bench::Main();
}
