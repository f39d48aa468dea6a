// File: tests/scheduler/testdata/mutex_use.cc
//
// Compiled (never linked) by mutex_annotations_test.sh with clang's
// -Wthread-safety -Werror: as it is, it must compile; with -DMISUSE_<n>,
// each misuse must be refused. If scheduler::Mutex lost its annotations,
// the misuses would compile and the test would fail.

#include <condition_variable>

#include "absl/base/thread_annotations.h"
#include "scheduler/mutex.h"

namespace {

using ringactor::scheduler::Mutex;
using ringactor::scheduler::MutexLock;

class Counter {
 public:
  void Add() {
    MutexLock lock(mu_);
    ++n_;
    cv_.notify_all();
  }
  int WaitForOne() {
    MutexLock lock(mu_);
    while (n_ == 0) lock.Wait(cv_);
    return n_;
  }
  int TakeAndRelease() {
    MutexLock lock(mu_);
    const int n = n_;
    lock.Unlock();
#ifdef MISUSE_AFTER_UNLOCK
    return n_;  // read after the early Unlock
#endif
    return n;
  }
  int Peek() {
#ifdef MISUSE_NO_LOCK
    return n_;  // read without the lock
#else
    MutexLock lock(mu_);
    return n_;
#endif
  }
  void Bump() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { ++n_; }
  void BumpLocked() {
#ifdef MISUSE_REQUIRES
    Bump();  // a function that requires the lock, called without it
#else
    MutexLock lock(mu_);
    Bump();
#endif
  }

 private:
  Mutex mu_;
  std::condition_variable cv_;
  int n_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace

int UseCounter() {
  Counter c;
  c.Add();
  c.BumpLocked();
  return c.WaitForOne() + c.TakeAndRelease() + c.Peek();
}
