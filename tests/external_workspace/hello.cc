// A user's program: one actor, one message type of its own, one Boundary
// call from main.
#include <cstdio>

#include "actors/actor_system.h"
#include "actors/boundary.h"
#include "hello.pb.h"

class Greeter : public ringactor::Actor {
 public:
  hello::Greeting Handle(const hello::Greet& g) {
    hello::Greeting out;
    out.set_text("hello, " + g.name());
    return out;
  }
};

int main() {
  auto system = ringactor::ActorSystem::Create({.num_shards = 2});
  if (!system.ok()) return 1;
  auto greeter = (*system)->Spawn<Greeter>();
  if (!greeter.ok()) return 1;
  hello::Greet g;
  g.set_name("bazel");
  absl::StatusOr<hello::Greeting> r =
      (*system)->boundary()->Call(*greeter, g, absl::Seconds(5));
  if (!r.ok()) {
    std::printf("%s\n", r.status().ToString().c_str());
    return 1;
  }
  std::printf("%s\nOK\n", r->text().c_str());
  return 0;
}
