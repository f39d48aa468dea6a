// File: bench/peers/caf_actors.h
//
// The CAF side of //bench:actors (CAF 0.17, Debian's libcaf-dev): the same
// workloads with CAF's event-based actors and request/response, on a CAF
// scheduler with 2 threads and the given policy ("stealing" or "sharing").

#ifndef RINGACTOR_BENCH_PEERS_CAF_ACTORS_H_
#define RINGACTOR_BENCH_PEERS_CAF_ACTORS_H_

#include <cstdint>
#include <string>
#include <utility>

#include "bench/actors_workload.h"

namespace ringactor::bench {

struct CafPingPongResult {
  double rtt_ns;
  // Share of round trips whose request and reply handlers ran on different
  // CAF threads (CAF schedules an actor a message woke on the sender's
  // worker, so the two actors tend to share one).
  double cross_thread;
};
CafPingPongResult CafPingPong(const std::string& policy, int64_t iters);
struct CafTellResult {
  double msgs_per_s;
  // Share of messages the receiver handled on another thread than the one
  // their sender ran on.
  double cross_thread;
};
CafTellResult CafTell(const std::string& policy, int64_t per_sender);
double CafFanout(const std::string& policy, const FanoutParams& p);
// Bytes of RSS per idle actor after spawning `n`.
double CafSpawnMemory(int64_t n);
// `threads` foreign threads, closed loop, each making `per_thread` blocking
// request/response calls (scoped_actor) to 2 echo actors.
CallStats CafForeignCalls(const std::string& policy, int threads,
                          int64_t per_thread);

// Keyed hotspot: `senders` actors each send `per_sender` Increment messages
// round-robin to `owners` counting actors. Returns increments/s and the
// owners' handler runs (wake-ups) per second.
std::pair<double, double> CafHotspot(const std::string& policy, int senders,
                                     int64_t per_sender, int owners);

// hot_latency (actors_workload.h): the hot request is a request with
// caf::message_priority::high, which CAF's mailbox queues apart and its
// actor takes before normal messages. The caller is an event-based actor.
HotLatency CafHotLatency(const std::string& policy, int backlog, int samples);

}  // namespace ringactor::bench

#endif  // RINGACTOR_BENCH_PEERS_CAF_ACTORS_H_
