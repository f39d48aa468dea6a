// File: bench/peers/hot_latency_peers.cc

#include "bench/peers/hot_latency_peers.h"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <mutex>
#include <thread>

#include "bench/bench_util.h"
#include "bench/peers/spsc_ring.h"

namespace ringactor::bench {
namespace {

// Waits until the owner bumps `signal` past `seen` (it runs on another
// CPU, so it does; the yield keeps a misconfigured run from owning a CPU).
void AwaitSignal(const PaddedCounter& signal, int64_t seen) {
  for (int spins = 0; signal.n.load(std::memory_order_acquire) == seen;) {
    if (++spins < 1024) {
      CpuRelax();
    } else {
      std::this_thread::yield();
    }
  }
}

// The owner's signals (HotLatencyOwner), and one more the peers' callers
// wait on: the backlog's last message done.
struct PeerOwner : HotLatencyOwner {
  void Ordinary(int64_t seq, int backlog, PaddedCounter& started,
                PaddedCounter& drained) {
    HotLatencyOwner::Ordinary(seq, started);
    if (seq + 1 == backlog) drained.n.fetch_add(1, std::memory_order_release);
  }
};

uint32_t RingCapacity(int backlog) {
  uint32_t c = 64;
  while (c < static_cast<uint32_t>(backlog) + 64) c *= 2;
  return c;
}

}  // namespace

HotLatency SpscHotLatency(int backlog, int samples) {
  SpscRing ordinary(RingCapacity(backlog));
  SlotRing hot(64), reply(64);
  PaddedCounter started, drained;
  std::atomic<bool> stop{false};
  HotLatencySamples out;
  RunPair(
      [&] {  // the caller
        for (int i = 0; i < samples; ++i) {
          const int64_t started_seen = started.n.load(std::memory_order_acquire);
          const int64_t drained_seen = drained.n.load(std::memory_order_acquire);
          for (int k = 0; k < backlog;) {
            if (ordinary.Push({static_cast<uint64_t>(k), 0})) {
              if ((++k & 63) == 0) ordinary.Publish();
            } else {
              ordinary.Publish();
              CpuRelax();
            }
          }
          ordinary.Publish();
          if (backlog > 0) AwaitSignal(started, started_seen);
          const int64_t t0 = StampTicks();
          while (!hot.Push({static_cast<uint64_t>(i), 0})) CpuRelax();
          Payload p;  // a: when the hot handler ran; b: the owner's handled()
          while (!reply.Pop(p)) CpuRelax();
          const int64_t t1 = StampTicks();
          out.Add(t0, static_cast<int64_t>(p.a), t1, backlog,
                  static_cast<int64_t>(p.b));
          if (backlog > 0) AwaitSignal(drained, drained_seen);
        }
        stop.store(true, std::memory_order_release);
      },
      [&] {  // the owner: a hot request first, then one ordinary message
        uint64_t sink = 0;
        PeerOwner count;
        Payload p;
        while (true) {
          if (hot.Pop(p)) {
            const Payload r{static_cast<uint64_t>(StampTicks()),
                            static_cast<uint64_t>(count.handled())};
            while (!reply.Push(r)) CpuRelax();
          } else if (ordinary.Pop(p)) {
            sink += HashWork(p.a, kHotLatencyWork);
            count.Ordinary(static_cast<int64_t>(p.a), backlog, started,
                           drained);
          } else if (stop.load(std::memory_order_acquire)) {
            break;
          } else {
            CpuRelax();
          }
        }
        if (sink == 42) std::printf(" ");  // keep the work honest
      });
  return out.Result();
}

HotLatency MutexHotLatency(int backlog, int samples) {
  struct Mailbox {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<int64_t> hot, ordinary;
    bool stop = false;
  } box;
  struct Reply {
    std::mutex mu;
    std::condition_variable cv;
    bool ready = false;
    int64_t ran = 0, handled = 0;
  } answer;
  PaddedCounter started, drained;
  HotLatencySamples out;
  RunPair(
      [&] {  // the caller
        auto push = [&box](std::deque<int64_t>& q, int64_t v) {
          {
            std::lock_guard<std::mutex> lock(box.mu);
            q.push_back(v);
          }
          box.cv.notify_one();
        };
        for (int i = 0; i < samples; ++i) {
          const int64_t started_seen = started.n.load(std::memory_order_acquire);
          const int64_t drained_seen = drained.n.load(std::memory_order_acquire);
          for (int k = 0; k < backlog; ++k) push(box.ordinary, k);
          if (backlog > 0) AwaitSignal(started, started_seen);
          const int64_t t0 = StampTicks();
          push(box.hot, i);
          int64_t ran, handled;
          {
            std::unique_lock<std::mutex> lock(answer.mu);
            answer.cv.wait(lock, [&answer] { return answer.ready; });
            answer.ready = false;
            ran = answer.ran;
            handled = answer.handled;
          }
          const int64_t t1 = StampTicks();
          out.Add(t0, ran, t1, backlog, handled);
          if (backlog > 0) AwaitSignal(drained, drained_seen);
        }
        {
          std::lock_guard<std::mutex> lock(box.mu);
          box.stop = true;
        }
        box.cv.notify_one();
      },
      [&] {  // the owner: a hot request first, then one ordinary message
        uint64_t sink = 0;
        PeerOwner count;
        while (true) {
          std::unique_lock<std::mutex> lock(box.mu);
          box.cv.wait(lock, [&box] {
            return box.stop || !box.hot.empty() || !box.ordinary.empty();
          });
          if (!box.hot.empty()) {
            box.hot.pop_front();
            lock.unlock();
            const int64_t ran = StampTicks();
            {
              std::lock_guard<std::mutex> reply_lock(answer.mu);
              answer.ready = true;
              answer.ran = ran;
              answer.handled = count.handled();
            }
            answer.cv.notify_one();
          } else if (!box.ordinary.empty()) {
            const int64_t seq = box.ordinary.front();
            box.ordinary.pop_front();
            lock.unlock();
            sink += HashWork(static_cast<uint64_t>(seq), kHotLatencyWork);
            count.Ordinary(seq, backlog, started, drained);
          } else {
            break;  // stop, and nothing left
          }
        }
        if (sink == 42) std::printf(" ");  // keep the work honest
      });
  return out.Result();
}

}  // namespace ringactor::bench
