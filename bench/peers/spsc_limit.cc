// File: bench/peers/spsc_limit.cc

#include "bench/peers/spsc_limit.h"

#include <atomic>
#include <cstdio>

#include "bench/bench_util.h"
#include "bench/peers/spsc_ring.h"

namespace ringactor::bench {

double SpscOneway(uint64_t n) {
  SpscRing ring(1024);
  Clock::time_point start, end;
  std::atomic<int> ready{0};
  RunPair(
      [&] {
        ready.fetch_add(1);
        while (ready.load() < 2) CpuRelax();
        start = Clock::now();
        for (uint64_t i = 0; i < n;) {
          if (ring.Push({i, i})) {
            if ((++i & 255) == 0) ring.Publish();
          } else {
            ring.Publish();
            CpuRelax();
          }
        }
        ring.Publish();
      },
      [&] {
        ready.fetch_add(1);
        uint64_t got = 0, sum = 0;
        while (got < n) {
          got += ring.Drain([&](const Payload& p) { sum += p.b; });
        }
        end = Clock::now();
        if (sum == 42) std::printf(" ");  // keep the loop honest
      });
  return n / Seconds(end - start);
}

double SpscPingPong(uint64_t iters) {
  SlotRing there(64), back(64);
  Clock::time_point start, end;
  std::atomic<int> ready{0};
  RunPair(
      [&] {
        ready.fetch_add(1);
        while (ready.load() < 2) CpuRelax();
        start = Clock::now();
        Payload p;
        for (uint64_t i = 0; i < iters; ++i) {
          there.Push({i, i});
          while (!back.Pop(p)) CpuRelax();
        }
        end = Clock::now();
      },
      [&] {
        ready.fetch_add(1);
        Payload p;
        for (uint64_t i = 0; i < iters; ++i) {
          while (!there.Pop(p)) CpuRelax();
          back.Push(p);
        }
      });
  return Seconds(end - start) * 1e9 / iters;
}

}  // namespace ringactor::bench
