// File: actors/actor.h
//
// The Actor base class. Users derive from it and declare one `Handle`
// overload per protobuf message type the actor accepts:
//
//   class Counter : public ringactor::Actor {
//    public:
//     void Handle(const Add& m) { total_ += m.delta(); }          // Tell
//     Total Handle(const Get&) { ... }                             // Ask
//     ringactor::Task<Total> Handle(const SlowGet& m) { ... }      // coroutine
//   };
//
// Dispatch is by C++ type, resolved at compile time: `ref.Tell(msg)` only
// compiles if the actor has a `Handle` for that message type.
//
// A handler may return:
//   void / absl::Status                 -> Tell; Ask yields absl::Status
//   R / absl::StatusOr<R>  (R protobuf) -> Ask yields absl::StatusOr<R>
//   Task<...> of any of the above       -> a coroutine handler
//
// Reentrancy (the default): a suspended coroutine handler holds its actor's
// mailbox: the actor handles nothing else until that handler finishes, so
// its state never changes under a co_await. Replies to the handler's own
// Asks bypass the mailbox, so it can always be resumed. An actor type that
// declares `static constexpr bool kReentrant = true;` instead keeps handling
// messages while handlers are suspended (and must expect interleaving).
// Two non-reentrant actors that Ask each other in a cycle wait for each
// other: every Ask carries a deadline, so the cycle ends in
// DeadlineExceeded rather than a hang.
//
// Stateless (stealable) actors: a type that declares
// `static constexpr bool kStateless = true;` may be spawned with
// `Stealable{}` or `StealablePreferred{shard}` placement. The system then
// keeps one instance per shard, and each message runs on whichever shard
// takes it: the one it was queued on, or an idle shard that steals it. The
// type promises that no handler relies on what an earlier message left in
// the instance. Messages to it keep no order, and its instances are
// reentrant (a suspended handler does not hold the instance). Stopping any
// instance (Stop(), a kStop failure) stops them all.

#ifndef RINGACTOR_ACTORS_ACTOR_H_
#define RINGACTOR_ACTORS_ACTOR_H_

#include <cstddef>
#include <cstdint>
#include <new>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "scheduler/shard.h"
#include "transport/shard_id.h"

namespace ringactor {

class Actor;

// A list of message types, for an actor's HotMessages / CoalescedMessages:
//
//   class Owner : public ringactor::Actor {
//    public:
//     using HotMessages = ringactor::MessageList<Alert>;        // overtake mail
//     using CoalescedMessages = ringactor::MessageList<Credit>;  // merged
//     static bool Merge(Credit& into, const Credit& from);       // for them
//   };
template <typename... M>
struct MessageList {};

namespace internal {
class MessageNode;
struct CounterState;
class ShardRuntime;
class SlotTable;
class ActorFactory;
void CoroutineStarted(Actor& actor, MessageNode& request);

// Memory for actor objects, in whole cache lines aligned to a line: blocks
// of up to 16 lines come from 64 KiB chunks kept per block size (a freed
// block is reused for the next actor of its size; chunks are never given
// back), larger ones from aligned operator new. One cache line per 64
// bytes, with no allocator header, so an idle actor costs about what
// malloc's 16-byte-aligned chunk did. Thread-safe (a mutex: spawning and
// stopping are not hot paths).
inline constexpr std::size_t kActorLine = 64;
constexpr std::size_t WholeLines(std::size_t n) {
  return (n + kActorLine - 1) & ~(kActorLine - 1);
}
// `bytes`: a multiple of kActorLine.
void* AllocateActor(std::size_t bytes);
void FreeActor(void* p, std::size_t bytes) noexcept;
}  // namespace internal

// What happens to an actor whose handler (or OnStart) throws. The caller of
// a failed Ask always gets an Internal status carrying what() first.
enum class OnFailure : uint8_t {
  // Replace the instance with a fresh one (same ActorRef, pending mail
  // kept). Needs the actor to be re-creatable: default-constructible or
  // spawned with copyable arguments; otherwise it stops.
  kRestart,
  // Stop the actor: pending and later messages become dead letters.
  kStop,
  // Keep the instance and its state; go on with the next message.
  kResume,
};

// Actor
//
// Base class of every actor. An actor lives on one shard for its whole life
// (invariant 3); its handlers, OnStart and OnStop run on that shard's thread,
// one at a time (see reentrancy above).
//
// Shard-affine: an actor's methods run only on its shard.
class Actor : private scheduler::Runnable {
 public:
  // Non-reentrant by default (see the file comment).
  static constexpr bool kReentrant = false;
  // Not stealable by default (see the file comment).
  static constexpr bool kStateless = false;

  Actor() = default;
  Actor(const Actor&) = delete;
  Actor& operator=(const Actor&) = delete;
  virtual ~Actor();

  // Every actor takes whole cache lines of its own (internal::AllocateActor),
  // so two actors never share one: actors spawned one after another usually
  // live on different shards, and a line two shards write moves between
  // their cores on every message (false sharing: four counting actors
  // spawned in a row, two per shard, ran ~10x slower when their objects
  // happened to share lines).
  static void* operator new(std::size_t n) {
    return internal::AllocateActor(internal::WholeLines(n));
  }
  static void operator delete(void* p, std::size_t n) noexcept {
    internal::FreeActor(p, internal::WholeLines(n));
  }

  // Called on the actor's shard before its first message.
  virtual void OnStart() {}
  // Called on the actor's shard when it stops (Stop(), a kStop failure, or
  // system shutdown), after its last handler finished.
  virtual void OnStop() {}

  // The shard this actor lives on.
  transport::ShardId shard() const { return transport::ShardId(shard_); }

  // -- Counter lanes (see ActorRef::Count) -----------------------------------

  // Defaults of the wake policy; an actor type overrides them by declaring
  // its own constants. A counter wakes its actor (OnCount) when its first
  // update after zero arrives, when its total crosses the threshold (in
  // absolute value), and at the latest `kCountMaxDelay` after an update that
  // did neither.
  static constexpr int64_t kCountWakeThreshold = 1024;
  static constexpr absl::Duration kCountMaxDelay = absl::Milliseconds(1);

  // Called on the actor's shard when counter `counter` wakes the actor (as a
  // handler: not while a non-reentrant handler is suspended). Read the total
  // with TakeCount / PeekCount.
  virtual void OnCount(uint32_t counter) {}

 protected:
  // The total of `counter` delivered so far, reset to zero (the next update
  // after it wakes the actor again).
  int64_t TakeCount(uint32_t counter);
  int64_t PeekCount(uint32_t counter) const;

  // Stops this actor once the current handler returns. Messages still in
  // its mailbox become dead letters (their Asks resolve NotFound).
  void Stop() { stop_requested_ = true; }

 private:
  friend class internal::ShardRuntime;
  friend class internal::SlotTable;
  friend void internal::CoroutineStarted(Actor&, internal::MessageNode&);
  friend class ActorSystem;
  void RunOnShard() override;

  enum class Lifecycle : uint8_t { kNew, kRunning, kStopping };

  // Framework state, moved to the new instance on restart: 88 bytes plus
  // the vtable pointers.
  internal::MessageNode* mail_head_ = nullptr;
  internal::MessageNode* mail_tail_ = nullptr;
  internal::MessageNode* hot_head_ = nullptr;  // drained before mail_
  internal::MessageNode* hot_tail_ = nullptr;
  internal::CounterState* counters_ = nullptr;  // lazily, counter lanes
  internal::ActorFactory* factory_ = nullptr;  // null: not re-creatable
  uint32_t slot_ = 0;
  uint32_t gen_ = 0;
  uint32_t depth_ = 0;      // messages in the mailbox
  uint32_t in_flight_ = 0;  // coroutine handlers not yet finished
  uint32_t shard_ = 0;
  uint32_t group_ = 0;  // a stealable actor's instance: its group + 1
  uint16_t type_ = 0;  // ActorTypeIndex
  Lifecycle state_ = Lifecycle::kNew;
  OnFailure on_failure_ = OnFailure::kRestart;
  bool reentrant_ = false;
  bool scheduled_ = false;  // in the run queue
  bool stop_requested_ = false;
  bool started_ = false;  // OnStart ran (so OnStop will)
  bool restart_pending_ = false;
};

}  // namespace ringactor

#endif  // RINGACTOR_ACTORS_ACTOR_H_
