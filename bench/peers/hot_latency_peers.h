// File: bench/peers/hot_latency_peers.h
//
// The hot_latency workload of //bench:mailbox (actors_workload.h) without
// an actor framework, on two threads pinned to CPUs 0 and 1: the caller on
// CPU 0, the owner on CPU 1. (CAF's side is CafHotLatency.)

#ifndef RINGACTOR_BENCH_PEERS_HOT_LATENCY_PEERS_H_
#define RINGACTOR_BENCH_PEERS_HOT_LATENCY_PEERS_H_

#include "bench/actors_workload.h"

namespace ringactor::bench {

// The physical limit: the owner busy-polls a one-slot-per-message ring for
// hot requests before each ordinary message, which come through a
// busy-polled SPSC ring of 16-byte payloads; the reply goes back through
// another slot ring the caller busy-polls. No allocation, no dispatch.
HotLatency SpscHotLatency(int backlog, int samples);

// What users write by hand: one mutex + condition variable mailbox holding
// two queues (the owner takes a hot request before any ordinary message),
// and a mutex + condition variable reply slot.
HotLatency MutexHotLatency(int backlog, int samples);

}  // namespace ringactor::bench

#endif  // RINGACTOR_BENCH_PEERS_HOT_LATENCY_PEERS_H_
