// File: tests/testing/shard_thread.h
//
// Test helpers: run a mesh shard on its own thread, and wait for events with
// a hang guard instead of sleeping.

#ifndef RINGACTOR_TESTS_TESTING_SHARD_THREAD_H_
#define RINGACTOR_TESTS_TESTING_SHARD_THREAD_H_

#include <sys/types.h>

#include <atomic>
#include <functional>
#include <memory>
#include <thread>

#include "absl/status/status.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "io/ring.h"
#include "transport/mesh.h"

namespace ringactor::testing {

// How long any wait in a test may take before it counts as a hang. Tests
// synchronize on events; this bound only turns a hang into a failure.
// Bazel's hard test timeout (60 s for size "small") backs it up.
inline constexpr absl::Duration kHangGuard = absl::Seconds(30);

// Calls `pred` until it returns true (yielding between calls) or `guard`
// passes. Returns the last value of `pred`.
bool WaitUntil(const std::function<bool()>& pred,
               absl::Duration guard = kHangGuard);

// True when thread `tid` of this process is blocked in the kernel (state S
// in /proc), i.e. a parked shard is really asleep, not spinning.
bool ThreadIsSleeping(pid_t tid);

// ShardThread
//
// Starts a thread that creates an io::Ring, attaches it to
// `mesh.endpoint(id)`, runs `body`, and detaches. Join() (or the destructor)
// waits for it and returns the first error of Ring::Create / Attach /
// Detach. Thread-compatible.
class ShardThread {
 public:
  using Body = std::function<void(transport::Endpoint&)>;
  ShardThread(transport::Mesh& mesh, transport::ShardId id, Body body,
              io::RingOptions ring_options = {});
  ~ShardThread();

  // Blocks until the shard is attached; returns its kernel thread id.
  pid_t WaitAttached();
  absl::Status Join();

 private:
  absl::Notification attached_;
  std::atomic<pid_t> tid_{0};
  absl::Status status_;
  std::thread thread_;
};

// Runs the ordinary shard loop (Poll, Flush, Park when idle) until `stop` is
// set. Wake
// the shard with Mesh::Wake after setting `stop`.
void RunLoop(transport::Endpoint& ep, transport::Receiver& r,
             const std::atomic<bool>& stop, size_t budget = 4096);

}  // namespace ringactor::testing

#endif  // RINGACTOR_TESTS_TESTING_SHARD_THREAD_H_
