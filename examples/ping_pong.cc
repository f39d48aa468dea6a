// examples/ping_pong: two actors on different shards play Ask ping-pong.
//
// A Player on shard 0 Asks a Wall on shard 1 `--rounds` times (each Ask with
// a deadline) and reports the average round trip. Shows: actors with
// protobuf handlers, Pinned placement, coroutine handlers, Ask, RunOn and
// the stats snapshot.
//
//   bazel run -c opt //examples:ping_pong -- --rounds=100000

#include <cstdint>
#include <cstdio>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "actors/actor_system.h"
#include "examples/ping_pong.pb.h"
#include "scheduler/clock.h"

ABSL_FLAG(int64_t, rounds, 100'000, "round trips");

namespace ringactor::examples {
namespace {

// Answers every Ping with a Pong (a synchronous handler).
class Wall : public Actor {
 public:
  Pong Handle(const Ping& p) {
    Pong r;
    r.set_seq(p.seq());
    return r;
  }
};

// Plays a rally against the wall (a coroutine handler: it suspends on each
// Ask and resumes on its own shard when the Pong arrives).
class Player : public Actor {
 public:
  explicit Player(ActorRef<Wall> wall) : wall_(wall) {}

  Task<absl::StatusOr<RallyResult>> Handle(const Rally& r) {
    const int64_t start = scheduler::MonoNanos();
    Ping ping;
    for (int64_t i = 0; i < r.rounds(); ++i) {
      ping.set_seq(i);
      absl::StatusOr<Pong> pong = co_await wall_.Ask(ping, absl::Seconds(5));
      if (!pong.ok()) co_return pong.status();
      if (pong->seq() != i) co_return absl::InternalError("out of order");
    }
    RallyResult out;
    out.set_rounds(r.rounds());
    out.set_nanos(scheduler::MonoNanos() - start);
    co_return out;
  }

 private:
  ActorRef<Wall> wall_;
};

int Main() {
  ActorSystemOptions options;
  options.num_shards = 2;
  absl::StatusOr<std::unique_ptr<ActorSystem>> system =
      ActorSystem::Create(options);
  if (!system.ok()) {
    std::fprintf(stderr, "%s\n", system.status().ToString().c_str());
    return 1;
  }
  ActorSystem& sys = **system;
  absl::StatusOr<ActorRef<Wall>> wall =
      sys.Spawn<Wall>(SpawnOptions{Pinned{ShardId(1)}});
  absl::StatusOr<ActorRef<Player>> player =
      sys.Spawn<Player>(SpawnOptions{Pinned{ShardId(0)}}, *wall);
  if (!wall.ok() || !player.ok()) return 1;

  Rally rally;
  rally.set_rounds(absl::GetFlag(FLAGS_rounds));
  // RunOn: run a coroutine on a shard and wait for it from this thread.
  absl::StatusOr<RallyResult> result =
      sys.RunOn(ShardId(0), [&]() -> Task<absl::StatusOr<RallyResult>> {
        co_return co_await player->Ask(rally, absl::Minutes(1));
      });
  if (!result.ok()) {
    std::fprintf(stderr, "rally failed: %s\n", result.status().ToString().c_str());
    return 1;
  }
  std::printf("%ld round trips between shard 0 and shard 1: %.0f ns each\n",
              result->rounds(),
              static_cast<double>(result->nanos()) / result->rounds());
  std::printf("\n%s\n", sys.Stats().ToString().c_str());
  if (!sys.Shutdown().ok()) return 1;
  std::printf("OK\n");
  return 0;
}

}  // namespace
}  // namespace ringactor::examples

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return ringactor::examples::Main();
}
