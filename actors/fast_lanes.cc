// File: actors/fast_lanes.cc
//
// Mailbox fast lanes: hot messages (a per-actor queue drained first, carried
// between shards as direct MSG_RING words past any lane backlog), coalesced
// hot messages (merged on the sending shard within a loop turn, and again at
// ingest), and counter lanes (per (actor, counter) accumulators on each
// sending shard, one update per turn; the owner is woken by policy).

#include <atomic>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "actors/actor_system.h"
#include "actors/internal/runtime.h"

namespace ringactor {
namespace internal {
namespace {

std::atomic<uint32_t> next_merge_type{1};
std::atomic<int64_t> count_thresholds[kMaxActorTypes];
std::atomic<int64_t> count_delays[kMaxActorTypes];

uint64_t Magnitude(int64_t v) {
  return v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
}

}  // namespace

uint32_t NextMergeType() {
  return next_merge_type.fetch_add(1, std::memory_order_relaxed);
}

void SetCountPolicy(uint16_t type, CountPolicy p) {
  count_thresholds[type].store(p.threshold, std::memory_order_relaxed);
  count_delays[type].store(p.max_delay_ns, std::memory_order_relaxed);
}

CountPolicy LoadCountPolicy(uint16_t type) {
  return {count_thresholds[type].load(std::memory_order_relaxed),
          count_delays[type].load(std::memory_order_relaxed)};
}

void CounterState::WakeTimer::OnFire() noexcept { rt->OnCountTimer(actor); }

// -- Sender side ----------------------------------------------------------------

absl::Status ShardRuntime::AccumulateCountSlow(const FastKey& key,
                                               uint16_t type, int64_t delta) {
  if (!system_.runtime(key.shard).slots().IsAlive(key.slot, key.gen)) {
    CountDeadLetter(type);
    return absl::NotFoundError("the actor has stopped");
  }
  auto [it, inserted] = pending_count_index_.try_emplace(
      key, static_cast<uint32_t>(pending_counts_.size()));
  if (inserted) pending_counts_.push_back(PendingCount{key, 0, 0, type});
  recent_counts_[RecentIndex(key)] = it->second + 1;
  PendingCount& acc = pending_counts_[it->second];
  int64_t sum;
  if (__builtin_add_overflow(acc.delta, delta, &sum)) {
    // Never overflow silently: ship what we have, start again.
    SendCount(key, acc);
    acc.calls = 0;
    sum = delta;
  }
  acc.delta = sum;
  ++acc.calls;
  return absl::OkStatus();
}

void ShardRuntime::SendCount(const FastKey& key, const PendingCount& acc) {
  counters_[acc.type].count_updates.Add(acc.calls);
  auto* node = new CountNode(key.sub, acc.delta);
  node->slot = key.slot;
  node->gen = key.gen;
  node->type = acc.type;
  counters_[acc.type].count_envelopes.Add(1);
  if (key.shard == shard_) {
    Enqueue(node, /*local=*/false).IgnoreError();
  } else {
    SendHot(key.shard, node);
  }
}

MessageNode* ShardRuntime::PendingCoalesced(const FastKey& key) {
  auto it = pending_coalesced_.find(key);
  return it == pending_coalesced_.end() ? nullptr : it->second;
}

void ShardRuntime::ParkCoalesced(const FastKey& key, MessageNode* node) {
  auto [it, inserted] = pending_coalesced_.try_emplace(key, node);
  if (!inserted) {  // the waiting one could not absorb this: ship it first
    system_.Deliver(key.shard, std::exchange(it->second, node)).IgnoreError();
  }
}

void ShardRuntime::SendHot(uint32_t to, MessageNode* node) {
  const uint64_t p = reinterpret_cast<uint64_t>(node);
  // The target's inbox: shared memory that its loop drains before the lanes
  // and that a spinning shard sees at once (a sleeping one is woken).
  bool sent = shard_ptr_->endpoint()
                  .SendUrgent(transport::ShardId(to), {kDeliverTag, p})
                  .ok();
  if (!sent) {  // inbox full: a direct word (MSG_RING, no lane)
    ReleaseToKernel(node);
    sent = shard_ptr_->SendWord(transport::ShardId(to), kHotWordTag, p).ok();
  }
  if (!sent) {  // out of word slots: the lane, never refused
    sent = shard_ptr_
               ->Send(transport::ShardId(to), {kDeliverTag, p},
                      scheduler::SendPriority::kReply)
               .ok();
  }
  // Counted in away_ (unless in a cell, it comes home like any node) but
  // never refused: hot traffic is not held back by ordinary backpressure.
  if (sent) {
    NoteAway(to, node);
  } else {
    Free(node);
  }
}

void ShardRuntime::FlushFastLanes() {
  if (!pending_counts_.empty()) {
    for (const PendingCount& acc : pending_counts_) {
      if (acc.delta != 0) {
        SendCount(acc.key, acc);
      } else {
        counters_[acc.type].count_updates.Add(acc.calls);  // summed to zero
      }
    }
    pending_counts_.clear();
    pending_count_index_.clear();
    for (uint32_t& r : recent_counts_) r = 0;
  }
  if (!pending_coalesced_.empty()) {
    for (const auto& [key, node] : pending_coalesced_) {
      system_.Deliver(key.shard, node).IgnoreError();
    }
    pending_coalesced_.clear();
  }
}

// -- Receiver side --------------------------------------------------------------

void ShardRuntime::ApplyCount(Actor* a, const CountNode& update) {
  if (a->counters_ == nullptr) a->counters_ = new CounterState(this, a);
  CounterState& cs = *a->counters_;
  int64_t& total = cs.totals[update.counter];
  const int64_t prev = total;
  if (__builtin_add_overflow(prev, update.delta, &total)) {
    total = update.delta > 0 ? std::numeric_limits<int64_t>::max()
                             : std::numeric_limits<int64_t>::min();
    counters_[a->type_].count_saturations.Add(1);
  }
  const CountPolicy policy = LoadCountPolicy(a->type_);
  const uint64_t threshold = Magnitude(policy.threshold);
  const bool wake =
      (prev == 0 && total != 0) ||
      (Magnitude(prev) < threshold && Magnitude(total) >= threshold);
  if (wake) {
    WakeCounter(a, update.counter);
  } else if (total != 0 && !cs.timer.armed()) {
    cs.timer.Arm(scheduler::MonoNanos() + policy.max_delay_ns);
  }
}

void ShardRuntime::WakeCounter(Actor* a, uint32_t counter) {
  std::vector<uint32_t>& wakes = a->counters_->wakes;
  for (uint32_t c : wakes) {
    if (c == counter) return;
  }
  wakes.push_back(counter);
  Schedule(a);
}

void ShardRuntime::OnCountTimer(Actor* a) {
  if (a->state_ == Actor::Lifecycle::kStopping) return;
  for (const auto& [counter, total] : a->counters_->totals) {
    if (total != 0) WakeCounter(a, counter);
  }
}

bool ShardRuntime::RunCountWakes(Actor* a) {
  CounterState& cs = *a->counters_;
  if (cs.wakes.empty()) return true;
  if (a->in_flight_ > 0 && !a->reentrant_) return true;  // after the handler
  std::vector<uint32_t> due;
  due.swap(cs.wakes);
  for (uint32_t counter : due) {
    counters_[a->type_].count_wakes.Add(1);
    running_ = a;
    try {
      a->OnCount(counter);
    } catch (...) {
      counters_[a->type_].failures.Add(1);
      if (a->on_failure_ == OnFailure::kRestart && a->factory_ != nullptr) {
        a->restart_pending_ = true;
      } else if (a->on_failure_ != OnFailure::kResume) {
        a->stop_requested_ = true;
      }
    }
    running_ = nullptr;
    if (a->restart_pending_ || a->stop_requested_) {
      AfterHandler(a);
      return false;
    }
  }
  return true;
}

}  // namespace internal

int64_t Actor::TakeCount(uint32_t counter) {
  if (counters_ == nullptr) return 0;
  auto it = counters_->totals.find(counter);
  return it == counters_->totals.end() ? 0 : std::exchange(it->second, 0);
}

int64_t Actor::PeekCount(uint32_t counter) const {
  if (counters_ == nullptr) return 0;
  auto it = counters_->totals.find(counter);
  return it == counters_->totals.end() ? 0 : it->second;
}

}  // namespace ringactor
