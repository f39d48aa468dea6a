// File: scheduler/shard_set.cc

#include "scheduler/shard_set.h"

#include <sched.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace ringactor::scheduler {
namespace {

std::vector<int> AllowedCpus() {
  std::vector<int> cpus;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    for (int c = 0; c < CPU_SETSIZE; ++c) {
      if (CPU_ISSET(c, &set)) cpus.push_back(c);
    }
  }
  if (cpus.empty()) cpus.push_back(0);
  return cpus;
}

}  // namespace

int ShardSet::MoveThread(int cpu, bool pin, const std::vector<int>& allowed) {
  cpu_set_t mask;
  CPU_ZERO(&mask);
  CPU_SET(cpu, &mask);
  // Takes effect before it returns: the calling thread is moved at once.
  if (sched_setaffinity(0, sizeof(mask), &mask) != 0) return sched_getcpu();
  const int now = sched_getcpu();
  if (!pin) {
    for (int c : allowed) CPU_SET(c, &mask);
    sched_setaffinity(0, sizeof(mask), &mask);
  }
  return now;
}

uint32_t AllowedCpuCount() {
  return static_cast<uint32_t>(AllowedCpus().size());
}

absl::Status ShardSetOptions::Validate() const {
  if (num_shards.has_value() && (*num_shards == 0 || *num_shards > 256)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "num_shards must be in [1, 256] (or unset: one per CPU), got ",
        *num_shards));
  }
  transport::MeshOptions m = mesh;
  m.num_shards = ShardSet::ResolveShardCount(*this);
  if (absl::Status s = m.Validate(); !s.ok()) return s;
  if (loop.incoming_budget == 0 || loop.incoming_budget > (1u << 20)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "incoming_budget must be in [1, 1048576], got ", loop.incoming_budget));
  }
  if (loop.run_budget == 0 || loop.run_budget > (1u << 20)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "run_budget must be in [1, 1048576], got ", loop.run_budget));
  }
  if (loop.backlog_capacity > (1u << 24)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "backlog_capacity must be in [0, 16777216], got ",
        loop.backlog_capacity));
  }
  const uint32_t q = loop.steal_queue_capacity;
  if (q < 2 || q > (1u << 20) || (q & (q - 1)) != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "steal_queue_capacity must be a power of two in [2, 1048576], got ",
        q));
  }
  if (loop.steal_budget == 0 || loop.steal_budget > (1u << 16)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "steal_budget must be in [1, 65536], got ", loop.steal_budget));
  }
  return absl::OkStatus();
}

uint32_t ShardSet::ResolveShardCount(const ShardSetOptions& options) {
  return options.num_shards.has_value()
             ? *options.num_shards
             : std::min<uint32_t>(AllowedCpuCount(), 256);
}

absl::StatusOr<std::unique_ptr<ShardSet>> ShardSet::Create(
    const ShardSetOptions& options, std::vector<ShardHooks*> hooks) {
  if (absl::Status s = options.Validate(); !s.ok()) return s;
  const uint32_t n = ResolveShardCount(options);
  if (hooks.size() != n) {
    return absl::InvalidArgumentError(
        absl::StrCat("ShardSet::Create: ", hooks.size(), " hooks for ", n,
                     " shards"));
  }
  transport::MeshOptions mesh_options = options.mesh;
  mesh_options.num_shards = n;
  auto mesh = transport::Mesh::Create(mesh_options);
  if (!mesh.ok()) return mesh.status();

  std::unique_ptr<ShardSet> set(new ShardSet());
  set->mesh_ = *std::move(mesh);
  set->ring_options_ = options.ring;
  // Shard i starts on the i-th allowed CPU (modulo their count), pinned
  // there or not. Unpinned, it then gets the whole mask back: left to
  // itself the kernel often started both shards of a 2-CPU machine on one
  // CPU and moved one only ~12 ms later, after ~500 request/response round
  // trips of ~25 us instead of ~0.4-1.2 us (docs/benchmarks.md).
  set->cpus_ = AllowedCpus();
  set->pinned_ = options.pin_threads;
  for (uint32_t i = 0; i < n; ++i) {
    set->shards_.push_back(std::make_unique<Shard>(
        *set, transport::ShardId(i), hooks[i], options.loop));
  }
  for (uint32_t i = 0; i < n; ++i) {
    Shard* shard = set->shards_[i].get();
    const int cpu = set->cpus_[i % set->cpus_.size()];
    set->threads_.emplace_back([shard, cpu, set = set.get()] {
      const int now = MoveThread(cpu, set->pinned_, set->cpus_);
      shard->cpu_.store(now, std::memory_order_relaxed);
      shard->start_cpu_.store(now, std::memory_order_release);
      shard->Main();
    });
  }
  absl::Status first;
  for (auto& shard : set->shards_) {
    shard->ready_.WaitForNotification();
    if (first.ok() && !shard->status_.ok()) first = shard->status_;
  }
  set->go_ok_.store(first.ok(), std::memory_order_release);
  set->go_.Notify();
  if (!first.ok()) {
    for (auto& t : set->threads_) t.join();
    set->threads_.clear();
    MutexLock lock(set->stop_mu_);
    set->stopped_ = true;
    return first;
  }
  return set;
}

ShardSet::~ShardSet() { Stop().IgnoreError(); }

absl::Status ShardSet::SubmitTo(transport::ShardId to,
                                absl::AnyInvocable<void() &&> fn) {
  if (to.value() >= shards_.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("SubmitTo: no shard ", to.value(), " (", shards_.size(),
                     " shards)"));
  }
  Shard& shard = *shards_[to.value()];
  {
    MutexLock lock(shard.closures_mu_);
    if (!shard.accepting_closures_) {
      return absl::UnavailableError("SubmitTo: the shard set is stopping");
    }
    shard.closures_.push_back(std::move(fn));
    shard.has_closures_.store(true, std::memory_order_release);
  }
  // Accepted, `fn` will run: an error now would tell the caller otherwise
  // (and let it free what `fn` uses). A wake-up the kernel refused is
  // counted in the transport's stats, and the next wake rings the shard.
  mesh_->Wake(to).IgnoreError();
  return absl::OkStatus();
}

void ShardSet::Arrive(int barrier) {
  arrived_[barrier].fetch_add(1, std::memory_order_acq_rel);
  WakeAll();
}

void ShardSet::WakeAll() {
  for (uint32_t i = 0; i < size(); ++i) {
    mesh_->Wake(transport::ShardId(i)).IgnoreError();
  }
}

absl::Status ShardSet::Stop() {
  MutexLock lock(stop_mu_);
  if (stopped_) return stop_status_;
  stopped_ = true;
  for (auto& shard : shards_) {
    MutexLock closures_lock(shard->closures_mu_);
    shard->accepting_closures_ = false;
  }
  for (auto& shard : shards_) {
    shard->stopping_.store(true, std::memory_order_release);
  }
  WakeAll();
  for (auto& t : threads_) t.join();
  threads_.clear();
  for (auto& shard : shards_) {
    if (stop_status_.ok() && !shard->status_.ok()) stop_status_ = shard->status_;
  }
  return stop_status_;
}

}  // namespace ringactor::scheduler
