// //bench:transport — one-way throughput and ping-pong round trip between two
// pinned shards for ringactor's lanes + doorbells and its peers, plus the CPU
// an idle runtime burns. `--smoke` runs a tiny version (the test suite does).

#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/bench_util.h"
#include "bench/peers/mutex_queue.h"
#include "bench/peers/spsc_limit.h"
#include "bench/peers/spsc_ring.h"
#include "io/ring.h"
#include "transport/mesh.h"

ABSL_FLAG(bool, smoke, false, "tiny run: proves the benchmark works");
ABSL_FLAG(uint64_t, messages, 10'000'000, "one-way messages per impl");
ABSL_FLAG(uint64_t, pingpongs, 200'000, "round trips per impl");
ABSL_FLAG(double, idle_seconds, 5.0, "idle window for the CPU measurement");
ABSL_FLAG(bool, spin_sweep, true, "also measure ping-pong per idle_spin");
ABSL_FLAG(int, rounds, 3, "interleaved rounds per impl; the median is kept");

namespace ringactor::bench {
namespace {

using transport::Endpoint;
using transport::Envelope;
using transport::Mesh;
using transport::MeshOptions;
using transport::Receiver;
using transport::ShardId;
using Clock = std::chrono::steady_clock;




// Runs `a` on CPU 0 and `b` on CPU 1 and waits for both.

struct Result {
  double msgs_per_s = 0;
  double rtt_ns = 0;
};

// -- ringactor: lanes + doorbells -------------------------------------------

// A shard thread's scaffolding: its own ring, attached to the mesh.
template <typename Body>
void AsShard(Mesh& mesh, int id, Body&& body) {
  auto ring = io::Ring::Create();
  if (!ring.ok()) {
    std::fprintf(stderr, "ring: %s\n", ring.status().ToString().c_str());
    std::abort();
  }
  Endpoint& ep = mesh.endpoint(ShardId(id));
  if (!ep.Attach(ring->get()).ok()) std::abort();
  body(ep);
  if (!ep.Detach().ok()) std::abort();
}

struct CountReceiver : Receiver {
  uint64_t count = 0;
  void OnEnvelopes(ShardId, const Envelope*, size_t n) override { count += n; }
  void OnWord(uint32_t, uint64_t) override {}
};

double RingactorOneway(uint64_t n) {
  MeshOptions o;
  auto mesh = Mesh::Create(o).value();
  std::atomic<int> attached{0};
  std::atomic<bool> done{false};
  Clock::time_point start, end;
  RunPair(
      [&] {
        AsShard(*mesh, 0, [&](Endpoint& ep) {
          attached.fetch_add(1);
          while (attached.load() < 2) CpuRelax();
          CountReceiver own;
          start = Clock::now();
          for (uint64_t i = 0; i < n;) {
            if (ep.Send(ShardId(1), {i, i}).ok()) {
              if ((++i & 255) == 0) (void)ep.Flush();
            } else {
              ep.Poll(own, 64);  // lane full: let the consumer catch up
              CpuRelax();
            }
          }
          (void)ep.Flush();
          while (!done.load(std::memory_order_acquire)) {
            if (ep.Poll(own, 64) == 0) (void)ep.Park(absl::Milliseconds(1));
          }
        });
      },
      [&] {
        AsShard(*mesh, 1, [&](Endpoint& ep) {
          attached.fetch_add(1);
          CountReceiver r;
          while (r.count < n) {
            if (ep.Poll(r, 4096) == 0) (void)ep.Park();
          }
          end = Clock::now();
          done.store(true, std::memory_order_release);
        });
      });
  return n / Seconds(end - start);
}

// Shard 1 echoes every envelope back to shard 0.
struct EchoReceiver : Receiver {
  Endpoint* ep = nullptr;
  uint64_t count = 0;
  void OnEnvelopes(ShardId from, const Envelope* e, size_t n) override {
    for (size_t i = 0; i < n; ++i) (void)ep->Send(from, e[i]);
    count += n;
  }
  void OnWord(uint32_t, uint64_t) override {}
};

double RingactorPingPong(uint64_t iters, absl::Duration spin) {
  MeshOptions o;
  o.idle_spin = spin;
  auto mesh = Mesh::Create(o).value();
  std::atomic<int> attached{0};
  Clock::time_point start, end;
  RunPair(
      [&] {
        AsShard(*mesh, 0, [&](Endpoint& ep) {
          attached.fetch_add(1);
          while (attached.load() < 2) CpuRelax();
          CountReceiver r;
          start = Clock::now();
          for (uint64_t i = 0; i < iters; ++i) {
            (void)ep.Send(ShardId(1), {i, i});
            (void)ep.Flush();
            while (r.count == i) {
              if (ep.Poll(r, 64) == 0) (void)ep.Park();
            }
          }
          end = Clock::now();
        });
      },
      [&] {
        AsShard(*mesh, 1, [&](Endpoint& ep) {
          attached.fetch_add(1);
          EchoReceiver r;
          r.ep = &ep;
          while (r.count < iters) {
            const size_t handled = ep.Poll(r, 64);
            (void)ep.Flush();  // replies leave in this loop turn
            if (handled == 0) (void)ep.Park();
          }
        });
      });
  return Seconds(end - start) * 1e9 / iters;
}

// CPU used by two idle ringactor shards, as a percent of one CPU.
double RingactorIdleCpuPercent(double seconds) {
  MeshOptions o;
  auto mesh = Mesh::Create(o).value();
  std::atomic<bool> stop{false};
  std::atomic<int> attached{0};
  auto shard = [&](int id) {
    AsShard(*mesh, id, [&](Endpoint& ep) {
      attached.fetch_add(1);
      CountReceiver r;
      while (!stop.load(std::memory_order_acquire)) {
        if (ep.Poll(r, 64) == 0) (void)ep.Park();
      }
    });
  };
  std::thread t0([&] { PinToCpu(0); shard(0); });
  std::thread t1([&] { PinToCpu(1); shard(1); });
  while (attached.load() < 2) std::this_thread::yield();
  absl::SleepFor(absl::Milliseconds(50));  // let both finish their spin
  const double percent = ProcessCpuPercentWhileSleeping(seconds);
  stop = true;
  (void)mesh->Wake(ShardId(0));
  (void)mesh->Wake(ShardId(1));
  t0.join();
  t1.join();
  return percent;
}

// Round trip from a foreign thread (no ring) into a shard that sleeps before
// every message (idle_spin = 0): the price of the foreign wake mechanism.
double ForeignWakeRtt(uint64_t iters, transport::ForeignWake wake) {
  MeshOptions o;
  o.num_shards = 1;
  o.idle_spin = absl::ZeroDuration();
  o.foreign_wake = wake;
  auto mesh = Mesh::Create(o).value();
  std::atomic<uint64_t> replies{0};
  std::atomic<bool> attached{false}, stop{false};
  struct Reply : Receiver {
    std::atomic<uint64_t>* replies;
    void OnEnvelopes(ShardId, const Envelope*, size_t n) override {
      replies->fetch_add(n, std::memory_order_release);
      replies->notify_one();
    }
    void OnWord(uint32_t, uint64_t) override {}
  } r;
  r.replies = &replies;
  Clock::time_point start, end;
  RunPair(
      [&] {
        while (!attached.load()) std::this_thread::yield();
        start = Clock::now();
        for (uint64_t i = 0; i < iters; ++i) {
          while (!mesh->Inject(ShardId(0), {i, i}).ok()) CpuRelax();
          uint64_t seen;
          while ((seen = replies.load(std::memory_order_acquire)) == i) {
            replies.wait(seen);
          }
        }
        end = Clock::now();
        stop = true;
        (void)mesh->Wake(ShardId(0));
      },
      [&] {
        AsShard(*mesh, 0, [&](Endpoint& ep) {
          attached = true;
          while (!stop.load()) {
            if (ep.Poll(r, 64) == 0) (void)ep.Park();
          }
        });
      });
  return Seconds(end - start) * 1e9 / iters;
}

// -- spsc_limit: busy-polled SPSC ring ---------------------------------------



// -- msgring_raw: one MSG_RING per message -------------------------------------

struct WordCounter : io::WordSink {
  std::atomic<uint64_t> count{0};
  void OnWord(uint32_t, uint64_t) noexcept override {
    count.store(count.load(std::memory_order_relaxed) + 1,
                std::memory_order_release);
  }
};

double MsgRingOneway(uint64_t n) {
  std::atomic<int> target_fd{-1};
  WordCounter counter;
  Clock::time_point start, end;
  RunPair(
      [&] {
        auto ring = io::Ring::Create().value();
        while (target_fd.load() < 0) CpuRelax();
        start = Clock::now();
        for (uint64_t i = 0; i < n;) {
          // Keep at most 4096 in flight so the target CQ never overflows.
          if (i - counter.count.load(std::memory_order_acquire) >= 4096) {
            CpuRelax();
            continue;
          }
          (void)ring->PrepareSendWord(target_fd, 1, i, nullptr, true);
          if ((++i & 63) == 0) (void)ring->Submit();
        }
        (void)ring->Submit();
      },
      [&] {
        auto ring = io::Ring::Create().value();
        target_fd = ring->fd();
        while (counter.count.load() < n) {
          (void)ring->SubmitAndWait(absl::InfiniteDuration());
          ring->Reap(&counter);
        }
        end = Clock::now();
      });
  return n / Seconds(end - start);
}

double MsgRingPingPong(uint64_t iters) {
  std::atomic<int> fd0{-1}, fd1{-1};
  Clock::time_point start, end;
  RunPair(
      [&] {
        auto ring = io::Ring::Create().value();
        fd0 = ring->fd();
        while (fd1.load() < 0) CpuRelax();
        WordCounter got;
        start = Clock::now();
        for (uint64_t i = 0; i < iters; ++i) {
          (void)ring->PrepareSendWord(fd1, 1, i, nullptr, true);
          (void)ring->Submit();
          while (got.count.load() == i) {
            (void)ring->SubmitAndWait(absl::InfiniteDuration());
            ring->Reap(&got);
          }
        }
        end = Clock::now();
      },
      [&] {
        auto ring = io::Ring::Create().value();
        fd1 = ring->fd();
        while (fd0.load() < 0) CpuRelax();
        WordCounter got;
        for (uint64_t i = 0; i < iters; ++i) {
          while (got.count.load() == i) {
            (void)ring->SubmitAndWait(absl::InfiniteDuration());
            ring->Reap(&got);
          }
          (void)ring->PrepareSendWord(fd0, 1, i, nullptr, true);
          (void)ring->Submit();
        }
      });
  return Seconds(end - start) * 1e9 / iters;
}

// -- mutex_condvar ---------------------------------------------------------------

double MutexOneway(uint64_t n) {
  MutexQueue<Payload> q;
  Clock::time_point start, end;
  RunPair(
      [&] {
        start = Clock::now();
        for (uint64_t i = 0; i < n; ++i) q.Push({i, i});
      },
      [&] {
        std::deque<Payload> batch;
        for (uint64_t got = 0; got < n;) {
          q.PopAll(batch);
          got += batch.size();
          batch.clear();
        }
        end = Clock::now();
      });
  return n / Seconds(end - start);
}

double MutexPingPong(uint64_t iters) {
  MutexQueue<Payload> there, back;
  Clock::time_point start, end;
  RunPair(
      [&] {
        std::deque<Payload> batch;
        start = Clock::now();
        for (uint64_t i = 0; i < iters; ++i) {
          there.Push({i, i});
          back.PopAll(batch);
          batch.clear();
        }
        end = Clock::now();
      },
      [&] {
        std::deque<Payload> batch;
        for (uint64_t i = 0; i < iters;) {
          there.PopAll(batch);
          for (const Payload& p : batch) back.Push(p);
          i += batch.size();
          batch.clear();
        }
      });
  return Seconds(end - start) * 1e9 / iters;
}

int Main() {
  const bool smoke = absl::GetFlag(FLAGS_smoke);
  const uint64_t n = smoke ? 20'000 : absl::GetFlag(FLAGS_messages);
  const uint64_t iters = smoke ? 2'000 : absl::GetFlag(FLAGS_pingpongs);
  // The kernel-wake peers are ~100x slower per message: fewer iterations.
  const uint64_t slow_n = smoke ? 2'000 : n / 10;
  const uint64_t slow_iters = smoke ? 200 : iters / 20;
  const double idle_s = smoke ? 0.2 : absl::GetFlag(FLAGS_idle_seconds);
  const int rounds = smoke ? 1 : absl::GetFlag(FLAGS_rounds);
  if (n < 10 || iters < 20 || idle_s <= 0 || rounds < 1) {
    std::fprintf(stderr, "--messages must be >= 10, --pingpongs >= 20 (the "
                         "kernel-wake peers run a tenth and a twentieth), "
                         "--idle_seconds > 0, --rounds >= 1\n");
    return 2;
  }

  std::printf("ringactor //bench:transport: 2 shards pinned to CPUs 0 and 1, "
              "16-byte payloads%s\n\n", smoke ? " (smoke)" : "");
  struct Row {
    std::string impl;
    std::function<double()> oneway, pingpong;
    std::vector<double> oneways, rtts;
    Result r;
  };
  const absl::Duration spin = MeshOptions().idle_spin;
  std::vector<Row> rows = {
      {"ringactor", [&] { return RingactorOneway(n); },
       [&] { return RingactorPingPong(iters, spin); }, {}, {}, {}},
      {"spsc_limit", [&] { return SpscOneway(n); },
       [&] { return SpscPingPong(iters); }, {}, {}, {}},
      {"msgring_raw", [&] { return MsgRingOneway(slow_n); },
       [&] { return MsgRingPingPong(slow_iters); }, {}, {}, {}},
      {"mutex_condvar", [&] { return MutexOneway(slow_n); },
       [&] { return MutexPingPong(slow_iters); }, {}, {}, {}},
  };
  // Rounds interleave the impls so that a noisy stretch of this shared
  // machine hits all of them; each figure is the impl's median round.
  for (int round = 0; round < rounds; ++round) {
    for (Row& row : rows) {
      row.oneways.push_back(row.oneway());
      row.rtts.push_back(row.pingpong());
    }
  }
  for (Row& row : rows) row.r = {Median(row.oneways), Median(row.rtts)};
  const double idle = RingactorIdleCpuPercent(idle_s);

  Table table({"impl", "oneway msgs/s", "pingpong rtt", "oneway vs spsc",
               "rtt vs spsc"});
  const Result& limit = rows[1].r;
  for (const Row& row : rows) {
    table.AddRow({row.impl, Human(row.r.msgs_per_s),
                  absl::StrFormat("%.0f ns", row.r.rtt_ns),
                  absl::StrFormat("%.1f%%", 100 * row.r.msgs_per_s / limit.msgs_per_s),
                  absl::StrFormat("%.2fx", row.r.rtt_ns / limit.rtt_ns)});
  }
  table.Print();
  const Result& ra = rows[0].r;
  std::printf("\nidle: two parked ringactor shards use %.3f%% of one CPU\n",
              idle);
  std::printf("targets: oneway >= 50%% of spsc_limit: %.1f%%; rtt <= 1.5x "
              "spsc_limit: %.2fx; oneway >= 5x mutex_condvar: %.1fx; "
              "idle < 1%%: %.3f%%\n\n",
              100 * ra.msgs_per_s / limit.msgs_per_s, ra.rtt_ns / limit.rtt_ns,
              ra.msgs_per_s / rows[3].r.msgs_per_s, idle);
  for (const Row& row : rows) {
    PrintBenchLine("oneway", row.impl, "msgs_per_s", row.r.msgs_per_s);
    PrintBenchLine("pingpong", row.impl, "rtt_ns", row.r.rtt_ns);
  }
  PrintBenchLine("idle", "ringactor", "cpu_percent", idle);

  // How the idle spin window trades CPU for wake latency, and what a foreign
  // thread's wake costs per mechanism (README "Choosing idle_spin").
  if (absl::GetFlag(FLAGS_spin_sweep)) {
    std::printf("\nping-pong round trip by idle_spin:\n");
    for (int us : {0, 2, 10, 50}) {
      const double rtt = RingactorPingPong(us < 10 ? slow_iters : iters,
                                           absl::Microseconds(us));
      std::printf("  idle_spin=%2d us  rtt=%.0f ns\n", us, rtt);
      PrintBenchLine("pingpong_spin", absl::StrCat("ringactor_spin_", us, "us"),
                     "rtt_ns", rtt);
    }
  }
  std::printf("\nforeign thread -> sleeping shard -> reply, round trip:\n");
  for (auto [name, wake] :
       {std::pair{"sendmsgring", transport::ForeignWake::kSendMsgRing},
        std::pair{"eventfd", transport::ForeignWake::kEventfd}}) {
    if (wake == transport::ForeignWake::kSendMsgRing) {
      auto probe = io::Ring::Create();
      if (!probe.ok() || !(*probe)->features().send_msg_ring_without_ring) {
        std::printf("  %s: not supported by this kernel\n", name);
        continue;
      }
    }
    const double rtt = ForeignWakeRtt(slow_iters, wake);
    std::printf("  %-12s rtt=%.0f ns\n", name, rtt);
    PrintBenchLine("foreign_wake", absl::StrCat("ringactor_", name), "rtt_ns",
                   rtt);
  }
  return 0;
}

}  // namespace
}  // namespace ringactor::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return ringactor::bench::Main();
}
