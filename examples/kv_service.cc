// examples/kv_service: a sharded key-value service driven by a foreign
// thread pool — ringactor's main example.
//
// The store is `--partitions` KvPartition actors, each placed on a shard with
// Sticky(partition), registered by name, holding its keys in a hash map. A
// plain std::thread pool of `--threads` request threads (standing in for a
// server's workers) runs a closed-loop get/put mix through the Boundary
// (blocking Call with a deadline) for `--duration`, printing live progress;
// then ops/s and latency percentiles. Each thread puts only its own keys and
// remembers the last value it wrote, so the end of the run reads every key
// back and checks it: nothing lost, nothing stale.
//
//   bazel run -c opt //examples:kv_service -- --threads=4 --duration=10

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "actors/actor_system.h"
#include "actors/boundary.h"
#include "examples/kv.pb.h"
#include "scheduler/clock.h"
#include "scheduler/placement.h"

ABSL_FLAG(int, threads, 4, "request threads (the foreign pool)");
ABSL_FLAG(int, keys, 100'000, "distinct keys");
ABSL_FLAG(int, read_percent, 90, "share of gets in the mix, [0, 100]");
// Seconds, as a double: an absl::Duration flag's reader uses a fence that
// ThreadSanitizer builds reject.
ABSL_FLAG(double, duration, 10.0, "how long to run, in seconds");
ABSL_FLAG(int, partitions, 64, "KV actors");
ABSL_FLAG(int, value_bytes, 32, "bytes per value");
ABSL_FLAG(int, boundary_spin_us, 0,
          "how long a request thread polls for its reply before it sleeps "
          "(ActorSystemOptions::boundary_spin; 0: block at once)");

namespace ringactor::kv {
namespace {

constexpr absl::Duration kCallDeadline = absl::Seconds(2);

// One partition of the store. Lives on one shard for its whole life.
class KvPartition : public Actor {
 public:
  GetReply Handle(const GetRequest& r) {
    GetReply out;
    auto it = map_.find(r.key());
    if (it != map_.end()) {
      out.set_found(true);
      out.set_value(it->second);
    }
    return out;
  }
  PutReply Handle(const PutRequest& r) {
    PutReply out;
    auto [it, inserted] = map_.insert_or_assign(r.key(), r.value());
    out.set_created(inserted);
    return out;
  }

 private:
  absl::flat_hash_map<std::string, std::string> map_;
};

std::string Key(int k) { return absl::StrCat("key-", k); }

struct Worker {
  std::vector<uint32_t> latency_ns;
  absl::flat_hash_map<int, std::string> last_put;  // my keys only
  int64_t gets = 0, puts = 0, errors = 0;
};

int Main() {
  const int threads = absl::GetFlag(FLAGS_threads);
  const int keys = absl::GetFlag(FLAGS_keys);
  const int read_percent = absl::GetFlag(FLAGS_read_percent);
  const int partitions = absl::GetFlag(FLAGS_partitions);
  if (threads < 1 || keys < threads || partitions < 1 || read_percent < 0 ||
      read_percent > 100) {
    std::fprintf(stderr, "bad flags\n");
    return 2;
  }
  ActorSystemOptions options;  // one shard per CPU
  options.boundary_spin =
      absl::Microseconds(absl::GetFlag(FLAGS_boundary_spin_us));
  auto system = ActorSystem::Create(options);
  if (!system.ok()) {
    std::fprintf(stderr, "%s\n", system.status().ToString().c_str());
    return 1;
  }
  ActorSystem& sys = **system;
  std::shared_ptr<Boundary> boundary = sys.boundary();

  // Partitions, placed by a stable hash of their index and found by name.
  for (int p = 0; p < partitions; ++p) {
    auto ref = sys.Spawn<KvPartition>(SpawnOptions{Sticky(uint64_t(p))});
    if (!ref.ok() ||
        !boundary->Register(absl::StrCat("kv-", p), *ref,
                            Accepts<GetRequest, PutRequest>())
             .ok()) {
      std::fprintf(stderr, "spawn/register failed\n");
      return 1;
    }
  }
  std::vector<ActorRef<KvPartition>> parts;
  for (int p = 0; p < partitions; ++p) {
    parts.push_back(*boundary->Lookup<KvPartition>(absl::StrCat("kv-", p)));
  }
  auto partition_of = [&](int k) {
    return parts[scheduler::StableHash(uint64_t(k)) % parts.size()];
  };
  std::printf("kv_service: %d partitions on %u shards, %d request threads, "
              "%d keys, %d%% gets, %s\n",
              partitions, sys.num_shards(), threads, keys, read_percent,
              absl::FormatDuration(absl::Seconds(absl::GetFlag(FLAGS_duration))).c_str());

  std::atomic<bool> stop{false};
  std::atomic<int64_t> done_ops{0};
  std::vector<Worker> workers(threads);
  std::vector<std::thread> pool;
  const std::string filler(std::max(0, absl::GetFlag(FLAGS_value_bytes) - 12), 'v');
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      Worker& w = workers[t];
      std::mt19937_64 rng(1000 + t);
      int64_t n = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        const int k = static_cast<int>(rng() % keys);
        const int64_t start = scheduler::MonoNanos();
        bool ok;
        if (static_cast<int>(rng() % 100) < read_percent) {
          GetRequest req;
          req.set_key(Key(k));
          ok = boundary->Call(partition_of(k), std::move(req), kCallDeadline).ok();
          ++w.gets;
        } else {
          const int mine = k - k % threads + t;  // a key this thread owns
          if (mine >= keys) continue;
          PutRequest req;
          req.set_key(Key(mine));
          req.set_value(absl::StrCat(t, ":", ++n, ":", filler));
          const std::string value = req.value();
          ok = boundary->Call(partition_of(mine), std::move(req), kCallDeadline).ok();
          if (ok) w.last_put[mine] = value;
          ++w.puts;
        }
        w.latency_ns.push_back(
            static_cast<uint32_t>(std::min<int64_t>(scheduler::MonoNanos() - start, UINT32_MAX)));
        if (!ok) ++w.errors;
        done_ops.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }

  // Live progress, once a second.
  const absl::Time start = absl::Now();
  const absl::Time end = start + absl::Seconds(absl::GetFlag(FLAGS_duration));
  int64_t last = 0;
  for (absl::Time tick = start + absl::Seconds(1); tick < end;
       tick += absl::Seconds(1)) {
    absl::SleepFor(tick - absl::Now());
    const int64_t now_ops = done_ops.load();
    std::printf("  %4.0fs  %10ld ops  %9ld ops/s\n",
                absl::ToDoubleSeconds(tick - start), now_ops, now_ops - last);
    std::fflush(stdout);
    last = now_ops;
  }
  absl::SleepFor(end - absl::Now());
  stop = true;
  for (auto& th : pool) th.join();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);

  std::vector<uint32_t> all;
  int64_t gets = 0, puts = 0, errors = 0;
  for (const Worker& w : workers) {
    all.insert(all.end(), w.latency_ns.begin(), w.latency_ns.end());
    gets += w.gets;
    puts += w.puts;
    errors += w.errors;
  }
  std::sort(all.begin(), all.end());
  auto pct = [&](double q) {
    return all.empty() ? 0.0 : all[std::min(all.size() - 1, size_t(q * all.size()))] / 1e3;
  };
  std::printf("\n%ld ops in %.1f s: %.0f ops/s (%ld gets, %ld puts, %ld errors)\n",
              int64_t(all.size()), seconds, all.size() / seconds, gets, puts, errors);
  std::printf("latency: p50 %.1f us, p99 %.1f us, p999 %.1f us\n", pct(0.5),
              pct(0.99), pct(0.999));

  // Read every key a thread wrote and check it holds that thread's last put.
  int64_t checked = 0, wrong = 0;
  for (const Worker& w : workers) {
    for (const auto& [k, value] : w.last_put) {
      GetRequest req;
      req.set_key(Key(k));
      absl::StatusOr<GetReply> r = boundary->Call(partition_of(k), req, kCallDeadline);
      ++checked;
      if (!r.ok() || !r->found() || r->value() != value) ++wrong;
    }
  }
  std::printf("verified %ld keys: %ld wrong\n", checked, wrong);
  const BoundaryStats bs = boundary->Stats();
  std::printf("boundary: %lu calls, %lu rejected, %lu timed out\n\n%s\n",
              bs.calls, bs.rejected, bs.timed_out, sys.Stats().ToString().c_str());
  const bool ok = errors == 0 && wrong == 0 && checked > 0;
  if (!sys.Shutdown().ok() || !ok) {
    std::printf("FAILED\n");
    return 1;
  }
  std::printf("OK\n");
  return 0;
}

}  // namespace
}  // namespace ringactor::kv

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return ringactor::kv::Main();
}
