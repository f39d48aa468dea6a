// File: scheduler/shard_set.h

#ifndef RINGACTOR_SCHEDULER_SHARD_SET_H_
#define RINGACTOR_SCHEDULER_SHARD_SET_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "scheduler/mutex.h"
#include "scheduler/notification.h"
#include "io/ring.h"
#include "scheduler/shard.h"
#include "transport/mesh.h"
#include "transport/options.h"
#include "transport/shard_id.h"

namespace ringactor::scheduler {

// ShardSetOptions
//
// `Validate()` names the first bad field (InvalidArgument).
struct ShardSetOptions {
  // Number of shards, [1, 256]; unset means one per CPU this process may
  // run on (sched_getaffinity).
  std::optional<uint32_t> num_shards;
  // Pin shard i to the i-th allowed CPU (modulo their count). Unpinned,
  // shard i still starts there, and keeps apart from the others (see
  // Shard::KeepApart).
  bool pin_threads = false;
  // Lanes, inboxes, idle spin. `mesh.num_shards` is ignored (num_shards
  // above wins).
  transport::MeshOptions mesh;
  ShardLoopOptions loop;
  io::RingOptions ring;

  absl::Status Validate() const;
};

// The CPUs this process may run on (at least 1).
uint32_t AllowedCpuCount();

// ShardSet
//
// Starts N shards (threads + rings + loops) over one transport mesh and stops
// them in order: every shard leaves its loop, resolves what waits on it
// (ShardHooks::OnShardStopping), destroys its suspended coroutines, flushes
// what it still owes other shards, and detaches only when every shard has
// done the same, so no envelope is ever published into a ring whose owner
// has exited (DESIGN.md pitfall).
//
// Thread-safe: every method.
class ShardSet {
 public:
  // ShardSet::Create()
  //
  // Starts the shards; `hooks[i]` (not owned; must outlive the set) plugs
  // into shard i and `hooks.size()` must equal the resolved shard count.
  // Returns once every shard's ring is created and attached, or the first
  // error (then every started shard is stopped).
  static absl::StatusOr<std::unique_ptr<ShardSet>> Create(
      const ShardSetOptions& options, std::vector<ShardHooks*> hooks);

  // The shard count `options` resolves to.
  static uint32_t ResolveShardCount(const ShardSetOptions& options);

  ~ShardSet();  // Stop()s.
  ShardSet(const ShardSet&) = delete;
  ShardSet& operator=(const ShardSet&) = delete;

  uint32_t size() const { return static_cast<uint32_t>(shards_.size()); }
  Shard& shard(transport::ShardId id) { return *shards_[id.value()]; }
  transport::Mesh& mesh() { return *mesh_; }

  // ShardSet::SubmitTo()
  //
  // Runs `fn` on shard `to`'s thread, in its next loop turn. `fn` is moved
  // into the shard's queue; it runs and is destroyed on shard `to`. Closures
  // from one thread run in submission order. InvalidArgument for an unknown
  // shard; Unavailable once Stop() began (fn is destroyed on the caller);
  // otherwise OK, and `fn` will run (even if the kernel refused to wake the
  // shard now: the next wake-up of any kind runs it).
  absl::Status SubmitTo(transport::ShardId to,
                        absl::AnyInvocable<void() &&> fn);

  // ShardSet::EnableStealing()
  //
  // From now on idle shards steal from each other's steal queues (see
  // Shard). Until then they skip the idle flag and the scan, which cost a
  // locked store per idle/busy transition; call it before the first
  // PushStealable. Never turned off.
  void EnableStealing() { stealing_.store(true, std::memory_order_release); }
  bool stealing() const { return stealing_.load(std::memory_order_acquire); }

  // ShardSet::Stop()
  //
  // Stops every shard as described above and joins the threads. Closures
  // accepted before Stop still run. Idempotent; returns the first error a
  // shard loop hit. Must not be called from a shard thread.
  absl::Status Stop();

 private:
  friend class Shard;
  ShardSet() = default;
  // Stop barrier `b`: marks the calling shard as arrived, wakes the others.
  void Arrive(int barrier);
  bool AllArrived(int barrier) const {
    return arrived_[barrier].load(std::memory_order_acquire) == size();
  }
  void WakeAll();

  // Runs the calling thread on `cpu`: for good (`pin`), or only until the
  // kernel moves it (it gets the CPUs `allowed` back). Returns the CPU it
  // then runs on (-1 if unknown).
  static int MoveThread(int cpu, bool pin, const std::vector<int>& allowed);

  std::unique_ptr<transport::Mesh> mesh_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::vector<std::thread> threads_;
  io::RingOptions ring_options_;
  Notification go_;  // every shard reported; go_ok_ says how
  std::atomic<bool> go_ok_{false};
  std::atomic<uint32_t> arrived_[2] = {0, 0};
  std::atomic<bool> stealing_{false};
  Mutex stop_mu_;
  bool stopped_ ABSL_GUARDED_BY(stop_mu_) = false;
  absl::Status stop_status_ ABSL_GUARDED_BY(stop_mu_);
  // The CPUs the process could run on at Create, and whether shards are
  // pinned to them. Read-only once the shards run.
  std::vector<int> cpus_;
  bool pinned_ = false;
};

}  // namespace ringactor::scheduler

#endif  // RINGACTOR_SCHEDULER_SHARD_SET_H_
