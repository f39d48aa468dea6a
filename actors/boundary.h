// File: actors/boundary.h
//
// The Boundary: the one entry into an ActorSystem for threads it does not
// own (a server's worker pool, a plain std::thread pool, a test's main
// thread). Bounded by the number of calls in flight; callers block on a
// condition variable and are woken by the reply, never by polling.

#ifndef RINGACTOR_ACTORS_BOUNDARY_H_
#define RINGACTOR_ACTORS_BOUNDARY_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "actors/actor_system.h"
#include "actors/internal/message.h"
#include "scheduler/mutex.h"

namespace ringactor {

// Boundary stats (a snapshot; thread-safe).
struct BoundaryStats {
  uint64_t calls = 0;          // calls admitted
  uint64_t rejected = 0;       // TryCall / Call refused: no capacity in time
  uint64_t timed_out = 0;      // calls that ended in DeadlineExceeded
  uint64_t cancelled = 0;      // calls cancelled by their caller
  uint64_t late_replies = 0;   // replies that came after their call ended
  uint64_t in_flight = 0;      // admitted and not yet released
  uint64_t caller_sleeps = 0;  // blocking waits that outlasted boundary_spin
};

namespace internal {

// CallState
//
// One Boundary call: shared by the caller (or its CallHandle) and the
// request in flight. The reply completes it on a shard thread; the caller
// waits on its condition variable. Thread-safe.
class CallState {
 public:
  using Callback = absl::AnyInvocable<void(ReplyNode* reply, absl::Status)>;

  explicit CallState(std::shared_ptr<class BoundaryCore> core)
      : core_(std::move(core)) {}

  // Shard thread: the reply arrived (ownership of `reply` passes).
  void Complete(ReplyNode* reply);
  // Resolves the call with `status` unless it already ended. True if it did.
  bool Fail(absl::Status status);
  // Caller: waits until the call ended or `deadline_ns` passed (then fails it
  // with DeadlineExceeded). Returns the reply (may be null) and status.
  std::pair<ReplyNode*, absl::Status> Wait(int64_t deadline_ns);
  bool done() const;
  void SetCallback(Callback cb);

  const std::atomic<bool>* cancel_flag() const { return &cancelled_; }
  BoundaryCore* core() const { return core_.get(); }
  void MarkCancelled() { cancelled_.store(true, std::memory_order_relaxed); }

  // Two references: the caller's and the request's.
  void Ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
  // Refs unless the last reference is already gone (the state is on its
  // way to BoundaryCore::Release).
  bool TryRef() {
    int r = refs_.load(std::memory_order_relaxed);
    while (r > 0) {
      if (refs_.compare_exchange_weak(r, r + 1, std::memory_order_acq_rel,
                                      std::memory_order_relaxed)) {
        return true;
      }
    }
    return false;
  }
  void Unref();

  // The call counts against boundary_capacity until it ended for its
  // caller and its request is done (answered or dropped): two parts.
  void PartDone();

  // Intrusive list of live calls in one of the BoundaryCore's stripes
  // (under that stripe's mutex).
  CallState* prev = nullptr;
  CallState* next = nullptr;
  uint32_t stripe = 0;
  bool request_ref = false;  // the request's ref is still held

 private:
  void Deliver(ReplyNode* reply, absl::Status status)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::shared_ptr<class BoundaryCore> core_;
  std::atomic<int> refs_{1};
  std::atomic<int> parts_{2};
  std::atomic<bool> cancelled_{false};
  mutable scheduler::Mutex mu_;
  std::condition_variable cv_;
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
  // Set with ended_, read without the lock by a waiter that is spinning.
  std::atomic<bool> ended_flag_{false};
  // A waiter blocks on cv_: only then does completing the call notify it.
  bool sleeping_ ABSL_GUARDED_BY(mu_) = false;
  ReplyNode* reply_ ABSL_GUARDED_BY(mu_) = nullptr;
  absl::Status status_ ABSL_GUARDED_BY(mu_);
  Callback callback_ ABSL_GUARDED_BY(mu_);
};

// The part of the Boundary the shards talk to.
class BoundaryCore : public std::enable_shared_from_this<BoundaryCore> {
 public:
  BoundaryCore(uint32_t capacity, absl::Duration spin)
      : capacity_(capacity), spin_ns_(absl::ToInt64Nanoseconds(spin)) {}
  // Admits a call (blocking until `deadline_ns` if `wait`).
  absl::StatusOr<CallState*> Admit(bool wait, int64_t deadline_ns);
  // The call's last reference went away.
  void Release(CallState* st);
  // The call no longer counts against the capacity.
  void FreeCapacity();
  void OnRequestDone(CallState* st);
  // Shutdown: fails every live call with `status` and drops the request
  // references no shard will ever release.
  void FailAll(const absl::Status& status);
  void Close();
  bool closed() const { return closed_.load(std::memory_order_acquire); }

  std::atomic<uint64_t> calls{0}, rejected{0}, timed_out{0}, cancelled{0},
      late_replies{0}, caller_sleeps{0};
  uint64_t in_flight() const {
    return in_flight_.load(std::memory_order_relaxed);
  }
  // How long a blocking wait polls for its reply before it sleeps.
  int64_t spin_ns() const { return spin_ns_; }

 private:
  // Takes a unit of capacity if there is one (exact: a CAS loop).
  bool TryTake();

  const uint32_t capacity_;
  const int64_t spin_ns_;
  std::atomic<bool> closed_{false};
  // Calls in flight. A call takes and frees its unit without a lock; the
  // mutex and room_ are only for callers that wait for room (Admit with
  // `wait` when full), counted in waiting_ (seq_cst with in_flight_: a
  // freer either sees the waiter or the waiter sees the room).
  alignas(transport::kCacheLine) std::atomic<uint32_t> in_flight_{0};
  std::atomic<uint32_t> waiting_{0};
  scheduler::Mutex mu_;
  std::condition_variable room_;
  // Live calls (for FailAll), in stripes chosen by the calling thread, so
  // that threads calling at once do not share a lock or a cache line.
  static constexpr uint32_t kStripes = 16;
  struct alignas(transport::kCacheLine) Stripe {
    scheduler::Mutex mu;
    CallState* live ABSL_GUARDED_BY(mu) = nullptr;
  };
  Stripe stripes_[kStripes];
};

// Completes a Boundary call from a shard (ReplyTo::kBoundary).
void CompleteBoundaryCall(const ReplyTo& to, ReplyNode* reply);

}  // namespace internal

// CallHandle<V>
//
// The pending result of Boundary::CallAsync: Wait() blocks until the reply
// (woken by it), Cancel() resolves it with Cancelled at once and tells the
// handler (ctx.cancelled()); a reply after that is dropped and counted.
// Destroying an unfinished handle cancels nothing: the call still runs and
// its reply is dropped. Thread-compatible (one owner), movable.
template <typename V>
class CallHandle {
 public:
  using Result = internal::AskResultOf<V>;
  CallHandle() = default;
  CallHandle(CallHandle&& o) noexcept
      : st_(std::exchange(o.st_, nullptr)), deadline_ns_(o.deadline_ns_) {}
  CallHandle& operator=(CallHandle&& o) noexcept {
    Reset();
    st_ = std::exchange(o.st_, nullptr);
    deadline_ns_ = o.deadline_ns_;
    return *this;
  }
  ~CallHandle() { Reset(); }

  bool valid() const { return st_ != nullptr || immediate_.has_value(); }
  // True once Wait() would not block.
  bool ready() const { return st_ == nullptr || st_->done(); }
  // Blocks until the call ends (its deadline bounds the wait). Once.
  Result Wait() {
    if (immediate_.has_value()) return *std::exchange(immediate_, std::nullopt);
    auto [reply, status] = st_->Wait(deadline_ns_);
    Reset();
    if (reply == nullptr) return Result(status);
    return internal::TakeReply<V>(reply);
  }
  // Resolves the call with Cancelled unless it already ended.
  void Cancel() {
    // The caller first, then the handler: a handler told first could
    // reply (its reply taking the caller's slot) before the cancellation
    // landed, and the caller would get that reply instead of Cancelled.
    if (st_ != nullptr &&
        st_->Fail(absl::CancelledError("the caller cancelled the call"))) {
      st_->MarkCancelled();
    }
  }

 private:
  friend class Boundary;
  void Reset() {
    if (st_ != nullptr) std::exchange(st_, nullptr)->Unref();
  }
  internal::CallState* st_ = nullptr;
  int64_t deadline_ns_ = scheduler::kNoDeadline;
  std::optional<Result> immediate_;  // failed before sending
};

// Which message types a named actor accepts through Boundary::CallBytes.
template <typename... M>
struct Accepts {};

// Boundary
//
// Obtained from ActorSystem::boundary() (a shared_ptr: a caller may keep it
// past the system's destruction; every call then answers Unavailable).
//
//   Call      blocking, with a deadline; waits for capacity until then
//   TryCall   ResourceExhausted at once when `boundary_capacity` calls are
//             in flight
//   CallAsync a CallHandle (Wait / Cancel), or a callback run on the shard
//             thread that completes the call
//   Tell      fire and forget; ResourceExhausted when the shard's inbox is
//             full
//
// Deadline and cancellation reach the handler (Context). A request whose
// deadline passed before it ran is not run (DeadlineExceeded). At shutdown
// every pending call resolves Unavailable; later calls answer Unavailable.
//
// With `boundary_spin` set (ActorSystemOptions; default 0: block at once), a
// blocking wait (Call, CallHandle::Wait) first polls for its reply for up to
// that long, handing the CPU to other runnable threads between looks
// (sched_yield), and only then sleeps on a condition variable. A reply
// that finds its caller polling costs the shard no wake-up syscall, and the
// caller no sleep; BoundaryStats::caller_sleeps counts the waits that slept.
//
// Thread-safe.
class Boundary {
 public:
  ~Boundary();

  template <typename A, typename M>
  auto Call(const ActorRef<A>& ref, M msg, absl::Duration timeout) {
    return Start<A>(ref, std::move(msg), timeout, /*wait=*/true).Wait();
  }
  template <typename A, typename M>
  auto TryCall(const ActorRef<A>& ref, M msg, absl::Duration timeout) {
    return Start<A>(ref, std::move(msg), timeout, /*wait=*/false).Wait();
  }
  template <typename A, typename M>
  auto CallAsync(const ActorRef<A>& ref, M msg, absl::Duration timeout) {
    return Start<A>(ref, std::move(msg), timeout, /*wait=*/false);
  }
  // Callback form: `done(result)` runs exactly once: on the shard thread
  // that answered (keep it short, it runs on a shard), or on this thread if
  // the call failed before it was sent. The deadline is enforced by the
  // shard here: a request not started by its deadline is answered
  // DeadlineExceeded; one already running finishes (it sees ctx.deadline()).
  template <typename A, typename M, typename F>
  absl::Status CallAsync(const ActorRef<A>& ref, M msg, absl::Duration timeout,
                         F done);

  template <typename A, typename M>
  absl::Status Tell(const ActorRef<A>& ref, M msg);

  // -- Named actors -----------------------------------------------------------

  // Boundary::Register()
  //
  // Names `ref` for Lookup, and for CallBytes with the message types listed
  // in Accepts<...>. AlreadyExists if the name is taken by a live actor.
  template <typename A, typename... M>
  absl::Status Register(absl::string_view name, const ActorRef<A>& ref,
                        Accepts<M...> accepts = {});
  absl::Status Unregister(absl::string_view name);
  // NotFound for an unknown (or stopped) name; InvalidArgument when the
  // actor is not an A.
  template <typename A>
  absl::StatusOr<ActorRef<A>> Lookup(absl::string_view name);

  // Boundary::CallBytes()
  //
  // The dynamic entry: calls actor `name` with the message whose full
  // protobuf type name is `type` (e.g. "kv.Put"), serialized in `bytes`.
  // Returns the serialized reply (empty for handlers that return only a
  // Status). NotFound: unknown name; InvalidArgument: a type the actor does
  // not accept, or bytes that do not parse; then the call's own errors.
  absl::StatusOr<std::string> CallBytes(absl::string_view name,
                                        absl::string_view type,
                                        absl::string_view bytes,
                                        absl::Duration timeout);

  BoundaryStats Stats() const;

 private:
  friend class ActorSystem;
  using DynamicCall = std::function<absl::StatusOr<std::string>(
      absl::string_view bytes, absl::Duration timeout)>;
  struct Entry {
    uint16_t type = 0;
    uint32_t shard = 0, slot = 0, gen = 0;
    absl::flat_hash_map<std::string, DynamicCall> dynamic;
  };

  Boundary(ActorSystem* system, uint32_t capacity, absl::Duration spin)
      : system_(system),
        core_(std::make_shared<internal::BoundaryCore>(capacity, spin)) {}

  // Admission + the enter protocol that keeps `system_` valid.
  bool Enter();
  void Leave();
  // Shutdown (from ActorSystem): refuse new calls, wait for callers inside
  // a send, fail every pending call once the shards stopped.
  void Close();
  void FailAll();

  template <typename A, typename M>
  auto Start(const ActorRef<A>& ref, M msg, absl::Duration timeout, bool wait)
      -> CallHandle<typename internal::HandlerTraits<A, M>::Value>;
  absl::Status Send(internal::CallState* st, uint32_t shard,
                    internal::MessageNode* node);
  absl::Status CheckRef(const ActorSystem* ref_system) const;

  ActorSystem* system_;
  std::shared_ptr<internal::BoundaryCore> core_;
  std::atomic<int64_t> entered_{0};
  std::atomic<bool> closing_{false};
  mutable scheduler::Mutex names_mu_;
  absl::flat_hash_map<std::string, Entry> names_ ABSL_GUARDED_BY(names_mu_);
};

// -- Template definitions -----------------------------------------------------

template <typename A, typename M>
auto Boundary::Start(const ActorRef<A>& ref, M msg, absl::Duration timeout,
                     bool wait)
    -> CallHandle<typename internal::HandlerTraits<A, M>::Value> {
  ActorRef<A>::template CheckMessage<M>();
  using V = typename internal::HandlerTraits<A, M>::Value;
  CallHandle<V> h;
  const int64_t deadline = scheduler::DeadlineAfter(timeout);
  h.deadline_ns_ = deadline;
  if (!Enter()) {
    h.immediate_.emplace(
        absl::UnavailableError("the actor system is shutting down"));
    return h;
  }
  absl::Status s = CheckRef(ref.system_);
  absl::StatusOr<internal::CallState*> st =
      s.ok() ? core_->Admit(wait, deadline) : absl::StatusOr<internal::CallState*>(s);
  if (!st.ok()) {
    Leave();
    h.immediate_.emplace(st.status());
    return h;
  }
  auto* node = new internal::TypedNode<A, M>(std::move(msg));
  ref.Fill(*node);
  node->set_deadline_ns(deadline);
  s = Send(*st, ref.shard_, node);
  Leave();
  h.st_ = *st;
  if (!s.ok()) (*st)->Fail(std::move(s));
  return h;
}

template <typename A, typename M, typename F>
absl::Status Boundary::CallAsync(const ActorRef<A>& ref, M msg,
                                 absl::Duration timeout, F done) {
  using V = typename internal::HandlerTraits<A, M>::Value;
  CallHandle<V> h = Start<A>(ref, std::move(msg), timeout, /*wait=*/false);
  if (h.st_ == nullptr) {
    absl::Status s;
    if constexpr (std::is_void_v<V>) {
      s = *h.immediate_;
    } else {
      s = h.immediate_->status();
    }
    done(internal::AskResultOf<V>(s));
    return s;
  }
  h.st_->SetCallback([done = std::move(done)](internal::ReplyNode* reply,
                                              absl::Status status) mutable {
    if (reply == nullptr) {
      done(internal::AskResultOf<V>(std::move(status)));
    } else {
      done(internal::TakeReply<V>(reply));
    }
  });
  return absl::OkStatus();
}

template <typename A, typename M>
absl::Status Boundary::Tell(const ActorRef<A>& ref, M msg) {
  ActorRef<A>::template CheckMessage<M>();
  if (!Enter()) return absl::UnavailableError("the actor system is shutting down");
  absl::Status s = CheckRef(ref.system_);
  if (s.ok()) {
    auto* node = new internal::TypedNode<A, M>(std::move(msg));
    ref.Fill(*node);
    s = system_->Deliver(ref.shard_, node);
  }
  Leave();
  return s;
}

template <typename A, typename... M>
absl::Status Boundary::Register(absl::string_view name, const ActorRef<A>& ref,
                                Accepts<M...>) {
  if (!Enter()) return absl::UnavailableError("the actor system is shutting down");
  struct LeaveOnExit {
    Boundary* b;
    ~LeaveOnExit() { b->Leave(); }
  } leave{this};
  if (absl::Status s = CheckRef(ref.system_); !s.ok()) return s;
  Entry e;
  e.type = internal::ActorTypeIndex<A>();
  e.shard = ref.shard_;
  e.slot = ref.slot_;
  e.gen = ref.gen_;
  auto add = [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    ActorRef<A>::template CheckMessage<T>();
    e.dynamic[T::descriptor()->full_name()] =
        [this, ref](absl::string_view bytes,
                    absl::Duration timeout) -> absl::StatusOr<std::string> {
      T msg;
      if (!msg.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
        return absl::InvalidArgumentError(absl::StrCat(
            "bytes do not parse as ", T::descriptor()->full_name()));
      }
      auto r = Call(ref, std::move(msg), timeout);
      using R = decltype(r);
      if constexpr (std::is_same_v<R, absl::Status>) {
        if (!r.ok()) return r;
        return std::string();
      } else {
        if (!r.ok()) return r.status();
        return r->SerializeAsString();
      }
    };
  };
  (add(static_cast<M*>(nullptr)), ...);
  (void)add;  // Accepts<> (no dynamic types)
  scheduler::MutexLock lock(names_mu_);
  auto it = names_.find(name);
  if (it != names_.end() &&
      system_->IsAlive(it->second.shard, it->second.slot, it->second.gen)) {
    return absl::AlreadyExistsError(
        absl::StrCat("an actor is already registered as \"", name, "\""));
  }
  names_[std::string(name)] = std::move(e);
  return absl::OkStatus();
}

template <typename A>
absl::StatusOr<ActorRef<A>> Boundary::Lookup(absl::string_view name) {
  if (!Enter()) return absl::UnavailableError("the actor system is shutting down");
  struct LeaveOnExit {
    Boundary* b;
    ~LeaveOnExit() { b->Leave(); }
  } leave{this};
  scheduler::MutexLock lock(names_mu_);
  auto it = names_.find(name);
  if (it == names_.end() ||
      !system_->IsAlive(it->second.shard, it->second.slot, it->second.gen)) {
    return absl::NotFoundError(absl::StrCat("no actor named \"", name, "\""));
  }
  if (it->second.type != internal::ActorTypeIndex<A>()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", name, "\" is a ", internal::ActorTypeName(it->second.type)));
  }
  return ActorRef<A>(system_, it->second.shard, it->second.slot, it->second.gen);
}

}  // namespace ringactor

#endif  // RINGACTOR_ACTORS_BOUNDARY_H_
