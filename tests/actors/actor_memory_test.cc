// Tests of actor memory (actors/actor_memory.cc): every actor object takes
// whole cache lines of its own, so actors on different shards never write
// one line.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "actors/actor_system.h"
#include "gtest/gtest.h"
#include "tests/actors/test_messages.pb.h"
#include "tests/actors/actor_test_util.h"

namespace ringactor {
namespace {

using ::ringactor::testing::MakeSystem;
using test::Add;

// Records where each instance lives (constructors run on the spawning
// thread, or on the actor's shard when a restart re-creates it).
template <std::size_t kPadding>
class Placed : public Actor {
 public:
  explicit Placed(std::vector<std::pair<uintptr_t, std::size_t>>* where) {
    where->emplace_back(reinterpret_cast<uintptr_t>(this), sizeof(*this));
  }
  void Handle(const Add&) { pad_[0] = 1; }

 private:
  char pad_[kPadding];
};

TEST(ActorMemoryTest, ActorsNeverShareACacheLine) {
  auto sys = MakeSystem();
  std::vector<std::pair<uintptr_t, std::size_t>> where;
  // Small (two lines, where malloc packed them 112 bytes apart), odd-sized,
  // and larger than the pooled sizes; spread over both shards by default.
  for (int i = 0; i < 64; ++i) {
    ASSERT_TRUE(sys->Spawn<Placed<1>>(&where).ok());
    ASSERT_TRUE(sys->Spawn<Placed<77>>(&where).ok());
    if (i % 8 == 0) {
      ASSERT_TRUE(sys->Spawn<Placed<2000>>(&where).ok());
    }
  }
  std::sort(where.begin(), where.end());
  for (size_t i = 0; i < where.size(); ++i) {
    EXPECT_EQ(where[i].first % 64, 0u) << "actor " << i << " of size "
                                       << where[i].second;
    if (i + 1 < where.size()) {
      const uintptr_t last_line = (where[i].first + where[i].second - 1) / 64;
      EXPECT_LT(last_line, where[i + 1].first / 64)
          << "actors at " << where[i].first << " (" << where[i].second
          << " bytes) and " << where[i + 1].first << " share a cache line";
    }
  }
}

}  // namespace
}  // namespace ringactor
