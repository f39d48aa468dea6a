#include "tests/testing/shard_thread.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"

namespace ringactor::testing {

bool WaitUntil(const std::function<bool()>& pred, absl::Duration guard) {
  const absl::Time deadline = absl::Now() + guard;
  while (!pred()) {
    if (absl::Now() > deadline) return pred();
    std::this_thread::yield();
  }
  return true;
}

bool ThreadIsSleeping(pid_t tid) {
  std::ifstream in(absl::StrCat("/proc/self/task/", tid, "/stat"));
  std::string stat;
  std::getline(in, stat);
  // Format: "tid (comm) S ...": the state follows the last ')'.
  const size_t paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() &&
         stat[paren + 2] == 'S';
}

ShardThread::ShardThread(transport::Mesh& mesh, transport::ShardId id,
                         Body body, io::RingOptions ring_options) {
  thread_ = std::thread([this, &mesh, id, body = std::move(body),
                         ring_options] {
    tid_.store(static_cast<pid_t>(syscall(SYS_gettid)));
    auto ring = io::Ring::Create(ring_options);
    if (!ring.ok()) {
      status_ = ring.status();
      attached_.Notify();
      return;
    }
    transport::Endpoint& ep = mesh.endpoint(id);
    status_ = ep.Attach(ring->get());
    attached_.Notify();
    if (!status_.ok()) return;
    body(ep);
    status_ = ep.Detach();
  });
}

ShardThread::~ShardThread() {
  if (thread_.joinable()) thread_.join();
}

pid_t ShardThread::WaitAttached() {
  attached_.WaitForNotificationWithTimeout(kHangGuard);
  return tid_.load();
}

absl::Status ShardThread::Join() {
  if (thread_.joinable()) thread_.join();
  return status_;
}

void RunLoop(transport::Endpoint& ep, transport::Receiver& r,
             const std::atomic<bool>& stop, size_t budget) {
  while (!stop.load(std::memory_order_acquire)) {
    const size_t handled = ep.Poll(r, budget);
    (void)ep.Flush();
    if (handled == 0) (void)ep.Park();
  }
  // Drain what arrived before the stop.
  while (ep.Poll(r, budget) != 0) {
  }
  (void)ep.Flush();
}

}  // namespace ringactor::testing
