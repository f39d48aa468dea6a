// File: scheduler/notification.h
//
// A one-shot event for threads outside the shards (RunOn, ShardSet start).
// Built on scheduler::Mutex (a std::mutex) and std::condition_variable
// rather than absl::Notification so that ThreadSanitizer sees the
// synchronization: the system's abseil is not instrumented, and TSan cannot
// follow absl::Mutex's futex path.

#ifndef RINGACTOR_SCHEDULER_NOTIFICATION_H_
#define RINGACTOR_SCHEDULER_NOTIFICATION_H_

#include <chrono>
#include <condition_variable>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "scheduler/mutex.h"

namespace ringactor::scheduler {

// Notification
//
// Memory ordering: everything a thread did before Notify() is visible to a
// thread that returns from Wait*() having seen it.
//
// Thread-safe.
class Notification {
 public:
  void Notify() {
    MutexLock lock(mu_);
    notified_ = true;
    cv_.notify_all();
  }
  bool HasBeenNotified() const {
    MutexLock lock(mu_);
    return notified_;
  }
  void WaitForNotification() const {
    MutexLock lock(mu_);
    while (!notified_) lock.Wait(cv_);
  }
  bool WaitForNotificationWithTimeout(absl::Duration timeout) const {
    const auto deadline = std::chrono::steady_clock::now() +
                          absl::ToChronoNanoseconds(timeout);
    MutexLock lock(mu_);
    while (!notified_) {
      if (!lock.WaitUntil(cv_, deadline)) return notified_;
    }
    return true;
  }

 private:
  mutable Mutex mu_;
  mutable std::condition_variable cv_;
  bool notified_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace ringactor::scheduler

#endif  // RINGACTOR_SCHEDULER_NOTIFICATION_H_
