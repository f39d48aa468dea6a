// File: bench/peers/futex_limit.h
//
// The physical limit of a *blocking* call on this machine: the leanest
// hand-off between a caller that sleeps until its reply and a server thread.
// Nothing but one futex word per caller and one per server; no queue, no
// lock, no allocation. The caller never polls (one that did would be
// measuring something else, see ringactor_spin in //bench:boundary); the
// server idles as a ringactor shard does: it looks for work for `idle_spin`
// (yielding the CPU between looks after the first 10 us), then sleeps. A
// call costs one futex wake (the caller's), two if the server slept, and
// none if the reply is there before the caller's one look ahead of its
// sleep: with an empty handler it usually is, so this limit falls steeply
// with the server's time per request (see `service_ns`).

#ifndef RINGACTOR_BENCH_PEERS_FUTEX_LIMIT_H_
#define RINGACTOR_BENCH_PEERS_FUTEX_LIMIT_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

namespace ringactor::bench {

// `servers` threads; caller `c` (0 <= c < callers) is served by server
// c % servers. Each caller has one call in flight at a time.
class FutexServer {
 public:
  // `service_ns`: busy work per request (0: none), to see how the limit
  // falls once the reply no longer beats the caller to its sleep.
  FutexServer(int servers, int callers, int64_t idle_spin_ns,
              int64_t service_ns = 0);
  ~FutexServer();
  FutexServer(const FutexServer&) = delete;
  FutexServer& operator=(const FutexServer&) = delete;

  // Sends `request` as caller `c`, blocks until the server answered, and
  // returns the answer (the request + 1). Thread-compatible per caller.
  uint64_t Call(int c, uint64_t request);

 private:
  // A caller's slot: kIdle -> kPending (caller) -> [kSleeping (caller, about
  // to wait)] -> kDone (server) -> kIdle (caller).
  enum : uint32_t { kIdle, kPending, kSleeping, kDone };
  struct alignas(64) Slot {
    std::atomic<uint32_t> state{kIdle};
    uint64_t request = 0;
    uint64_t reply = 0;
  };
  struct alignas(64) Server {
    std::atomic<uint32_t> asleep{0};  // futex word: 1 while it waits
    std::vector<int> callers;
    std::thread thread;
  };
  void Serve(Server& s);

  const int64_t idle_spin_ns_;
  const int64_t service_ns_;
  std::unique_ptr<Slot[]> slots_;
  std::vector<std::unique_ptr<Server>> servers_;
  std::atomic<bool> stop_{false};
};

}  // namespace ringactor::bench

#endif  // RINGACTOR_BENCH_PEERS_FUTEX_LIMIT_H_
