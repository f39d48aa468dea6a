// File: bench/peers/spsc_limit.h
//
// The physical limit for the comparison benchmarks: two threads pinned to
// CPUs 0 and 1 moving 16-byte payloads through busy-polled SPSC rings.

#ifndef RINGACTOR_BENCH_PEERS_SPSC_LIMIT_H_
#define RINGACTOR_BENCH_PEERS_SPSC_LIMIT_H_

#include <cstdint>

namespace ringactor::bench {

// One-way throughput, payloads per second (published every 256).
double SpscOneway(uint64_t n);
// Round trip, nanoseconds (one payload at a time through slot-signalled
// rings: the fastest hand-off measured here).
double SpscPingPong(uint64_t iters);

}  // namespace ringactor::bench

#endif  // RINGACTOR_BENCH_PEERS_SPSC_LIMIT_H_
