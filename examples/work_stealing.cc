// examples/work_stealing: stateless (stealable) actors.
//
// A Hasher has no state beyond its constructor argument, so it declares
// kStateless and is spawned with Stealable placement: the system keeps one
// instance per shard and each message runs on whichever shard takes it.
// A Dispatcher pinned to shard 0 sends every batch to 16 Hashers at once
// (AskAll); one of them does 20x the work of the others. The jobs queue on
// shard 0, and shard 1, idle, steals them from there. Every digest is
// checked against a local computation; the per-shard counts and the steal
// statistics show where the work went. Then a thread outside the system
// calls a Hasher through the Boundary.
//
//   bazel run //examples:work_stealing -- --batches=2000

#include <cstdint>
#include <cstdio>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "actors/actor_system.h"
#include "actors/boundary.h"
#include "examples/work_stealing.pb.h"

ABSL_FLAG(int64_t, batches, 2'000, "batches of 16 jobs");

namespace ringactor::examples {
namespace {

constexpr absl::Duration kDeadline = absl::Seconds(30);
constexpr int kHashers = 16;

uint64_t Digest(uint64_t x, int64_t rounds) {
  for (int64_t i = 0; i < rounds; ++i) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
  }
  return x;
}

int64_t RoundsOf(int hasher) { return hasher == 0 ? 4000 : 200; }

class Hasher : public Actor {
 public:
  static constexpr bool kStateless = true;
  explicit Hasher(int64_t rounds) : rounds_(rounds) {}
  JobDone Handle(const Job& j) {
    JobDone d;
    d.set_digest(Digest(j.seed(), rounds_));
    d.set_shard(shard().value());
    return d;
  }

 private:
  int64_t rounds_;
};

class Dispatcher : public Actor {
 public:
  explicit Dispatcher(std::vector<ActorRef<Hasher>> hashers)
      : hashers_(std::move(hashers)) {}
  Task<absl::StatusOr<BatchDone>> Handle(const Batch& b) {
    BatchDone done;
    Job job;
    for (int64_t batch = 0; batch < b.batches(); ++batch) {
      job.set_seed(static_cast<uint64_t>(batch + 1));
      uint64_t expected = 0, got = 0;
      for (int h = 0; h < kHashers; ++h) {
        expected += Digest(job.seed(), RoundsOf(h));
      }
      for (auto& r : co_await AskAll(hashers_, job, kDeadline)) {
        if (!r.ok()) co_return r.status();
        got += r->digest();
        if (r->shard() == 0) {
          done.set_ran_on_shard0(done.ran_on_shard0() + 1);
        } else {
          done.set_ran_on_shard1(done.ran_on_shard1() + 1);
        }
      }
      if (got != expected) co_return absl::InternalError("wrong digest");
      done.set_digest_sum(done.digest_sum() + got);
    }
    co_return done;
  }

 private:
  std::vector<ActorRef<Hasher>> hashers_;
};

int Fail(const char* what, const absl::Status& s) {
  std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
  return 1;
}

int Main() {
  ActorSystemOptions options;
  options.num_shards = 2;
  auto system = ActorSystem::Create(options);
  if (!system.ok()) return Fail("create", system.status());
  ActorSystem& sys = **system;
  std::vector<ActorRef<Hasher>> hashers;
  for (int h = 0; h < kHashers; ++h) {
    auto hasher = sys.Spawn<Hasher>(SpawnOptions{Stealable{}}, RoundsOf(h));
    if (!hasher.ok()) return Fail("spawn hasher", hasher.status());
    hashers.push_back(*hasher);
  }
  auto dispatcher =
      sys.Spawn<Dispatcher>(SpawnOptions{Pinned{ShardId(0)}}, hashers);
  if (!dispatcher.ok()) return Fail("spawn dispatcher", dispatcher.status());

  Batch batch;
  batch.set_batches(absl::GetFlag(FLAGS_batches));
  absl::StatusOr<BatchDone> done =
      sys.RunOn(ShardId(0), [&]() -> Task<absl::StatusOr<BatchDone>> {
        co_return co_await dispatcher->Ask(batch, kDeadline);
      });
  if (!done.ok()) return Fail("batches", done.status());
  const SystemStats stats = sys.Stats();
  std::printf("%lld jobs, every digest checked: %lld ran on shard 0, %lld "
              "on shard 1\n",
              static_cast<long long>(batch.batches() * kHashers),
              static_cast<long long>(done->ran_on_shard0()),
              static_cast<long long>(done->ran_on_shard1()));
  for (const ShardStats& s : stats.shards) {
    std::printf("shard %u: queued %llu, stole %llu (%llu attempts), nudged "
                "idle shards %llu times\n",
                s.shard, static_cast<unsigned long long>(s.steal.pushed),
                static_cast<unsigned long long>(s.steal.stolen),
                static_cast<unsigned long long>(s.steal.attempts),
                static_cast<unsigned long long>(s.steal.nudges));
  }
  // From a thread outside the system: queued on the least loaded shard.
  Job job;
  job.set_seed(42);
  auto r = sys.boundary()->Call(hashers[1], job, kDeadline);
  if (!r.ok()) return Fail("boundary call", r.status());
  if (r->digest() != Digest(42, RoundsOf(1))) {
    return Fail("boundary call", absl::InternalError("wrong digest"));
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
