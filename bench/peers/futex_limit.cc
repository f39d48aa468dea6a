// File: bench/peers/futex_limit.cc

#include "bench/peers/futex_limit.h"

#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>

namespace ringactor::bench {
namespace {

// As transport::Endpoint::kSpinBeforeYield.
constexpr int64_t kSpinBeforeYieldNs = 10'000;

void FutexWait(std::atomic<uint32_t>* word, uint32_t expected) {
  // Returns at once if *word != expected; spurious returns are re-checked.
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAIT_PRIVATE,
          expected, nullptr, nullptr, 0);
}

void FutexWake(std::atomic<uint32_t>* word) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAKE_PRIVATE, 1,
          nullptr, nullptr, 0);
}

}  // namespace

FutexServer::FutexServer(int servers, int callers, int64_t idle_spin_ns,
                         int64_t service_ns)
    : idle_spin_ns_(idle_spin_ns),
      service_ns_(service_ns),
      slots_(new Slot[callers]) {
  for (int i = 0; i < servers; ++i) {
    servers_.push_back(std::make_unique<Server>());
  }
  for (int c = 0; c < callers; ++c) {
    servers_[c % servers]->callers.push_back(c);
  }
  for (auto& s : servers_) {
    s->thread = std::thread([this, srv = s.get()] { Serve(*srv); });
  }
}

FutexServer::~FutexServer() {
  stop_.store(true, std::memory_order_seq_cst);
  for (auto& s : servers_) {
    s->asleep.store(0, std::memory_order_seq_cst);
    FutexWake(&s->asleep);
    s->thread.join();
  }
}

uint64_t FutexServer::Call(int c, uint64_t request) {
  Slot& slot = slots_[c];
  Server& server = *servers_[c % servers_.size()];
  slot.request = request;
  // Publish, then look at the server (seq_cst both: pairs with the server's
  // store of `asleep` and its re-check of the slots).
  slot.state.store(kPending, std::memory_order_seq_cst);
  if (server.asleep.load(std::memory_order_seq_cst) == 1 &&
      server.asleep.exchange(0, std::memory_order_seq_cst) == 1) {
    FutexWake(&server.asleep);
  }
  // Sleep at once until the server says kDone.
  while (true) {
    uint32_t st = slot.state.load(std::memory_order_acquire);
    if (st == kDone) break;
    if (st == kPending &&
        !slot.state.compare_exchange_strong(st, kSleeping,
                                            std::memory_order_acq_rel)) {
      continue;  // the server answered meanwhile
    }
    FutexWait(&slot.state, kSleeping);
  }
  const uint64_t reply = slot.reply;
  slot.state.store(kIdle, std::memory_order_relaxed);
  return reply;
}

void FutexServer::Serve(Server& s) {
  // A call waits for this server: its caller may or may not sleep yet.
  const auto waiting = [](uint32_t st) {
    return st == kPending || st == kSleeping;
  };
  const auto has_work = [&] {
    for (int c : s.callers) {
      if (waiting(slots_[c].state.load(std::memory_order_seq_cst))) {
        return true;
      }
    }
    return false;
  };
  while (true) {
    bool served = false;
    for (int c : s.callers) {
      Slot& slot = slots_[c];
      if (!waiting(slot.state.load(std::memory_order_acquire))) continue;
      if (service_ns_ > 0) {
        const auto start = std::chrono::steady_clock::now();
        while (std::chrono::steady_clock::now() - start <
               std::chrono::nanoseconds(service_ns_)) {
        }
      }
      slot.reply = slot.request + 1;
      if (slot.state.exchange(kDone, std::memory_order_acq_rel) == kSleeping) {
        FutexWake(&slot.state);
      }
      served = true;
    }
    if (served) continue;
    if (stop_.load(std::memory_order_acquire)) return;
    // Idle: look again for a while, as a ringactor shard does.
    const auto start = std::chrono::steady_clock::now();
    bool found = false;
    while (!found) {
      const int64_t idle_ns =
          std::chrono::duration_cast<std::chrono::nanoseconds>(
              std::chrono::steady_clock::now() - start)
              .count();
      if (idle_ns >= idle_spin_ns_) break;
      if (idle_ns >= kSpinBeforeYieldNs) sched_yield();
      found = has_work() || stop_.load(std::memory_order_acquire);
    }
    if (found) continue;
    s.asleep.store(1, std::memory_order_seq_cst);
    if (!has_work() && !stop_.load(std::memory_order_seq_cst)) {
      FutexWait(&s.asleep, 1);
    }
    s.asleep.store(0, std::memory_order_relaxed);
  }
}

}  // namespace ringactor::bench
