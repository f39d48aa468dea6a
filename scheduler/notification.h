// File: scheduler/notification.h
//
// A one-shot event for threads outside the shards (RunOn, ShardSet start).
// Built on std::mutex/std::condition_variable rather than absl::Notification
// so that ThreadSanitizer sees the synchronization: the system's abseil is
// not instrumented, and TSan cannot follow absl::Mutex's futex path.

#ifndef RINGACTOR_SCHEDULER_NOTIFICATION_H_
#define RINGACTOR_SCHEDULER_NOTIFICATION_H_

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "absl/time/time.h"

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
    std::lock_guard<std::mutex> lock(mu_);
    notified_ = true;
    cv_.notify_all();
  }
  bool HasBeenNotified() const {
    std::lock_guard<std::mutex> lock(mu_);
    return notified_;
  }
  void WaitForNotification() const {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return notified_; });
  }
  bool WaitForNotificationWithTimeout(absl::Duration timeout) const {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                        [this] { return notified_; });
  }

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  bool notified_ = false;
};

}  // namespace ringactor::scheduler

#endif  // RINGACTOR_SCHEDULER_NOTIFICATION_H_
