// File: scheduler/placement.h
//
// Where a new actor lives. Pinned and Sticky are deterministic; RoundRobin
// spreads. Stealable and StealablePreferred are for stateless actors: every
// shard runs their messages (see Shard's steal queue), so they have no home
// shard for Resolve to pick.

#ifndef RINGACTOR_SCHEDULER_PLACEMENT_H_
#define RINGACTOR_SCHEDULER_PLACEMENT_H_

#include <cstdint>
#include <string_view>
#include <variant>

#include "transport/shard_id.h"

namespace ringactor::scheduler {

// A hash that is the same in every process and every build (unlike
// absl::Hash, which is salted per process): Sticky(key) must send a key to
// the same shard across restarts and machines.
inline uint64_t StableHash(uint64_t x) {
  // splitmix64's finalizer.
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}
inline uint64_t StableHash(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a 64
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return StableHash(h);
}

struct Pinned {
  transport::ShardId shard;
};
struct RoundRobin {};
struct Sticky {
  explicit Sticky(uint64_t key) : hash(StableHash(key)) {}
  explicit Sticky(std::string_view key) : hash(StableHash(key)) {}
  uint64_t hash;
};

// A stateless actor: each message is queued on the sending shard (from a
// thread outside the system: the shard with the shortest steal queue), and
// an idle shard may steal it.
struct Stealable {};
// Like Stealable, but messages are queued on `shard` (they still move to
// idle shards).
struct StealablePreferred {
  transport::ShardId shard;
};

using Placement =
    std::variant<RoundRobin, Pinned, Sticky, Stealable, StealablePreferred>;

inline bool IsStealable(const Placement& p) {
  return std::holds_alternative<Stealable>(p) ||
         std::holds_alternative<StealablePreferred>(p);
}

// The shard `p` selects among `num_shards`; `round_robin` is the caller's
// counter (advanced only for RoundRobin). InvalidArgument-worthy input (a
// pinned shard out of range) and the stealable placements, which have no
// home shard, yield kForeignShard.
inline transport::ShardId Resolve(const Placement& p, uint32_t num_shards,
                                  uint64_t round_robin) {
  if (const auto* pin = std::get_if<Pinned>(&p)) {
    return pin->shard.value() < num_shards ? pin->shard
                                           : transport::kForeignShard;
  }
  if (const auto* sticky = std::get_if<Sticky>(&p)) {
    return transport::ShardId(static_cast<uint32_t>(sticky->hash % num_shards));
  }
  if (IsStealable(p)) return transport::kForeignShard;
  return transport::ShardId(static_cast<uint32_t>(round_robin % num_shards));
}

}  // namespace ringactor::scheduler

#endif  // RINGACTOR_SCHEDULER_PLACEMENT_H_
