// examples/counter: named counters spread over the shards.
//
// Counters are placed with Sticky(name), so a name always lands on the same
// shard. A Driver on every shard increments every counter (Tells cross
// shards as moved objects, never serialized), then the program Asks each
// counter for its total with a deadline. Then it shows supervision: a
// counter whose handler throws fails the caller's Ask with the exception's
// text and restarts with fresh state; a stopped counter answers NotFound.
//
//   bazel run //examples:counter -- --increments=100000

#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "actors/actor_system.h"
#include "examples/counter.pb.h"

ABSL_FLAG(int64_t, increments, 100'000, "increments per counter per shard");

namespace ringactor::examples {
namespace {

class Counter : public Actor {
 public:
  explicit Counter(std::string key) : key_(std::move(key)) {}
  void Handle(const Increment& m) { value_ += m.by(); }
  Count Handle(const Read&) {
    Count c;
    c.set_key(key_);
    c.set_value(value_);
    return c;
  }
  Count Handle(const Crash&) { throw std::runtime_error("counter " + key_ + " crashed"); }

 private:
  std::string key_;
  int64_t value_ = 0;
};

// Sends `increments` Increments to every counter, yielding whenever a lane
// to another shard is full (backpressure: Tell says ResourceExhausted).
class Driver : public Actor {
 public:
  explicit Driver(std::vector<ActorRef<Counter>> counters)
      : counters_(std::move(counters)) {}
  Task<absl::Status> Handle(const Drive& d) {
    Increment one;
    one.set_by(1);
    for (int64_t i = 0; i < d.increments(); ++i) {
      for (const ActorRef<Counter>& c : counters_) {
        absl::Status s = c.Tell(one);
        if (!s.ok()) {  // classify only failures (docs/actors.md)
          while (absl::IsResourceExhausted(s)) {
            co_await Yield();
            s = c.Tell(one);
          }
          if (!s.ok()) co_return s;
        }
      }
    }
    co_return absl::OkStatus();
  }

 private:
  std::vector<ActorRef<Counter>> counters_;
};

int Fail(const char* what, const absl::Status& s) {
  std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
  return 1;
}

int Main() {
  ActorSystemOptions options;
  options.num_shards = 2;
  auto system = ActorSystem::Create(options);
  if (!system.ok()) return Fail("Create", system.status());
  ActorSystem& sys = **system;

  std::vector<ActorRef<Counter>> counters;
  for (const char* key : {"apples", "pears", "plums", "quinces", "figs"}) {
    auto c = sys.Spawn<Counter>(SpawnOptions{Sticky(std::string_view(key))},
                                std::string(key));
    if (!c.ok()) return Fail("Spawn", c.status());
    std::printf("counter %-8s lives on shard %u\n", key, c->shard().value());
    counters.push_back(*c);
  }
  std::vector<ActorRef<Driver>> drivers;
  for (uint32_t s = 0; s < sys.num_shards(); ++s) {
    auto d = sys.Spawn<Driver>(SpawnOptions{Pinned{ShardId(s)}}, counters);
    if (!d.ok()) return Fail("Spawn", d.status());
    drivers.push_back(*d);
  }

  // Drive from every shard at once, then read every total. The reads go
  // from shard 0 after both drives finished; Asks from one shard to one
  // counter are ordered behind that shard's Tells, and the other shard's
  // drive was awaited first, so its Tells are ahead too.
  Drive drive;
  drive.set_increments(absl::GetFlag(FLAGS_increments));
  const int64_t want = drive.increments() * sys.num_shards();
  absl::StatusOr<std::vector<Count>> totals =
      sys.RunOn(ShardId(0), [&]() -> Task<absl::StatusOr<std::vector<Count>>> {
        for (const absl::Status& s : co_await AskAll(drivers, drive, absl::Minutes(1))) {
          if (!s.ok()) co_return s;
        }
        std::vector<Count> out;
        for (const absl::StatusOr<Count>& c :
             co_await AskAll(counters, Read(), absl::Seconds(5))) {
          if (!c.ok()) co_return c.status();
          out.push_back(*c);
        }
        co_return out;
      });
  if (!totals.ok()) return Fail("drive", totals.status());
  bool exact = true;
  for (const Count& c : *totals) {
    std::printf("%-8s = %ld\n", c.key().c_str(), c.value());
    exact = exact && c.value() == want;
  }

  // Supervision: the Ask fails with the exception's text; the counter
  // restarts fresh under the same ref.
  absl::StatusOr<Count> crashed =
      sys.RunOn(ShardId(0), [&]() -> Task<absl::StatusOr<Count>> {
        co_return co_await counters[0].Ask(Crash(), absl::Seconds(5));
      });
  std::printf("\nAsk(Crash): %s\n", crashed.status().ToString().c_str());
  absl::StatusOr<Count> after =
      sys.RunOn(ShardId(0), [&]() -> Task<absl::StatusOr<Count>> {
        co_return co_await counters[0].Ask(Read(), absl::Seconds(5));
      });
  if (!after.ok()) return Fail("read after restart", after.status());
  std::printf("after the restart %s = %ld\n", after->key().c_str(),
              after->value());

  // A stopped actor: later sends are dead letters (NotFound). Stopped from
  // its own shard, the stop is immediate; from any other thread it is a
  // message like any other (use ref.alive() to see it land).
  (void)sys.RunOn(counters[1].shard(), [&]() -> Task<absl::Status> {
    co_return counters[1].Stop();
  });
  absl::Status late =
      sys.RunOn(counters[1].shard(), [&]() -> Task<absl::Status> {
        co_return (co_await counters[1].Ask(Read(), absl::Seconds(5))).status();
      });
  std::printf("Ask after Stop: %s\n\n%s\n", late.ToString().c_str(),
              sys.Stats().ToString().c_str());
  const bool ok = exact && absl::IsInternal(crashed.status()) &&
                  after->value() == 0 && absl::IsNotFound(late);
  if (!sys.Shutdown().ok() || !ok) {
    std::printf("FAILED\n");
    return 1;
  }
  std::printf("OK\n");
  return 0;
}

}  // namespace
}  // namespace ringactor::examples

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return ringactor::examples::Main();
}
