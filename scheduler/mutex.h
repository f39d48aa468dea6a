// File: scheduler/mutex.h
//
// The library's mutex: std::mutex with the capability annotations that
// clang's -Wthread-safety checks (`bazel build --config=clang`). libstdc++'s
// std::mutex carries none, so ABSL_GUARDED_BY on a plain std::mutex is not
// checked at all (clang only says the attribute is meaningless). Not
// absl::Mutex: Debian's abseil is not TSan-instrumented, so TSan could not
// see its synchronization (docs/actors.md, "Deviations").

#ifndef RINGACTOR_SCHEDULER_MUTEX_H_
#define RINGACTOR_SCHEDULER_MUTEX_H_

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "absl/base/thread_annotations.h"

namespace ringactor::scheduler {

// Mutex
//
// Lock it through MutexLock. Thread-safe.
class ABSL_LOCKABLE Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

 private:
  friend class MutexLock;
  std::mutex mu_;
};

// MutexLock
//
// Holds a Mutex for its scope (or until Unlock()). Waiting on a condition
// variable releases the mutex inside the wait and holds it again on return,
// so to the analysis it is held throughout, which is true wherever the
// caller's code runs. Write waits as loops over the guarded state rather
// than with a predicate lambda: the analysis does not know a lambda runs
// under the lock.
class ABSL_SCOPED_LOCKABLE MutexLock {
 public:
  explicit MutexLock(Mutex& mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu)
      : lock_(mu.mu_) {}
  ~MutexLock() ABSL_UNLOCK_FUNCTION() {}
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

  // Releases the mutex before the end of the scope (e.g. to notify or run
  // a callback without it).
  void Unlock() ABSL_UNLOCK_FUNCTION() { lock_.unlock(); }

  void Wait(std::condition_variable& cv) { cv.wait(lock_); }
  // False if `deadline` passed first.
  template <typename Clock, typename Duration>
  bool WaitUntil(std::condition_variable& cv,
                 const std::chrono::time_point<Clock, Duration>& deadline) {
    return cv.wait_until(lock_, deadline) == std::cv_status::no_timeout;
  }

 private:
  std::unique_lock<std::mutex> lock_;
};

}  // namespace ringactor::scheduler

#endif  // RINGACTOR_SCHEDULER_MUTEX_H_
