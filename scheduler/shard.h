// File: scheduler/shard.h
//
// A Shard is one thread, one io_uring ring and one event loop. Everything on
// a shard (its run queue, timers, root coroutines, outgoing backlogs) is
// touched only by its thread; other threads reach it through its transport
// endpoint (lanes, inbox) or ShardSet::SubmitTo.

#ifndef RINGACTOR_SCHEDULER_SHARD_H_
#define RINGACTOR_SCHEDULER_SHARD_H_

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "scheduler/envelope_queue.h"
#include "scheduler/intrusive_fifo.h"
#include "scheduler/mutex.h"
#include "scheduler/notification.h"
#include "scheduler/steal_queue.h"
#include "io/ring.h"
#include "scheduler/task.h"
#include "scheduler/timer.h"
#include "transport/endpoint.h"
#include "transport/envelope.h"
#include "transport/shard_id.h"
#include "transport/stats.h"

namespace ringactor::scheduler {

class ShardSet;

// Runnable
//
// An item of a shard's run queue (an actor with mail, a coroutine to
// resume). Intrusive: queuing allocates nothing. Shard-affine.
class Runnable {
 public:
  virtual void RunOnShard() = 0;

 protected:
  ~Runnable() = default;

 private:
  friend class RunQueue;
  Runnable* next_run_ = nullptr;
};

// FIFO of Runnables. Shard-private: stealable work lives in the shard's
// StealQueue next to it (see Shard).
class RunQueue {
 public:
  void Push(Runnable* r) {
    FifoPush<&Runnable::next_run_>(head_, tail_, r);
    ++size_;
  }
  Runnable* Pop() {
    if (head_ == nullptr) return nullptr;
    --size_;
    return FifoPop<&Runnable::next_run_>(head_, tail_);
  }
  bool empty() const { return head_ == nullptr; }
  size_t size() const { return size_; }
  void Clear() { head_ = tail_ = nullptr, size_ = 0; }

 private:
  Runnable* head_ = nullptr;
  Runnable* tail_ = nullptr;
  size_t size_ = 0;
};

// ShardHooks
//
// What the layer above (actors/) plugs into each shard. Every method runs
// on the shard's thread.
class ShardHooks : public transport::Receiver {
 public:
  // After the ring is attached, before the loop starts.
  virtual void OnShardStart() {}
  // At the end of each loop turn, just before the batched flush; `idle`
  // when the turn did nothing and the shard is about to park.
  virtual void OnTurnEnd(bool idle) {}
  // Right after that flush, before the shard parks: housekeeping that must
  // not delay what the turn sent (freeing). `idle` as for OnTurnEnd.
  virtual void AfterFlush(bool idle) {}
  // Stop, phase 1: the loop has stopped; resolve what waits (stop actors,
  // fail pending requests). Envelopes may still be sent.
  virtual void OnShardStopping() {}
  // Stop, phase 2: every shard finished phase 1 and every root coroutine
  // is destroyed. From now on OnEnvelopes must only free what it gets
  // (send nothing); free remaining state here.
  virtual void OnShardStopped() {}
  // An item of a steal queue (see Shard::PushStealable), taken from this
  // shard's own queue (`stolen` false) or another shard's: make it run
  // here (Post) or dispose of it. The loop runs what it posted at once.
  virtual void RunStealable(void* item, bool stolen) {}

 protected:
  ~ShardHooks() = default;
};

// Whether Shard::Send may refuse an envelope.
enum class SendPriority {
  // Refused with ResourceExhausted when the lane and the backlog to the
  // target are full (backpressure).
  kRequest,
  // Never refused: replies and control messages must not wait behind
  // requests (DESIGN.md: the ScyllaDB deadlock).
  kReply,
};

struct ShardLoopOptions {
  // Envelopes drained from lanes + inbox per loop turn.
  uint32_t incoming_budget = 1024;
  // Runnables run per loop turn.
  uint32_t run_budget = 256;
  // Requests that may wait in a shard-local backlog per target shard when
  // the lane is full.
  uint32_t backlog_capacity = 65536;
  // Items each shard's steal queue holds (a power of two).
  uint32_t steal_queue_capacity = 4096;
  // Steal-queue items a loop turn runs: its own (at least one per turn,
  // more while nothing else is ready), or, when idle, stolen ones.
  uint32_t steal_budget = 16;
};

// Work-stealing counters of one shard (a snapshot).
struct StealStats {
  uint64_t pushed = 0;    // items put into this shard's steal queue
  uint64_t refused = 0;   // pushes refused: the queue was full
  uint64_t stolen = 0;    // items this shard took from other shards' queues
  uint64_t attempts = 0;  // steal attempts (stolen + lost races)
  uint64_t nudges = 0;    // idle shards told that this queue has work
  uint64_t depth = 0;     // items in this shard's queue now
};

// Shard
//
// One thread + one io::Ring + the loop:
//
//   while running:
//     run foreign closures (SubmitTo); fire due timers
//     poll incoming envelopes (budgeted), run ready runnables (budgeted)
//     run items of its own steal queue (budgeted)
//     move backlogs into lanes; flush all SQEs in one io_uring_enter
//     if nothing happened: steal from the shard with the deepest queue,
//     else park until a doorbell, a CQE or the next timer
//
// Steal protocol. A shard with nothing to do stores `idle = true` (seq_cst)
// and then looks at every other shard's queue (seq_cst loads) before it
// parks; a push stores the queue's bottom (seq_cst) and then loads each
// other shard's `idle` flag: in their single total order one side sees the
// other. The pusher nudges idle shards at once (Endpoint::Nudge: a wake
// request, and a doorbell submitted right away if they sleep), so an idle
// shard notices new work while it polls or sleeps, even if the pusher's
// turn goes on for long. Idle shards do this only once the set has
// stealing enabled (ShardSet::EnableStealing, at the first stealable
// actor), so systems without stealable work pay nothing for it.
//
// Shard-affine except where noted.
class alignas(64) Shard {
 public:
  Shard(ShardSet& set, transport::ShardId id, ShardHooks* hooks,
        const ShardLoopOptions& options);
  ~Shard();
  Shard(const Shard&) = delete;
  Shard& operator=(const Shard&) = delete;

  // The shard running on the calling thread, or nullptr. Thread-safe.
  static Shard* Current() { return current_; }

  transport::ShardId id() const { return id_; }
  ShardSet& set() { return set_; }
  io::Ring& ring() { return *ring_; }
  transport::Endpoint& endpoint() { return *endpoint_; }
  // Kernel thread id (0 before start). Thread-safe.
  int tid() const { return tid_.load(std::memory_order_acquire); }
  // The CPU this shard's thread started on (ShardSet spreads them, pinned
  // or not), or -1 if unknown. Thread-safe once ShardSet::Create returned.
  int start_cpu() const { return start_cpu_.load(std::memory_order_acquire); }
  // The CPU this shard last saw itself on when it went idle, how often it
  // moved itself off a CPU that an earlier shard was on (KeepApart), and
  // the CPU its last such move put it on (-1 before any). An unpinned
  // thread is the kernel's to move again afterwards, so last_cpu() may
  // differ from last_move_cpu() by the time anyone looks. Thread-safe.
  int last_cpu() const { return cpu_.load(std::memory_order_relaxed); }
  uint64_t placement_moves() const { return placement_moves_.Load(); }
  int last_move_cpu() const {
    return last_move_cpu_.load(std::memory_order_relaxed);
  }

  // Queues `r` to run in this or a later loop turn.
  void Post(Runnable* r) { run_queue_.Push(r); }

  // Shard::PushStealable()
  //
  // Queues `item` on this shard's steal queue: this shard runs it in a
  // later turn unless an idle shard steals it first; either way the
  // ShardHooks::RunStealable of the shard that took it gets it. False when
  // the queue is full (the caller keeps `item`).
  bool PushStealable(void* item) {
    if (!steal_queue_.Push(item)) {
      steal_refused_.Add(1);
      return false;
    }
    steal_pushed_.Add(1);
    NudgeIdleShards();
    return true;
  }
  // The newest item of this shard's steal queue, or nullptr (at stop, to
  // dispose of what is left).
  void* PopStealable() { return steal_queue_.Pop(); }
  // Thread-safe snapshots.
  size_t stealable_depth() const { return steal_queue_.Size(); }
  StealStats steal_stats() const;
  // Queues the resumption of `h`.
  void PostResume(std::coroutine_handle<> h);
  TimerHeap& timers() { return timers_; }

  // Shard::Send()
  //
  // Sends `e` to shard `to` (not this one) through the lane, spilling into
  // a shard-local backlog when the lane is full; order per target is kept.
  // ResourceExhausted for a kRequest when the backlog holds
  // `backlog_capacity` requests already; kReply is never refused.
  absl::Status Send(transport::ShardId to, transport::Envelope e,
                    SendPriority priority);

  // Shard::SendWord()
  //
  // A direct word (MSG_RING, no lane) to shard `to`, submitted with the
  // next flush; see transport::Endpoint::SendWord. ResourceExhausted when
  // too many words are in flight.
  absl::Status SendWord(transport::ShardId to, uint32_t tag, uint64_t value) {
    return endpoint_->SendWord(to, tag, value);
  }

  // Shard::Start()
  //
  // Starts `task` as a root coroutine on this shard. It runs until its first
  // suspension before Start returns. When it finishes,
  // `done(ctx, frame, true)` runs and must destroy the frame (nullptr: the
  // frame is just destroyed). A root still suspended at shutdown gets
  // `done(ctx, frame, false)` after OnShardStopping.
  template <typename T>
  void Start(Task<T> task, internal::RootDoneFn done = nullptr,
             void* ctx = nullptr) {
    auto h = task.Release();
    StartRoot(h, h.promise(), done, ctx);
  }

  // True once Stop began. Thread-safe.
  bool stopping() const { return stopping_.load(std::memory_order_acquire); }

 private:
  friend class ShardSet;
  void Main();  // thread body
  absl::Status Loop();
  size_t RunTurn();
  size_t RunForeignClosures();
  size_t RunReady(size_t budget);
  size_t RunOwnStealable();
  // Idle: takes items from the other shards' queues, deepest first.
  size_t Steal();
  // Marks this shard idle (or not) for pushers; see the steal protocol.
  void SetIdle(bool idle);
  void NudgeIdleShards();
  // Unpinned shards only, on going idle: if an earlier shard was last seen
  // on this CPU too, moves this thread to an allowed CPU that no shard was
  // seen on (at most once per kMoveEvery). The kernel of a VM sometimes
  // wakes a shard onto a busy shard's CPU rather than onto an idle vCPU and
  // leaves it there for ~10 ms; two spinning shards on one CPU pass every
  // message through a yield (~12 us a hop instead of ~0.3).
  void KeepApart();
  static constexpr int64_t kMoveEvery = 1'000'000;  // ns
  size_t MoveBacklogs();
  void StartRoot(std::coroutine_handle<> h, internal::PromiseBase& p,
                 internal::RootDoneFn done, void* ctx);
  friend void internal::FinishRoot(internal::PromiseBase&,
                                   std::coroutine_handle<>) noexcept;
  void StopSequence();
  absl::Status WaitForAll(int barrier);
  // Keeps the first error.
  void Note(const absl::Status& s);
  void DestroyRoots();

  static constexpr absl::Duration kQuietAfter = absl::Microseconds(20);

  ShardSet& set_;
  const transport::ShardId id_;
  ShardHooks* const hooks_;
  const ShardLoopOptions options_;

  // -- Shared with other threads --------------------------------------------
  std::atomic<int> tid_{0};
  std::atomic<int> start_cpu_{-1};
  // The CPU this shard last saw itself on (KeepApart): written only when it
  // changes, read by the other shards.
  std::atomic<int> cpu_{-1};
  std::atomic<int> last_move_cpu_{-1};  // written by KeepApart's moves only
  std::atomic<bool> stopping_{false};
  std::atomic<bool> has_closures_{false};
  // This shard is idle and would steal (see the steal protocol).
  alignas(64) std::atomic<bool> idle_{false};
  StealQueue steal_queue_;
  Notification ready_;  // ring created and attached (or failed)
  Mutex closures_mu_;
  std::vector<absl::AnyInvocable<void() &&>> closures_
      ABSL_GUARDED_BY(closures_mu_);
  bool accepting_closures_ ABSL_GUARDED_BY(closures_mu_) = true;

  // -- Owner-only -----------------------------------------------------------
  std::unique_ptr<io::Ring> ring_;
  transport::Endpoint* endpoint_ = nullptr;
  RunQueue run_queue_;
  TimerHeap timers_;
  std::vector<EnvelopeQueue> backlog_;  // per target
  std::vector<uint32_t> backlogged_;    // targets with one
  internal::PromiseBase* roots_ = nullptr;  // live root coroutines
  absl::Status status_;
  bool idle_published_ = false;  // what idle_ holds
  int64_t last_move_ns_ = 0;     // KeepApart's last move (CoarseMonoNanos)
  uint32_t idle_checks_ = 0;     // KeepApart calls that found no move
  uint32_t next_victim_ = 0;     // where the scan for the deepest starts
  transport::internal::OwnerCounter steal_pushed_, steal_refused_,
      steal_stolen_, steal_attempts_, steal_nudges_;
  transport::internal::OwnerCounter placement_moves_;

  // constinit: no dynamic initialization, so no TLS init call per access.
  static constinit thread_local Shard* current_;
};

}  // namespace ringactor::scheduler

#endif  // RINGACTOR_SCHEDULER_SHARD_H_
