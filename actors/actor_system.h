// File: actors/actor_system.h
//
// The user API: ActorSystem (shards + actors), ActorRef<A> (Tell, Ask,
// Stop) and the options that size them. See actors/actor.h for how actors
// declare handlers.

#ifndef RINGACTOR_ACTORS_ACTOR_SYSTEM_H_
#define RINGACTOR_ACTORS_ACTOR_SYSTEM_H_

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "scheduler/notification.h"
#include "absl/time/time.h"
#include "actors/actor.h"
#include "actors/internal/ask.h"
#include "actors/internal/message.h"
#include "actors/internal/runtime.h"
#include "actors/internal/stealable.h"
#include "actors/stats.h"
#include "google/protobuf/message_lite.h"
#include "scheduler/awaitables.h"
#include "scheduler/clock.h"
#include "scheduler/placement.h"
#include "scheduler/shard_set.h"
#include "scheduler/task.h"
#include "transport/lane.h"  // kCacheLine
#include "transport/shard_id.h"

namespace ringactor {

// The scheduler vocabulary users need, under one namespace.
using scheduler::MissedTicks;
using scheduler::Interval;
using scheduler::Pinned;
using scheduler::Placement;
using scheduler::RoundRobin;
using scheduler::Sleep;
using scheduler::SleepUntil;
using scheduler::Stealable;
using scheduler::StealablePreferred;
using scheduler::Sticky;
using scheduler::Task;
using scheduler::WithTimeout;
using scheduler::Yield;
using transport::ShardId;

// ActorSystemOptions
//
// `Validate()` (called by ActorSystem::Create) explains the first bad field
// with InvalidArgument.
struct ActorSystemOptions {
  // Shards (threads with one io_uring ring each), [1, 256]; unset: one per
  // CPU this process may use.
  std::optional<uint32_t> num_shards;
  // Pin shard i to the i-th allowed CPU. Unpinned, shard i still starts
  // there, and a shard that finds itself on the CPU of an awake shard moves
  // to one no shard is on (the kernel may move them again; see
  // docs/actors.md "Placement of shard threads").
  bool pin_threads = false;
  // Envelopes per (source, target) shard lane: a power of two in
  // [2, 1 << 20].
  uint32_t lane_capacity = 1024;
  // Envelopes in each shard's inbox for threads outside the system: a power
  // of two in [2, 1 << 22].
  uint32_t inbox_capacity = 4096;
  // How long an idle shard polls before it sleeps in the kernel, [0, 1 s].
  absl::Duration idle_spin = absl::Microseconds(50);
  // Requests that may wait on a shard for a full lane to a target shard
  // before Tell/Ask answer ResourceExhausted, [0, 1 << 24]. Replies never
  // wait for this (they are never refused). Also bounds how far a shard may
  // run ahead of a target shard: Tell/Ask answer ResourceExhausted while
  // lane_capacity + backlog_capacity of its messages are not yet handled
  // there (docs/actors.md, "Flow control"). The message rings (see
  // Traveler) get a cell for every message of that window, up to 65,536;
  // the default keeps it within the smallest ring (4,096 cells, 512 KiB):
  // a deeper window streams through memory instead of cache (tell ~35%
  // slower with 65,536).
  uint32_t backlog_capacity = 3072;
  // Messages a same-shard sender may queue in one actor's mailbox before
  // Tell answers ResourceExhausted, [1, 1 << 30].
  uint32_t mailbox_capacity = 1u << 20;
  // Messages one actor handles before the next runnable gets the shard,
  // [1, 1 << 16].
  uint32_t mailbox_batch = 64;
  // Envelopes each shard takes from its lanes per loop turn, [1, 1 << 20].
  uint32_t incoming_budget = 1024;
  // Messages for stealable actors that may wait on one shard, a power of
  // two in [2, 1 << 20]; a send beyond it answers ResourceExhausted.
  uint32_t steal_queue_capacity = 4096;
  // Such messages a shard runs per loop turn, from its own queue or, when
  // it is idle, stolen from the deepest other queue, [1, 65536].
  uint32_t steal_budget = 16;
  // Boundary calls in flight at once (all threads, all shards), [1,
  // inbox_capacity]: calls alone can never overflow a shard's inbox.
  uint32_t boundary_capacity = 1024;
  // How long a blocking Boundary call polls for its reply (yielding the CPU
  // between looks) before it sleeps, [0, 1 s]. The default, 0, blocks at
  // once and is woken by the reply. Polling spares the caller a sleep and
  // the shard a wake-up syscall per call (//bench:boundary with 50 us:
  // ~2x the calls/s) at the price of the callers' CPU while they wait; opt
  // in where callers have nothing better to do.
  absl::Duration boundary_spin = absl::ZeroDuration();

  absl::Status Validate() const;
  // The shard set these options describe (validated by Validate()).
  scheduler::ShardSetOptions ToShardSetOptions() const;
};

struct SpawnOptions {
  Placement placement = RoundRobin{};
  OnFailure on_failure = OnFailure::kRestart;
};

class ActorSystem;
class Boundary;

// ActorRef<A>
//
// Names an actor of type A: small (24 bytes), copyable, usable from any
// thread. It does not keep the actor alive: after the actor stops, Tell and
// Ask answer NotFound. Must not outlive its ActorSystem. A stealable actor's
// ref names no shard (shard() is kForeignShard) and has no counter lanes.
//
// Thread-safe.
template <typename A>
class ActorRef {
 public:
  ActorRef() = default;

  bool valid() const { return system_ != nullptr; }
  ShardId shard() const { return ShardId(shard_); }
  // A snapshot: false once the actor has stopped (or the system closed).
  // Sends may still fail right after it said true. Thread-safe, no message.
  bool alive() const;
  friend bool operator==(const ActorRef& a, const ActorRef& b) {
    return a.system_ == b.system_ && a.shard_ == b.shard_ &&
           a.slot_ == b.slot_ && a.gen_ == b.gen_;
  }

  // ActorRef::Tell()
  //
  // Sends `msg` (moved, never serialized) to the actor. Order per
  // (sender, receiver) pair is preserved. OK means it reached the actor's
  // mailbox or a lane to it; NotFound: the actor stopped (a dead letter);
  // ResourceExhausted: the lane and backlog (or, same-shard, the mailbox)
  // are full: retry later, e.g. after `co_await Yield()`; Unavailable: the
  // system is shutting down.
  template <typename M>
  absl::Status Tell(M&& msg) const {
    using T = std::decay_t<M>;
    CheckMessage<T>();
    if constexpr (internal::IsCoalesced<A, T>()) {
      internal::ShardRuntime* rt = internal::ShardRuntime::Current();
      if (rt != nullptr && system_ != nullptr && &rt->system() == system_ &&
          shard_ != internal::kStealableShard) {
        return TellCoalesced<T>(*rt, std::forward<M>(msg));
      }
    } else if constexpr (internal::IsHot<A, T>()) {
      internal::ShardRuntime::PrefetchUrgentTo(system_, shard_);
    }
    return Send(internal::NewNodeTo<internal::TypedNode<A, T>>(
        system_, shard_, std::forward<M>(msg)));
  }

  // ActorRef::Count()
  //
  // Adds `delta` to the actor's counter `counter` through a counter lane:
  // on a shard, updates for the same (actor, counter) accumulate locally and
  // travel as one update per loop turn, past any mailbox or lane backlog; no
  // mutex, no allocation per call. The actor reads totals with TakeCount and
  // is woken (OnCount) by its policy (see Actor::kCountWakeThreshold). Totals
  // are exact; a sum that would overflow int64 is shipped early instead.
  // From a thread outside the system each call is one update. NotFound for
  // a stopped actor; Unavailable during shutdown; FailedPrecondition for a
  // stealable actor (a counter is state).
  absl::Status Count(uint32_t counter, int64_t delta) const;

  // ActorRef::Ask()
  //
  // `co_await ref.Ask(msg, timeout)` inside an actor or a task on a shard:
  // absl::StatusOr<Reply> (or absl::Status for handlers that return void /
  // Status). Errors: DeadlineExceeded when no reply came in time; the
  // handler's Status; Internal with what() when it threw; NotFound,
  // ResourceExhausted, Unavailable as for Tell; FailedPrecondition off a
  // shard of this system. `Reply` may be given explicitly:
  // `Ask<Total>(Get(), absl::Seconds(1))`.
  template <typename Reply = void, typename M>
  auto Ask(M&& msg, absl::Duration timeout) const {
    return MakeAsk<Reply>(std::forward<M>(msg),
                          scheduler::LooseDeadlineAfter(timeout),
                          timeout <= absl::ZeroDuration());
  }
  template <typename Reply = void, typename M>
  auto Ask(M&& msg, absl::Time deadline) const {
    const absl::Duration left = deadline - absl::Now();
    return MakeAsk<Reply>(std::forward<M>(msg),
                          scheduler::LooseDeadlineAfter(left),
                          left <= absl::ZeroDuration());
  }

  // ActorRef::Stop()
  //
  // Stops the actor when the request reaches its shard (ahead of its
  // mailbox): its queued messages become dead letters (their Asks resolve
  // NotFound), OnStop runs after the current handler. NotFound if it already
  // stopped.
  absl::Status Stop() const;

 private:
  friend class ActorSystem;
  friend class Boundary;
  template <typename B, typename M>
  friend auto AskAll(const std::vector<ActorRef<B>>& refs, const M& msg,
                     absl::Duration timeout);
  ActorRef(ActorSystem* s, uint32_t shard, uint32_t slot, uint32_t gen)
      : system_(s), shard_(shard), slot_(slot), gen_(gen) {}

  template <typename T>
  static constexpr void CheckMessage() {
    static_assert(std::is_base_of_v<google::protobuf::MessageLite, T>,
                  "ringactor messages are protobuf message types");
    static_assert(internal::HasHandler<A, T>,
                  "the actor type has no Handle(const M&) for this message");
  }
  template <typename Reply, typename M>
  auto MakeAsk(M&& msg, int64_t deadline_ns, bool expired) const {
    using T = std::decay_t<M>;
    CheckMessage<T>();
    using V = typename internal::HandlerTraits<A, T>::Value;
    static_assert(std::is_void_v<Reply> || std::is_same_v<Reply, V>,
                  "Ask<Reply>: Reply is not what the handler returns");
    if constexpr (internal::IsHot<A, T>()) {
      internal::ShardRuntime::PrefetchUrgentTo(system_, shard_);
    }
    auto* node = internal::NewNodeTo<internal::TypedNode<A, T>>(
        system_, shard_, std::forward<M>(msg));
    Fill(*node);
    return internal::AskAwaiter<V>(system_, shard_, node, deadline_ns, expired);
  }
  void Fill(internal::MessageNode& n) const {
    n.slot = slot_;
    n.gen = gen_;
    n.type = internal::ActorTypeIndex<A>();
  }
  absl::Status Send(internal::MessageNode* node) const;
  template <typename T, typename M>
  absl::Status TellCoalesced(internal::ShardRuntime& rt, M&& msg) const;

  ActorSystem* system_ = nullptr;
  uint32_t shard_ = 0;
  uint32_t slot_ = 0;
  uint32_t gen_ = 0;
};

// ActorSystem
//
// Owns the shards and every actor on them. Create it, Spawn actors, send
// them messages from anywhere, Shutdown (or destroy) it.
//
// Shutdown resolves everything: pending Asks resolve Unavailable, queued
// mail is dropped and counted, suspended handlers are destroyed, every
// actor's OnStop runs, and later sends answer Unavailable.
//
// Thread-safe.
class ActorSystem {
 public:
  static absl::StatusOr<std::unique_ptr<ActorSystem>> Create(
      const ActorSystemOptions& options = {});
  ~ActorSystem();
  ActorSystem(const ActorSystem&) = delete;
  ActorSystem& operator=(const ActorSystem&) = delete;

  uint32_t num_shards() const { return static_cast<uint32_t>(runtimes_.size()); }
  const ActorSystemOptions& options() const { return options_; }

  // ActorSystem::Spawn<A>()
  //
  // Constructs A(args...) on the calling thread and places it on a shard;
  // OnStart runs there before its first message. The ref is usable at once.
  // InvalidArgument for a Pinned shard out of range; Unavailable after
  // Shutdown began. With OnFailure::kRestart, `args` are copied to re-create
  // the actor (if they are not copyable, a failure stops it instead).
  //
  // Stealable / StealablePreferred placement (A declares kStateless): A is
  // constructed once per shard from copies of `args` (InvalidArgument if A
  // is not stateless or `args` are not copyable, or for a preferred shard
  // out of range); see actors/actor.h.
  template <typename A, typename... Args>
  absl::StatusOr<ActorRef<A>> Spawn(const SpawnOptions& options,
                                    Args&&... args) {
    static_assert(std::is_base_of_v<Actor, A>, "A must derive from Actor");
    if (scheduler::IsStealable(options.placement)) {
      return SpawnStealable<A>(options, args...);
    }
    internal::ActorFactory* factory = nullptr;
    if constexpr ((std::is_copy_constructible_v<std::decay_t<Args>> && ...)) {
      if (options.on_failure == OnFailure::kRestart) {
        factory = new internal::TypedFactory<A, std::decay_t<Args>...>(args...);
      }
    }
    A* actor = Prepare(new A(std::forward<Args>(args)...));
    auto placed = Place(actor, factory, options);
    if (!placed.ok()) return placed.status();
    return ActorRef<A>(this, placed->shard, placed->slot, placed->gen);
  }
  template <typename A, typename... Args>
    requires(!(std::is_same_v<std::decay_t<Args>, SpawnOptions> || ...))
  absl::StatusOr<ActorRef<A>> Spawn(Args&&... args) {
    return Spawn<A>(SpawnOptions{}, std::forward<Args>(args)...);
  }

  // ActorSystem::SubmitTo()
  //
  // Runs `fn` on shard `to`'s thread in its next loop turn; `fn` is moved
  // there, runs there and is destroyed there. Use it to start coroutines
  // (Shard::Current()->Start(task)) or to Ask from outside the system.
  // InvalidArgument for an unknown shard; Unavailable after Shutdown began.
  absl::Status SubmitTo(ShardId to, absl::AnyInvocable<void() &&> fn);

  // ActorSystem::RunOn()
  //
  // Blocking: runs the coroutine `fn()` (which returns a Task<T>) on shard
  // `to` and waits for it. Yields its value (absl::Status for Task<void>; a
  // Task<absl::Status/StatusOr> passes through); Internal with what() if it
  // threw; Unavailable if the system shut down first. For setup code, tests
  // and examples in threads outside the system; must not be called from one
  // of its shards (FailedPrecondition).
  template <typename F>
  auto RunOn(ShardId to, F fn);

  // ActorSystem::Shutdown()
  //
  // Stops every actor and shard as described above, then joins the shard
  // threads. Idempotent. Must not be called from a shard of this system.
  absl::Status Shutdown();

  // Counters per shard, per actor type and in total. Cheap; thread-safe.
  SystemStats Stats() const;

  // The entry for threads this system does not own (actors/boundary.h). The
  // shared_ptr may outlive the system: calls then answer Unavailable.
  std::shared_ptr<Boundary> boundary() const { return boundary_; }

  // -- Internal (used by ActorRef) ------------------------------------------
  absl::Status Deliver(uint32_t shard, internal::MessageNode* node,
                       uint64_t tag = internal::kDeliverTag);
  bool IsAlive(uint32_t shard, uint32_t slot, uint32_t gen) const {
    return shard == internal::kStealableShard
               ? stealable_.IsAlive(slot)
               : runtimes_[shard]->slots().IsAlive(slot, gen);
  }
  const internal::StealableTable& stealable() const { return stealable_; }
  // Stops every instance of stealable actor `index` but the one on shard
  // `except` (whose own stop called this).
  void StopStealable(uint32_t index,
                     uint32_t except = internal::kStealableShard);
  internal::ShardRuntime& runtime(uint32_t shard) { return *runtimes_[shard]; }
  bool closed() const { return closed_.load(std::memory_order_acquire); }
  scheduler::ShardSet& shard_set() { return *shards_; }

 private:
  struct Placed {
    uint32_t shard, slot, gen;
  };
  explicit ActorSystem(const ActorSystemOptions& options);
  absl::StatusOr<Placed> Place(Actor* actor, internal::ActorFactory* factory,
                               const SpawnOptions& options);
  template <typename A>
  static A* Prepare(A* actor) {
    actor->type_ = internal::ActorTypeIndex<A>();
    internal::SetCountPolicy(
        actor->type_, {A::kCountWakeThreshold,
                       absl::ToInt64Nanoseconds(A::kCountMaxDelay)});
    actor->reentrant_ = A::kReentrant;
    return actor;
  }
  using Instances = std::vector<std::pair<Actor*, internal::ActorFactory*>>;
  template <typename A, typename... Args>
  absl::StatusOr<ActorRef<A>> SpawnStealable(const SpawnOptions& options,
                                             const Args&... args) {
    if constexpr (!A::kStateless) {
      return absl::InvalidArgumentError(
          "Spawn: Stealable placement needs a stateless actor type (static "
          "constexpr bool kStateless = true)");
    } else if constexpr (!(std::is_copy_constructible_v<Args> && ...)) {
      return absl::InvalidArgumentError(
          "Spawn: a stealable actor is constructed once per shard; its "
          "arguments must be copyable");
    } else {
      Instances instances;
      for (uint32_t i = 0; i < num_shards(); ++i) {
        internal::ActorFactory* factory = nullptr;
        if (options.on_failure == OnFailure::kRestart) {
          factory = new internal::TypedFactory<A, Args...>(args...);
        }
        A* actor = Prepare(new A(args...));
        // No state to protect, so a suspended handler never holds the
        // instance (the shard's other messages for it run meanwhile).
        actor->reentrant_ = true;
        instances.emplace_back(actor, factory);
      }
      auto index = PlaceStealable(std::move(instances), options);
      if (!index.ok()) return index.status();
      return ActorRef<A>(this, internal::kStealableShard, *index, 0);
    }
  }
  absl::StatusOr<uint32_t> PlaceStealable(Instances instances,
                                          const SpawnOptions& options);
  absl::Status DeliverStealable(internal::MessageNode* node, uint64_t tag);
  // Sends `node` to another shard's lane (from a shard, `cur`) or inbox
  // (from outside, `cur` null). `counted`: subject to flow control.
  absl::Status SendEnvelope(internal::ShardRuntime* cur, uint32_t shard,
                            internal::MessageNode* node, uint64_t tag,
                            bool counted);
  uint32_t LeastLoadedShard();

  const ActorSystemOptions options_;
  std::vector<std::unique_ptr<internal::ShardRuntime>> runtimes_;
  std::unique_ptr<scheduler::ShardSet> shards_;
  std::shared_ptr<Boundary> boundary_;
  internal::StealableTable stealable_;
  std::atomic<bool> closed_{false};  // read by every send
  // Written by spawns and by foreign threads' sends: on their own line, so
  // they do not slow the reads above.
  alignas(transport::kCacheLine) std::atomic<uint64_t> round_robin_{0};
  std::atomic<int64_t> foreign_senders_{0};
  std::atomic<uint64_t> foreign_dead_letters_{0};
};

// -- Template definitions ---------------------------------------------------

template <typename A>
absl::Status ActorRef<A>::Send(internal::MessageNode* node) const {
  if (system_ == nullptr) {
    delete node;
    return absl::FailedPreconditionError("Tell on an empty ActorRef");
  }
  Fill(*node);
  return system_->Deliver(shard_, node);
}

template <typename A>
template <typename T, typename M>
absl::Status ActorRef<A>::TellCoalesced(internal::ShardRuntime& rt,
                                        M&& msg) const {
  const uint16_t type = internal::ActorTypeIndex<A>();
  if (system_->closed()) {
    return absl::UnavailableError("the actor system is shutting down");
  }
  if (!system_->runtime(shard_).slots().IsAlive(slot_, gen_)) {
    rt.CountDeadLetter(type);
    return absl::NotFoundError("the actor has stopped");
  }
  const internal::FastKey key{shard_, slot_, gen_,
                              internal::MergeType<A, T>()};
  if (internal::MessageNode* pending = rt.PendingCoalesced(key)) {
    if (A::Merge(static_cast<internal::TypedNode<A, T>*>(pending)->msg, msg)) {
      rt.CountCoalesced(type);
      return absl::OkStatus();
    }
  }
  auto* node = new internal::TypedNode<A, T>(std::forward<M>(msg));
  Fill(*node);
  rt.ParkCoalesced(key, node);  // sent at the end of this loop turn
  return absl::OkStatus();
}

template <typename A>
absl::Status ActorRef<A>::Count(uint32_t counter, int64_t delta) const {
  if (system_ == nullptr) {
    return absl::FailedPreconditionError("Count on an empty ActorRef");
  }
  if (system_->closed()) {
    return absl::UnavailableError("the actor system is shutting down");
  }
  if (shard_ == internal::kStealableShard) {
    return absl::FailedPreconditionError(
        "Count: a stealable actor has no counter lanes (a counter is state)");
  }
  internal::ShardRuntime* rt = internal::ShardRuntime::Current();
  if (rt != nullptr && &rt->system() == system_) {
    const internal::FastKey key{shard_, slot_, gen_, counter};
    if (rt->TryAccumulateCount(key, delta)) return absl::OkStatus();
    return rt->AccumulateCountSlow(key, internal::ActorTypeIndex<A>(), delta);
  }
  auto* node = new internal::CountNode(counter, delta);
  Fill(*node);
  return system_->Deliver(shard_, node);
}

template <typename A>
bool ActorRef<A>::alive() const {
  return system_ != nullptr && !system_->closed() &&
         system_->IsAlive(shard_, slot_, gen_);
}

template <typename A>
absl::Status ActorRef<A>::Stop() const {
  if (system_ == nullptr) {
    return absl::FailedPreconditionError("Stop on an empty ActorRef");
  }
  auto* node = new internal::StopNode();
  Fill(*node);
  return system_->Deliver(shard_, node, internal::kStopTag);
}

// AskAll()
//
// `co_await AskAll(refs, msg, timeout)`: sends a copy of `msg` to every actor
// in `refs` at once and resumes when all have answered or the deadline
// passed. Yields one result per ref, in order (each as Ask would).
template <typename A, typename M>
auto AskAll(const std::vector<ActorRef<A>>& refs, const M& msg,
            absl::Duration timeout) {
  ActorRef<A>::template CheckMessage<M>();
  using V = typename internal::HandlerTraits<A, M>::Value;
  std::vector<typename internal::AskGroup<V>::Target> targets(refs.size());
  const internal::ShardRuntime* rt = internal::ShardRuntime::CurrentOf(
      refs.empty() ? nullptr : refs[0].system_);
  const uint32_t here = rt != nullptr ? rt->shard_index() : ~uint32_t{0};
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t i = 0; i < refs.size(); ++i) {
      const ActorRef<A>& r = refs[i];
      if (!internal::AskGroup<V>::InPass(r.shard_, here, pass)) continue;
      auto* node = internal::NewNodeTo<internal::TypedNode<A, M>>(
          r.system_, r.shard_, msg);
      r.Fill(*node);
      targets[i] = {r.system_, r.shard_, node};
    }
  }
  return internal::AskGroup<V>(std::move(targets),
                               scheduler::LooseDeadlineAfter(timeout));
}

template <typename V>
bool internal::AskGroup<V>::await_ready() {
  // Two passes: requests to other shards, then a flush, then requests to
  // this shard. The far ones cross cores while this shard builds and later
  // runs the near ones (which run only after this handler's turn anyway);
  // sent in ref order and published at the turn's end, they waited behind
  // all of it (docs/actors.md#askall). Each receiver still gets its
  // requests in ref order: an actor's messages all go in one pass.
  runtime_ = ShardRuntime::Current();
  members_ = std::make_unique<Member[]>(targets_.size());
  const uint32_t here =
      runtime_ != nullptr ? runtime_->shard_index() : ~uint32_t{0};
  bool sent_away = false;
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t i = 0; i < targets_.size(); ++i) {
      Target& t = targets_[i];
      if (!InPass(t.shard, here, pass)) continue;
      Member& m = members_[i];
      m.group = this;
      type_ = t.node->type;
      if (t.system == nullptr || runtime_ == nullptr ||
          &runtime_->system() != t.system) {
        m.result.emplace(absl::FailedPreconditionError(
            "AskAll must be awaited on a shard of the actors' system"));
        continue;
      }
      m.to = runtime_->RegisterAsk(&m);
      m.registered = true;
      t.node->reply_to = m.to;
      t.node->set_deadline_ns(deadline_ns_);
      absl::Status s =
          t.system->Deliver(t.shard, std::exchange(t.node, nullptr));
      if (!s.ok()) {
        runtime_->UnregisterAsk(m.to);
        m.registered = false;
        m.result.emplace(std::move(s));
        continue;
      }
      sent_away |= pass == 0;
      ++outstanding_;
    }
    if (pass == 0 && sent_away) runtime_->FlushSends();
  }
  return outstanding_ == 0;
}

namespace internal {
template <typename T>
struct RunOnResult {
  using type = absl::StatusOr<T>;
};
template <>
struct RunOnResult<void> {
  using type = absl::Status;
};
template <>
struct RunOnResult<absl::Status> {
  using type = absl::Status;
};
template <typename T>
struct RunOnResult<absl::StatusOr<T>> {
  using type = absl::StatusOr<T>;
};
}  // namespace internal

template <typename F>
auto ActorSystem::RunOn(ShardId to, F fn) {
  using T = typename std::invoke_result_t<F&>::value_type;
  using Result = typename internal::RunOnResult<T>::type;
  struct State {
    F fn;
    std::optional<Result> result;
    scheduler::Notification done;
    static void Done(void* ctx, std::coroutine_handle<> frame, bool finished) {
      auto* st = static_cast<State*>(ctx);
      auto h = std::coroutine_handle<scheduler::internal::Promise<T>>::
          from_address(frame.address());
      if (!finished) {
        st->result.emplace(absl::UnavailableError(
            "RunOn: the actor system shut down before the task finished"));
      } else if (h.promise().exception()) {
        st->result.emplace(absl::InternalError(absl::StrCat(
            "RunOn: the task threw: ",
            internal::WhatOf(h.promise().exception()))));
      } else if constexpr (std::is_void_v<T>) {
        st->result.emplace(absl::OkStatus());
      } else {
        st->result.emplace(h.promise().TakeResult());
      }
      frame.destroy();
      st->done.Notify();
    }
  };
  if (internal::ShardRuntime* cur = internal::ShardRuntime::Current();
      cur != nullptr && &cur->system() == this) {
    return Result(absl::FailedPreconditionError(
        "RunOn blocks: call it from outside the system's shards"));
  }
  State st{std::move(fn), std::nullopt, {}};
  absl::Status s = SubmitTo(to, [&st] {
    scheduler::Shard::Current()->Start(st.fn(), &State::Done, &st);
  });
  if (!s.ok()) return Result(s);
  st.done.WaitForNotification();
  return Result(*std::move(st.result));
}

template <typename V>
bool internal::AskAwaiter<V>::await_ready() {
  type_ = node_->type;
  runtime_ = ShardRuntime::Current();
  if (system_ == nullptr) {
    result_.emplace(absl::FailedPreconditionError("Ask on an empty ActorRef"));
    return true;
  }
  if (runtime_ == nullptr || &runtime_->system() != system_) {
    result_.emplace(absl::FailedPreconditionError(
        "Ask must be awaited on a shard of the actor's system; from other "
        "threads use ActorSystem::SubmitTo"));
    return true;
  }
  if (expired_) {
    runtime_->CountAskTimeout(type_);
    result_.emplace(absl::DeadlineExceededError("Ask: deadline already passed"));
    return true;
  }
  to_ = runtime_->RegisterAsk(this);
  registered_ = true;
  node_->reply_to = to_;
  node_->set_deadline_ns(deadline_ns_);
  absl::Status s = system_->Deliver(shard_, std::exchange(node_, nullptr));
  if (!s.ok()) {
    runtime_->UnregisterAsk(to_);
    registered_ = false;
    result_.emplace(std::move(s));
    return true;
  }
  return false;
}

}  // namespace ringactor

#endif  // RINGACTOR_ACTORS_ACTOR_SYSTEM_H_
