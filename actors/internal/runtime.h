// File: actors/internal/runtime.h
//
// The actor layer's per-shard state: the slot table that names actors, the
// table of pending Asks, per-type counters, and the ShardHooks that turn
// envelopes into mailbox entries.

#ifndef RINGACTOR_ACTORS_INTERNAL_RUNTIME_H_
#define RINGACTOR_ACTORS_INTERNAL_RUNTIME_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "actors/actor.h"
#include "actors/internal/message.h"
#include "actors/stats.h"
#include "scheduler/cell_ring.h"
#include "scheduler/mutex.h"
#include "scheduler/shard.h"
#include "scheduler/timer.h"
#include "transport/lane.h"

namespace ringactor {
class ActorSystem;
namespace internal {

// Most actor types a process may have; later types share the last slot of
// the per-type stats.
inline constexpr uint32_t kMaxActorTypes = 128;

// The index of actor type A in per-type stats (registered on first use).
uint16_t RegisterActorType(const char* mangled_name);
template <typename A>
uint16_t ActorTypeIndex() {
  static const uint16_t index = RegisterActorType(typeid(A).name());
  return index;
}
std::string ActorTypeName(uint16_t index);
uint32_t ActorTypeCount();

// Re-creates an actor for OnFailure::kRestart.
class ActorFactory {
 public:
  virtual ~ActorFactory() = default;
  virtual Actor* Create() const = 0;
};
template <typename A, typename... Args>
class TypedFactory final : public ActorFactory {
 public:
  explicit TypedFactory(Args... args) : args_(std::move(args)...) {}
  Actor* Create() const override {
    return std::apply([](const Args&... a) { return new A(a...); }, args_);
  }

 private:
  std::tuple<Args...> args_;
};

// A counter written by one thread and read by any (relaxed; no RMW).
class OwnerCounter {
 public:
  void Add(uint64_t n) {
    v_.store(v_.load(std::memory_order_relaxed) + n,
             std::memory_order_relaxed);
  }
  void Sub(uint64_t n) { Add(-n); }
  uint64_t Load() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

struct alignas(transport::kCacheLine) TypeCounters {
  OwnerCounter handled, dead_letters, asks_timed_out, restarts, failures,
      mailbox_depth, live_actors;
  // Fast lanes (sender side for the first three, receiver side after).
  OwnerCounter coalesced_sends, count_updates, count_envelopes, hot_depth,
      count_wakes, count_saturations;
};

// Counter-lane wake policy of an actor type (from A::kCountWakeThreshold and
// A::kCountMaxDelay, recorded at Spawn).
struct CountPolicy {
  int64_t threshold = 1024;
  int64_t max_delay_ns = 1'000'000;
};
void SetCountPolicy(uint16_t type, CountPolicy p);
CountPolicy LoadCountPolicy(uint16_t type);

// Names one (target actor, sub-key) on the sending shard: a counter, or a
// coalesced message type.
struct FastKey {
  uint32_t shard, slot, gen, sub;
  friend bool operator==(const FastKey& a, const FastKey& b) {
    return a.shard == b.shard && a.slot == b.slot && a.gen == b.gen &&
           a.sub == b.sub;
  }
  template <typename H>
  friend H AbslHashValue(H h, const FastKey& k) {
    return H::combine(std::move(h), k.shard, k.slot, k.gen, k.sub);
  }
};

// A counter-lane owner's state (allocated on its first update).
struct CounterState {
  class WakeTimer final : public scheduler::Timer {
   public:
    WakeTimer(ShardRuntime* rt, Actor* a) : rt(rt), actor(a) {}
    void OnFire() noexcept override;
    ShardRuntime* rt;
    Actor* actor;
  };
  CounterState(ShardRuntime* rt, Actor* a) : timer(rt, a) {}
  absl::flat_hash_map<uint32_t, int64_t> totals;
  std::vector<uint32_t> wakes;  // counters whose OnCount is due
  WakeTimer timer;              // the max-delay guarantee
};

// SlotTable
//
// Names the actors of one shard: slot -> (generation, Actor*). ActorRefs
// hold (slot, generation); a stopped actor's generation is retired, so a
// stale ref is detected from any thread. Chunks never move, so readers need
// no lock. Thread-safe: Allocate/Release take a mutex; Get is lock-free.
class SlotTable {
 public:
  struct Slot {
    std::atomic<uint32_t> alive_gen{0};  // 0: no live actor
    uint32_t last_gen = 0;               // under mu_
    std::atomic<Actor*> actor{nullptr};
  };
  static constexpr uint32_t kChunkBits = 12;
  static constexpr uint32_t kChunkSize = 1u << kChunkBits;
  static constexpr uint32_t kMaxChunks = 4096;  // 16 M actors per shard

  SlotTable();
  ~SlotTable();
  // Reserves a slot for `a` and publishes it; returns (slot, generation).
  absl::StatusOr<std::pair<uint32_t, uint32_t>> Allocate(Actor* a);
  // Retires the slot's generation (refs now get NotFound). Owner only.
  void Retire(uint32_t slot);
  // Makes a retired slot reusable. Owner only.
  void Release(uint32_t slot);
  // A slot that was allocated, whose chunk therefore exists.
  Slot& At(uint32_t slot) const {
    return chunks_[slot >> kChunkBits].load(
        std::memory_order_acquire)[slot & (kChunkSize - 1)];
  }
  Slot* Get(uint32_t slot) const {
    Slot* chunk = chunks_[slot >> kChunkBits].load(std::memory_order_acquire);
    return chunk == nullptr ? nullptr : &chunk[slot & (kChunkSize - 1)];
  }
  bool IsAlive(uint32_t slot, uint32_t gen) const {
    if ((slot >> kChunkBits) >= kMaxChunks) return false;
    const Slot* s = Get(slot);
    return s != nullptr && s->alive_gen.load(std::memory_order_acquire) == gen;
  }
  uint32_t high_water() const {
    return high_water_.load(std::memory_order_acquire);
  }

 private:
  std::unique_ptr<std::atomic<Slot*>[]> chunks_;
  scheduler::Mutex mu_;
  std::vector<uint32_t> free_ ABSL_GUARDED_BY(mu_);
  std::atomic<uint32_t> high_water_{0};
};

// PendingAsk
//
// An Ask waiting for its reply on this shard (lives in the asking
// coroutine's frame). Shard-affine.
class PendingAsk {
 public:
  // Takes ownership of `reply`.
  virtual void OnReply(ReplyNode* reply) = 0;

 protected:
  ~PendingAsk() = default;
};

// ShardRuntime
//
// Shard-affine, except `slots()` (thread-safe) and the counters (read by
// Stats from any thread).
class alignas(transport::kCacheLine) ShardRuntime final
    : public scheduler::ShardHooks {
 public:
  ShardRuntime(ActorSystem& system, uint32_t shard, uint32_t num_shards);
  ~ShardRuntime();

  // The runtime of the shard running on this thread (nullptr elsewhere).
  static ShardRuntime* Current() { return current_; }
  // Current(), when that shard belongs to `system`; nullptr otherwise.
  static ShardRuntime* CurrentOf(const ActorSystem* system) {
    ShardRuntime* rt = current_;
    return rt != nullptr && &rt->system_ == system ? rt : nullptr;
  }

  // A free cell of the calling shard's CellRing for `shard`, when the
  // caller is a shard of `system` and `shard` another of its shards;
  // nullptr otherwise (see Traveler).
  static void* TakeCell(const ActorSystem* system, uint32_t shard) {
    ShardRuntime* rt = CurrentOf(system);
    if (rt == nullptr) return nullptr;
    scheduler::CellRing* ring = rt->RingTo(shard);
    return ring != nullptr ? ring->TryTake(rt->turns_) : nullptr;
  }
  // Before building a hot message for `shard` of `system` on a shard of
  // it: starts fetching the target's inbox lines (Endpoint::PrefetchUrgent)
  // so that they arrive while the message is built.
  static void PrefetchUrgentTo(const ActorSystem* system, uint32_t shard) {
    ShardRuntime* rt = CurrentOf(system);
    if (rt == nullptr || shard == rt->shard_) return;
    rt->shard_ptr_->endpoint().PrefetchUrgent(transport::ShardId(shard));
  }
  // Cells taken from this shard's rings, and takes that found none (the
  // send used the block cache). Any thread.
  uint64_t cells_taken() const;
  uint64_t cell_misses() const;

  // Publishes this shard's lanes, rings sleeping targets and submits now,
  // mid-turn, rather than at the turn's end. A failed submit leaves its
  // SQEs queued; the turn's own Flush retries them and reports the error.
  void FlushSends() { shard_ptr_->endpoint().Flush().IgnoreError(); }
  ActorSystem& system() { return system_; }
  uint32_t shard_index() const { return shard_; }
  scheduler::Shard& shard() { return *shard_ptr_; }
  SlotTable& slots() { return slots_; }
  TypeCounters& counters(uint16_t type) { return counters_[type]; }
  const TypeCounters& counters(uint16_t type) const { return counters_[type]; }
  uint64_t late_replies() const { return late_replies_.Load(); }
  uint64_t flow_control_refusals() const {
    return flow_control_refusals_.Load();
  }
  bool stopping() const { return phase_ != Phase::kRunning; }

  // -- Called on this shard ------------------------------------------------
  // A message for one of this shard's actors (from here or a lane). Takes
  // ownership. `local` sends are checked against mailbox_capacity.
  absl::Status Enqueue(MessageNode* node, bool local);
  // Starts a freshly spawned actor (OnStart) unless it already started.
  void StartActor(uint32_t slot, uint32_t gen);
  // Runs up to a batch of `actor`'s mailbox (Actor::Run).
  void RunActor(Actor* actor);
  // Registers an Ask; returns where its reply must go.
  ReplyTo RegisterAsk(PendingAsk* ask);
  void UnregisterAsk(const ReplyTo& to);
  void Reply(const ReplyTo& to, ReplyNode* reply);
  void OnHandlerFailed(Actor& actor, MessageNode& request, std::string what);
  void OnCoroutineFinished(MessageNode* request);
  void CountDeadLetter(uint16_t type) { counters_[type].dead_letters.Add(1); }

  // -- Fast lanes (actors/fast_lanes.cc) ------------------------------------
  // Sender side of a counter lane: adds `delta` to this shard's accumulator
  // for (actor, counter); flushed as one CountNode per turn.
  // The hot path of a counter lane: true if `key` was used recently in this
  // turn (already checked for liveness) and `delta` was added, found with
  // one probe and no hashing. Otherwise the caller takes the slow path.
  bool TryAccumulateCount(const FastKey& key, int64_t delta) {
    const uint32_t idx = recent_counts_[RecentIndex(key)];
    if (idx == 0) return false;
    PendingCount& acc = pending_counts_[idx - 1];
    int64_t sum;
    if (acc.key != key || __builtin_add_overflow(acc.delta, delta, &sum)) {
      return false;
    }
    acc.delta = sum;
    ++acc.calls;
    return true;
  }
  absl::Status AccumulateCountSlow(const FastKey& key, uint16_t type,
                                   int64_t delta);
  // Sender side of a coalesced hot message: the node waiting in this turn
  // for (actor, message type), or null; Park stores a fresh one.
  MessageNode* PendingCoalesced(const FastKey& key);
  void ParkCoalesced(const FastKey& key, MessageNode* node);
  void CountCoalesced(uint16_t type) { counters_[type].coalesced_sends.Add(1); }
  // Sends a hot node or counter update to shard `to` as a direct word
  // (past any lane backlog); falls back to the lane when words run out.
  void SendHot(uint32_t to, MessageNode* node);
  // Receiver side.
  void ApplyCount(Actor* a, const CountNode& update);
  void WakeCounter(Actor* a, uint32_t counter);
  void OnCountTimer(Actor* a);
  void CountAskTimeout(uint16_t type) {
    counters_[type].asks_timed_out.Add(1);
  }

  // Destroys `t` here, or batches it back to its origin shard (Traveler).
  void Free(Traveler* t);

  // -- Flow control between shards ----------------------------------------
  // Travelers made here that are at, or on their way to, shard `to`: the
  // cells of the ring for `to` still out, plus the block-cache nodes sent
  // (NoteAway) and not yet home (kReturnTag). A request to `to` is refused
  // while that reaches the cap (lane_capacity + backlog_capacity): a sender
  // may not run further ahead of what the target has handled than that,
  // whatever the lane and backlog hold, so neither the target's mailboxes
  // nor the returns waiting to come home grow without bound.
  //
  // Counts `t`, just sent to shard `to`, as away until it comes home; a
  // node in a cell is counted by its ring instead.
  void NoteAway(uint32_t to, const Traveler* t) {
    if (!scheduler::CellRing::Contains(t)) ++away_[to];
  }
  // True (and counted as a refusal) when the request `node` to `to` must
  // wait. `node` itself is not counted.
  bool AtAwayCap(uint32_t to, const Traveler* node) {
    scheduler::CellRing* ring = RingTo(to);
    if (ring == nullptr) {
      if (away_[to] < away_cap_) return false;
    } else {
      const uint64_t self = scheduler::CellRing::Contains(node) ? 1 : 0;
      if (away_[to] + ring->InFlightBound() - self < away_cap_ ||
          away_[to] + ring->InFlight() - self < away_cap_) {
        return false;
      }
    }
    flow_control_refusals_.Add(1);
    return true;
  }
  // What AtAwayCap counts (reads the ring's release count).
  uint64_t away(uint32_t to) {
    scheduler::CellRing* ring = RingTo(to);
    return away_[to] + (ring != nullptr ? ring->InFlight() : 0);
  }

  // -- ShardHooks ----------------------------------------------------------
  void OnEnvelopes(transport::ShardId from, const transport::Envelope* e,
                   size_t n) override;
  void OnWord(uint32_t tag, uint64_t value) override;
  void OnShardStart() override;
  void OnTurnEnd(bool idle) override;
  void AfterFlush(bool idle) override;
  bool TakeUrgent() override { return std::exchange(urgent_, false); }
  void OnShardStopping() override;
  void OnShardStopped() override;
  // A stealable actor's message from the queue of this shard or another
  // (actors/stealable.cc): into this shard's instance's mailbox.
  void RunStealable(void* item, bool stolen) override;

 private:
  enum class Phase { kRunning, kStopping, kStopped };
  struct AskEntry {
    PendingAsk* ask = nullptr;
    uint32_t gen = 0;
  };
  void Schedule(Actor* actor);
  void DeadLetter(MessageNode* node, absl::Status why);
  void StopActor(Actor* actor);
  // After a handler returned or finished: stop, restart or reschedule.
  // May free `actor`.
  void AfterHandler(Actor* actor);
  void FinishStop(Actor* actor);
  Actor* Restart(Actor* actor);
  void DeliverReply(ReplyNode* reply);
  // Stealable actors (actors/stealable.cc): a message that came through a
  // lane or the inbox goes into this shard's steal queue; at stop, what is
  // left there becomes dead letters.
  void OnStealableEnvelope(MessageNode* node);
  void DropStealable();
  void FlushFastLanes();
  // Runs due OnCount callbacks; false if the actor went away.
  bool RunCountWakes(Actor* a);
  // Takes the next message: hot first, but the last of a run's batch goes
  // to ordinary mail when there is some (a hot flood cannot starve it).
  MessageNode* PopNext(Actor* a, bool last_of_batch);

  struct PendingCount {
    FastKey key;
    int64_t delta = 0;
    uint64_t calls = 0;  // Count calls folded in (for stats)
    uint16_t type = 0;
  };
  void SendCount(const FastKey& key, const PendingCount& acc);
  // This turn's counter accumulators, an index by key, and a small
  // direct-mapped cache in front of the index (slots and counters are small
  // consecutive numbers, so their low bits spread well).
  std::vector<PendingCount> pending_counts_;
  absl::flat_hash_map<FastKey, uint32_t> pending_count_index_;
  static constexpr uint32_t kRecentCounts = 16;
  static uint32_t RecentIndex(const FastKey& k) {
    return (k.slot ^ (k.shard << 2) ^ (k.sub << 3) ^ (k.slot >> 4)) &
           (kRecentCounts - 1);
  }
  uint32_t recent_counts_[kRecentCounts] = {};  // index + 1; 0: empty
  absl::flat_hash_map<FastKey, MessageNode*> pending_coalesced_;
  // Destroys up to `n` returned Travelers, newest first, prefetching a few
  // ahead: their cache lines were last written on the shard that handled
  // them, so a plain walk would pay one cross-core miss after another.
  void FreeReturned(size_t n);

  std::vector<uint64_t> away_;
  uint64_t away_cap_ = 0;
  // One CellRing per other shard (null for this shard, or when the region
  // is used up); made with the runtime, used by this shard's thread.
  const std::vector<std::unique_ptr<scheduler::CellRing>> cells_;
  // The ring for shard `to` (null for this shard, a shard out of range or
  // without a ring).
  scheduler::CellRing* RingTo(uint32_t to) const {
    return to < cells_.size() ? cells_[to].get() : nullptr;
  }
  uint64_t turns_ = 0;  // loop turns ended (the rings' epoch)

  // Returned Travelers (kReturnTag) waiting to be destroyed: a little per
  // busy turn, all of them when the shard idles.
  static constexpr size_t kFreesPerTurn = 256;
  static constexpr size_t kMaxDeferredFrees = 4096;
  std::vector<Traveler*> to_free_;

  // Read by other shards for every node they send home (Free): a line of
  // their own, apart from the fields this shard writes per message.
  alignas(transport::kCacheLine) ActorSystem& system_;
  const uint32_t shard_;
  alignas(transport::kCacheLine) scheduler::Shard* shard_ptr_ = nullptr;
  Phase phase_ = Phase::kRunning;
  Actor* running_ = nullptr;  // the actor inside Invoke, if any
  // Urgent work (a hot message from another shard, the reply to a hot
  // request) arrived since TakeUrgent.
  bool urgent_ = false;
  void NoteUrgent() { urgent_ = true; }
  // Other shards read the slot table on every send to this shard (is the
  // target alive?): keep it off the lines this shard writes per message.
  alignas(transport::kCacheLine) SlotTable slots_;
  alignas(transport::kCacheLine) std::vector<AskEntry> asks_;
  std::vector<uint32_t> free_asks_;
  uint32_t ask_gen_ = 0;
  OwnerCounter late_replies_;
  OwnerCounter flow_control_refusals_;
  std::unique_ptr<TypeCounters[]> counters_;

  // constinit: no dynamic initialization, so no TLS init call per access.
  static constinit thread_local ShardRuntime* current_;
};

// Builds a Node sent to `shard` of `system` from `args`: in a cell of the
// calling shard's ring for that shard when it fits, else in the block cache
// (see Traveler).
template <typename Node, typename... Args>
Node* NewNodeTo(const ActorSystem* system, uint32_t shard, Args&&... args) {
  return NewTraveler<Node>(
      [system, shard] { return ShardRuntime::TakeCell(system, shard); },
      std::forward<Args>(args)...);
}

}  // namespace internal
}  // namespace ringactor

#endif  // RINGACTOR_ACTORS_INTERNAL_RUNTIME_H_
