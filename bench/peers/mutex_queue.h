// File: bench/peers/mutex_queue.h
//
// What users write by hand: a std::mutex + std::condition_variable queue.
// Push locks and notifies per message; Pop takes everything queued at once.

#ifndef RINGACTOR_BENCH_PEERS_MUTEX_QUEUE_H_
#define RINGACTOR_BENCH_PEERS_MUTEX_QUEUE_H_

#include <condition_variable>
#include <deque>
#include <mutex>

namespace ringactor::bench {

// Thread-safe.
template <typename T>
class MutexQueue {
 public:
  void Push(const T& v) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      q_.push_back(v);
    }
    cv_.notify_one();
  }
  // Blocks until something is queued; moves all of it into `out`.
  void PopAll(std::deque<T>& out) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return !q_.empty(); });
    out.swap(q_);
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<T> q_;
};

}  // namespace ringactor::bench

#endif  // RINGACTOR_BENCH_PEERS_MUTEX_QUEUE_H_
