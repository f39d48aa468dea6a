// File: actors/stealable.cc
//
// Stealable (stateless) actors: spawning one instance per shard, routing
// their messages into steal queues, handing queued messages to the
// instance of whichever shard takes them, and stopping them.

#include <utility>

#include "absl/strings/str_cat.h"
#include "actors/actor_system.h"
#include "actors/internal/runtime.h"
#include "actors/internal/stealable.h"

namespace ringactor {

absl::StatusOr<uint32_t> ActorSystem::PlaceStealable(
    Instances instances, const SpawnOptions& options) {
  auto drop = [&](size_t from) {
    for (size_t i = from; i < instances.size(); ++i) {
      delete instances[i].second;
      delete instances[i].first;
    }
  };
  auto group = std::make_unique<internal::StealableGroup>();
  group->preferred = internal::kStealableShard;
  group->type = instances.front().first->type_;
  if (const auto* p = std::get_if<StealablePreferred>(&options.placement)) {
    if (p->shard.value() >= num_shards()) {
      drop(0);
      return absl::InvalidArgumentError(
          absl::StrCat("Spawn: StealablePreferred shard ", p->shard.value(),
                       " out of range (", num_shards(), " shards)"));
    }
    group->preferred = p->shard.value();
  }
  if (closed()) {
    drop(0);
    return absl::UnavailableError("Spawn: the actor system is shutting down");
  }
  shards_->EnableStealing();  // before any message can be queued
  absl::StatusOr<uint32_t> index = stealable_.Reserve();
  if (!index.ok()) {
    drop(0);
    return index.status();
  }
  for (uint32_t i = 0; i < instances.size(); ++i) {
    auto [actor, factory] = instances[i];
    actor->group_ = *index + 1;
    absl::StatusOr<Placed> placed =
        Place(actor, factory, SpawnOptions{Pinned{ShardId(i)}, options.on_failure});
    if (!placed.ok()) {  // Place freed this instance
      drop(i + 1);
      group->alive.store(false, std::memory_order_relaxed);
      internal::StealableGroup* g = group.get();
      stealable_.Publish(*index, std::move(group));
      // Stop the instances already placed (the group is dead: no message
      // reaches them).
      for (uint32_t k = 0; k < g->instances.size(); ++k) {
        auto* stop = new internal::StopNode();
        stop->slot = g->instances[k].slot;
        stop->gen = g->instances[k].gen;
        stop->type = g->type;
        Deliver(k, stop, internal::kStopTag).IgnoreError();
      }
      return placed.status();
    }
    group->instances.push_back({placed->slot, placed->gen});
  }
  stealable_.Publish(*index, std::move(group));
  return *index;
}

void ActorSystem::StopStealable(uint32_t index, uint32_t except) {
  internal::StealableGroup* g = stealable_.Get(index);
  if (g == nullptr || !g->alive.exchange(false, std::memory_order_acq_rel)) {
    return;
  }
  for (uint32_t i = 0; i < g->instances.size(); ++i) {
    if (i == except) continue;
    auto* stop = new internal::StopNode();
    stop->slot = g->instances[i].slot;
    stop->gen = g->instances[i].gen;
    stop->type = g->type;
    Deliver(i, stop, internal::kStopTag).IgnoreError();
  }
}

uint32_t ActorSystem::LeastLoadedShard() {
  const uint32_t n = num_shards();
  // Ties (typically: every queue empty) rotate.
  const uint32_t start = static_cast<uint32_t>(
      round_robin_.fetch_add(1, std::memory_order_relaxed) % n);
  uint32_t best = start;
  size_t best_depth = SIZE_MAX;
  for (uint32_t k = 0; k < n; ++k) {
    const uint32_t i = (start + k) % n;
    const size_t depth = shards_->shard(ShardId(i)).stealable_depth();
    if (depth < best_depth) {
      best = i;
      best_depth = depth;
    }
  }
  return best;
}

absl::Status ActorSystem::DeliverStealable(internal::MessageNode* node,
                                           uint64_t tag) {
  internal::ShardRuntime* cur = internal::ShardRuntime::Current();
  if (cur != nullptr && &cur->system() != this) cur = nullptr;
  const uint32_t index = node->slot;
  const internal::StealableGroup* g = stealable_.Get(index);
  if (g == nullptr || !g->alive.load(std::memory_order_acquire)) {
    if (cur != nullptr) {
      cur->CountDeadLetter(node->type);
    } else {
      foreign_dead_letters_.fetch_add(1, std::memory_order_relaxed);
    }
    delete node;
    return absl::NotFoundError("the actor has stopped");
  }
  if (tag == internal::kStopTag) {
    delete node;
    StopStealable(index);
    return absl::OkStatus();
  }
  // Destroyed wherever it runs: it may be stolen, so no shard can count it
  // as away at one target (flow control is the queue's capacity instead).
  node->origin = nullptr;
  uint32_t target = g->preferred;
  if (target == internal::kStealableShard) {
    target = cur != nullptr ? cur->shard_index() : LeastLoadedShard();
  }
  scheduler::Shard& shard = shards_->shard(ShardId(target));
  auto full = [&] {
    delete node;
    return absl::ResourceExhaustedError(absl::StrCat(
        "the steal queue of shard ", target, " holds ",
        options_.steal_queue_capacity,
        " messages (steal_queue_capacity); retry later"));
  };
  if (cur != nullptr && cur->shard_index() == target) {
    if (shard.PushStealable(node)) return absl::OkStatus();
    return full();
  }
  if (shard.stealable_depth() >= options_.steal_queue_capacity) return full();
  return SendEnvelope(cur, target, node, internal::kStealableTag,
                      /*counted=*/false);
}

namespace internal {

void ShardRuntime::OnStealableEnvelope(MessageNode* node) {
  if (phase_ != Phase::kRunning) {
    DeadLetter(node,
               absl::UnavailableError("the actor system is shutting down"));
    return;
  }
  // A full queue (senders check it, but envelopes in flight may overshoot):
  // the message runs here rather than being refused after it was accepted.
  if (!shard_ptr_->PushStealable(node)) RunStealable(node, /*stolen=*/false);
}

void ShardRuntime::RunStealable(void* item, bool) {
  auto* node = static_cast<MessageNode*>(item);
  const StealableGroup* g = system_.stealable().Get(node->slot);
  if (phase_ != Phase::kRunning) {
    DeadLetter(node,
               absl::UnavailableError("the actor system is shutting down"));
    return;
  }
  if (g == nullptr || !g->alive.load(std::memory_order_acquire)) {
    DeadLetter(node, absl::NotFoundError("the actor has stopped"));
    return;
  }
  const StealableGroup::Instance inst = g->instances[shard_];
  if (!slots_.IsAlive(inst.slot, inst.gen)) {
    // This shard's instance stopped on its own (OnStart threw): so do the
    // others.
    system_.StopStealable(node->slot);
    DeadLetter(node, absl::NotFoundError("the actor has stopped"));
    return;
  }
  node->slot = inst.slot;
  node->gen = inst.gen;
  Enqueue(node, /*local=*/false).IgnoreError();
}

void ShardRuntime::DropStealable() {
  const absl::Status why =
      absl::UnavailableError("the actor system is shutting down");
  while (void* item = shard_ptr_->PopStealable()) {
    DeadLetter(static_cast<MessageNode*>(item), why);
  }
}

}  // namespace internal
}  // namespace ringactor
