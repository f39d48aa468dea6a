// File: actors/stats.h

#ifndef RINGACTOR_ACTORS_STATS_H_
#define RINGACTOR_ACTORS_STATS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "scheduler/shard.h"
#include "transport/stats.h"

namespace ringactor {

// Counters of the actor layer; the same shape per shard, per actor type and
// in total.
struct ActorCounters {
  uint64_t handled = 0;         // messages whose handler ran
  uint64_t mailbox_depth = 0;   // messages waiting in mailboxes now
  uint64_t dead_letters = 0;    // sends to stopped/unknown actors, dropped mail
  uint64_t asks_timed_out = 0;  // Asks that ended in DeadlineExceeded
  uint64_t restarts = 0;        // instances replaced after a failure
  uint64_t failures = 0;        // handlers (or OnStart) that threw
  uint64_t live_actors = 0;     // actors started and not yet stopped
  // Fast lanes.
  uint64_t hot_depth = 0;        // hot messages waiting now
  uint64_t coalesced_sends = 0;  // hot sends merged into a pending one
  uint64_t count_updates = 0;    // ActorRef::Count calls (sender side)
  uint64_t count_envelopes = 0;  // counter updates sent (one per turn per key)
  uint64_t count_wakes = 0;      // OnCount calls
  uint64_t count_saturations = 0;  // totals clamped at the int64 limits

  ActorCounters& operator+=(const ActorCounters& o);
};

struct ShardStats {
  uint32_t shard = 0;
  ActorCounters actors;
  uint64_t late_replies = 0;  // replies that arrived after their Ask ended
  // Requests refused by flow control: too many of this shard's messages
  // were away at the target shard (lane_capacity + backlog_capacity).
  uint64_t flow_control_refusals = 0;
  // Messages and replies to other shards built in a cell of this shard's
  // rings (see Traveler), and sends that found no free cell there and
  // used the block cache (the node then comes home to be freed).
  uint64_t cell_sends = 0;
  uint64_t cell_misses = 0;
  // The CPU the shard's thread last saw itself on when it went idle (-1:
  // not known yet), and how often it moved itself off the CPU of another
  // awake shard (unpinned shards; docs/actors.md "Placement of shard
  // threads").
  int cpu = -1;
  uint64_t placement_moves = 0;
  transport::TransportStats transport;
  // Messages for stealable actors: queued here, stolen by this shard.
  scheduler::StealStats steal;
};

struct ActorTypeStats {
  std::string type;  // demangled C++ name
  ActorCounters counters;
};

// A snapshot; counters are read without stopping the shards.
struct SystemStats {
  std::vector<ShardStats> shards;
  std::vector<ActorTypeStats> types;  // types with any activity
  ActorCounters total;
  // Sends from threads outside the system that found no actor.
  uint64_t foreign_dead_letters = 0;

  std::string ToString() const;
};

}  // namespace ringactor

#endif  // RINGACTOR_ACTORS_STATS_H_
