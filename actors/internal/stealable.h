// File: actors/internal/stealable.h
//
// The system's stealable (stateless) actors: one entry per Spawn with
// Stealable or StealablePreferred placement, naming the actor's instance on
// every shard. A message for it waits in a shard's steal queue
// (scheduler::Shard::PushStealable) until that shard, or an idle one that
// steals it, hands it to its own instance's mailbox.

#ifndef RINGACTOR_ACTORS_INTERNAL_STEALABLE_H_
#define RINGACTOR_ACTORS_INTERNAL_STEALABLE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "scheduler/mutex.h"

namespace ringactor::internal {

struct StealableGroup {
  struct Instance {
    uint32_t slot, gen;
  };
  std::atomic<bool> alive{true};  // false once stopped (refs: NotFound)
  uint32_t preferred = 0;         // kStealableShard: the sender's shard
  uint16_t type = 0;              // ActorTypeIndex
  std::vector<Instance> instances;  // [shard]; fixed before publication
};

// StealableTable
//
// Entries are never reused, so an index names one actor for the system's
// life and a stale ref is detected by `alive`. Chunks are allocated as
// needed and never move. Thread-safe: Reserve and Get from any thread;
// Publish once per reserved index.
class StealableTable {
 public:
  static constexpr uint32_t kChunkBits = 10;
  static constexpr uint32_t kChunkSize = 1u << kChunkBits;
  static constexpr uint32_t kMaxChunks = 256;
  static constexpr uint32_t kMaxActors = kMaxChunks * kChunkSize;

  StealableTable() = default;
  ~StealableTable() {
    for (auto& chunk : chunks_) {
      std::atomic<StealableGroup*>* c = chunk.load();
      if (c == nullptr) continue;
      for (uint32_t i = 0; i < kChunkSize; ++i) delete c[i].load();
      delete[] c;
    }
  }
  StealableTable(const StealableTable&) = delete;
  StealableTable& operator=(const StealableTable&) = delete;

  absl::StatusOr<uint32_t> Reserve() {
    scheduler::MutexLock lock(mu_);
    if (next_ >= kMaxActors) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "Spawn: a system holds at most ", kMaxActors, " stealable actors"));
    }
    const uint32_t index = next_++;
    std::atomic<std::atomic<StealableGroup*>*>& chunk =
        chunks_[index >> kChunkBits];
    if (chunk.load(std::memory_order_relaxed) == nullptr) {
      auto* c = new std::atomic<StealableGroup*>[kChunkSize];
      for (uint32_t i = 0; i < kChunkSize; ++i) {
        c[i].store(nullptr, std::memory_order_relaxed);
      }
      chunk.store(c, std::memory_order_release);
    }
    return index;
  }
  void Publish(uint32_t index, std::unique_ptr<StealableGroup> group) {
    Entry(index)->store(group.release(), std::memory_order_release);
  }
  // nullptr for an index never published.
  StealableGroup* Get(uint32_t index) const {
    if (index >= kMaxActors) return nullptr;
    const std::atomic<StealableGroup*>* e = Entry(index);
    return e == nullptr ? nullptr : e->load(std::memory_order_acquire);
  }
  bool IsAlive(uint32_t index) const {
    const StealableGroup* g = Get(index);
    return g != nullptr && g->alive.load(std::memory_order_acquire);
  }

 private:
  std::atomic<StealableGroup*>* Entry(uint32_t index) const {
    std::atomic<StealableGroup*>* c =
        chunks_[index >> kChunkBits].load(std::memory_order_acquire);
    return c == nullptr ? nullptr : &c[index & (kChunkSize - 1)];
  }

  std::atomic<std::atomic<StealableGroup*>*> chunks_[kMaxChunks] = {};
  scheduler::Mutex mu_;
  uint32_t next_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace ringactor::internal

#endif  // RINGACTOR_ACTORS_INTERNAL_STEALABLE_H_
