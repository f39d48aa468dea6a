// File: actors/internal/message.h
//
// What travels between shards: a MessageNode (one heap object holding the
// protobuf message itself, so a send allocates nothing else) and a
// ReplyNode. Envelopes carry pointers to them; nothing is serialized inside
// a process.

#ifndef RINGACTOR_ACTORS_INTERNAL_MESSAGE_H_
#define RINGACTOR_ACTORS_INTERNAL_MESSAGE_H_

#include <concepts>
#include <coroutine>
#include <cstddef>
#include <atomic>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "google/protobuf/message_lite.h"
#include "scheduler/cell_ring.h"
#include "scheduler/clock.h"
#include "scheduler/task.h"

namespace ringactor {
class Actor;
namespace internal {

// Envelope tags used by the actor layer.
enum EnvelopeTag : uint64_t {
  kDeliverTag = 1,  // value: MessageNode*
  kReplyTag = 2,    // value: ReplyNode*
  kStopTag = 3,     // value: MessageNode* (a StopNode)
  kReturnTag = 4,   // value: a Traveler* to destroy here (its origin)
  kStealableTag = 5,  // value: MessageNode* for a stealable actor's queue
};

// The shard an ActorRef to a stealable actor names (it has none); its slot
// is the actor's index in the system's StealableTable.
inline constexpr uint32_t kStealableShard = ~uint32_t{0};

// The direct-word tag (MSG_RING, no lane) that carries hot messages and
// counter updates past any lane backlog.
inline constexpr uint32_t kHotWordTag = 1;

#if defined(__SANITIZE_THREAD__)
extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);
#endif
// A pointer handed to another shard inside a MSG_RING word is synchronized
// by the kernel (submit, then the CQ tail's acquire load), which
// ThreadSanitizer cannot see; these tell it. No-ops otherwise.
inline void ReleaseToKernel(void* p) {
#if defined(__SANITIZE_THREAD__)
  __tsan_release(p);
#else
  (void)p;
#endif
}
inline void AcquireFromKernel(void* p) {
#if defined(__SANITIZE_THREAD__)
  __tsan_acquire(p);
#else
  (void)p;
#endif
}

// Where a reply goes: a pending Ask on shard `shard` (index, gen in its
// table), or a Boundary call (index:gen hold its CallState*). kNoReply for a
// Tell.
struct ReplyTo {
  static constexpr uint32_t kNoReply = ~uint32_t{0};
  static constexpr uint32_t kBoundary = ~uint32_t{0} - 1;
  uint32_t shard = kNoReply;
  uint32_t index = 0;
  uint32_t gen = 0;
  bool wanted() const { return shard != kNoReply; }
};

class ShardRuntime;
// The runtime of the calling shard thread (nullptr elsewhere).
ShardRuntime* CurrentRuntime();

// Traveler
//
// An object that crosses shards (messages, replies). A shard builds what it
// sends to another shard in a cell of its CellRing for that shard when one
// is free (NewTraveler below; NewNodeTo in runtime.h, NewReply): the
// receiver hands the cell back where it is (destroying the object itself
// unless it may free heap memory, see OwnsHeap), and nothing travels back.
// Otherwise (no free cell, a node too large for a cell, a thread outside
// the system, a stealable actor's message) it comes from the creating
// thread's block cache and is destroyed on the shard that created it: the
// receiving shard hands it back (one lane envelope each, sent with the
// turn's flush), which also counts it for flow control (docs/actors.md).
class Traveler {
 public:
  Traveler() : origin(CurrentRuntime()) {}
  virtual ~Traveler() = default;
  // Where to build a node: `cell` (kCellBytes, from a CellRing), or the
  // block cache when it is null. `size` is the node's size, for the
  // placement delete below.
  struct Placement {
    void* cell;
    std::size_t size;
  };
  static void* operator new(std::size_t n) {
    return scheduler::internal::CachedAlloc(n);
  }
  static void* operator new(std::size_t n, Placement p) {
    return p.cell != nullptr ? p.cell : scheduler::internal::CachedAlloc(n);
  }
  static void operator delete(void* p, std::size_t n) noexcept {
    if (scheduler::CellRing::Contains(p)) {
      scheduler::CellRing::Release(p);
    } else {
      scheduler::internal::CachedFree(p, n);
    }
  }
  // Only when a constructor called by `new (Placement)` throws.
  static void operator delete(void* p, Placement pl) noexcept {
    operator delete(p, pl.size);
  }
  // True when destroying this object may free heap memory (a string, a
  // repeated field, a sub-message, a Status's payload). A receiving shard
  // hands such an object in a cell back alive, for its origin to destroy
  // (see CellRing::Finish): glibc's free of another thread's block takes
  // that arena's lock. An object that frees nothing it destroys itself,
  // while its lines are in its cache.
  virtual bool OwnsHeap() const { return true; }
  // nullptr: made by a thread outside a shard, or a stealable actor's
  // message (it is destroyed wherever it ran).
  ShardRuntime* origin;
};

// Builds a Node (a Traveler) from `args`: in the cell `take()` returns, when
// the node fits in one and it returns one, else in the block cache (see
// Traveler). `take` is not called for a node too large for a cell.
template <typename Node, typename Take, typename... Args>
Node* NewTraveler(Take&& take, Args&&... args) {
  void* cell = nullptr;
  if constexpr (sizeof(Node) <= scheduler::CellRing::kCellBytes &&
                alignof(Node) <= 64) {
    cell = take();
  }
  return new (Traveler::Placement{cell, sizeof(Node)})
      Node(std::forward<Args>(args)...);
}

// True when every field of the message type is a singular scalar (no
// string, bytes, message, repeated field, map or extension range): its
// destructor frees nothing (unless it holds unknown fields from parsing).
bool IsFlatMessageType(const google::protobuf::Descriptor* d);
template <typename M>
bool IsFlatMessage() {
  if constexpr (std::is_base_of_v<google::protobuf::Message, M>) {
    static const bool flat = IsFlatMessageType(M::descriptor());
    return flat;
  } else {
    return false;  // lite: no descriptor to ask
  }
}

// Destroys `t`, on its origin shard when that is another shard of the same
// system (see Traveler).
void Free(Traveler* t);

class ReplyNode : public Traveler {
 public:
  explicit ReplyNode(absl::Status status) : status(std::move(status)) {}
  bool OwnsHeap() const override { return !status.ok(); }
  ReplyTo to;
  absl::Status status;  // not OK: no value
  bool hot = false;     // answers a hot request: travels like one
};

template <typename R>
class TypedReply final : public ReplyNode {
 public:
  template <typename U>
    requires std::is_constructible_v<R, U&&>
  explicit TypedReply(U&& v)
      : ReplyNode(absl::OkStatus()), value(std::forward<U>(v)) {}
  bool OwnsHeap() const override {
    return !status.ok() || !IsFlatMessage<R>();
  }
  R value;
};

// MessageNode
//
// A message on its way to (or in the mailbox of) an actor. Owned by
// whoever holds it: the sender until it is enqueued, then the lane, then the
// target's mailbox, then the handler (until a coroutine handler finishes).
}  // namespace internal

// Context
//
// What a handler may learn about the request it is serving: its deadline
// (the caller's Ask or Boundary call deadline) and whether the caller
// cancelled it. Declare a handler as `Handle(const M&, Context&)` to get it.
// Valid for the handler's whole run (also across co_await).
//
// Shard-affine.
class Context {
 public:
  // absl::InfiniteFuture() for a Tell or a call without deadline.
  absl::Time deadline() const {
    if (deadline_ns_ == scheduler::kNoDeadline) return absl::InfiniteFuture();
    return absl::Now() + absl::Nanoseconds(deadline_ns_ - scheduler::MonoNanos());
  }
  // Time left before the deadline (InfiniteDuration without one).
  absl::Duration remaining() const {
    if (deadline_ns_ == scheduler::kNoDeadline) return absl::InfiniteDuration();
    return absl::Nanoseconds(deadline_ns_ - scheduler::MonoNanos());
  }
  bool expired() const { return remaining() <= absl::ZeroDuration(); }
  // True once the caller cancelled (Boundary CallAsync handles); the reply
  // will be dropped, so a long handler may stop early.
  bool cancelled() const {
    return cancel_ != nullptr && cancel_->load(std::memory_order_relaxed);
  }

 private:
  friend class internal::MessageNode;
  int64_t deadline_ns_ = scheduler::kNoDeadline;
  const std::atomic<bool>* cancel_ = nullptr;
};

namespace internal {

class MessageNode : public Traveler {
 public:
  enum class Kind : uint8_t {
    kOrdinary,  // the mailbox, FIFO per sender
    kHot,       // the actor's hot queue, drained first
    kCount,     // a counter-lane update (CountNode), applied on arrival
  };
  // Runs the handler on `actor` (whose dynamic type is the node's actor
  // type). Returns true when a coroutine handler now owns the node (it is
  // freed when the coroutine finishes); false when the caller frees it.
  virtual bool Invoke(Actor& actor) = 0;
  virtual bool is_stop() const { return false; }
  // Coalesced hot messages: merges `other` (same actor and message type)
  // into this one; false when they must stay apart (e.g. a sum would
  // overflow).
  virtual bool TryMerge(MessageNode& other) { return false; }

  MessageNode* next = nullptr;  // mailbox link
  Kind kind = Kind::kOrdinary;
  uint32_t merge_type = 0;  // nonzero: coalescable, same value = same type
  Actor* running_on = nullptr;  // set while a coroutine handler runs
  uint32_t slot = 0;
  uint32_t gen = 0;
  uint16_t type = 0;  // target's ActorTypeIndex, for stats
  ReplyTo reply_to;

  // The request's deadline and (set by the Boundary) the caller's cancel
  // flag, which outlives the request. They live in the handler's Context
  // itself: a copy would cost 16 bytes per message, which takes a node with
  // a 40-48 byte protobuf from two cache-line blocks to three.
  int64_t deadline_ns() const { return context_.deadline_ns_; }
  void set_deadline_ns(int64_t d) { context_.deadline_ns_ = d; }
  void set_cancel(const std::atomic<bool>* c) { context_.cancel_ = c; }
  Context& context() { return context_; }

 private:
  Context context_;
};

// A counter-lane update: `delta` for counter `counter` of the target actor.
class CountNode final : public MessageNode {
 public:
  CountNode(uint32_t counter, int64_t delta) : counter(counter), delta(delta) {
    kind = Kind::kCount;
  }
  bool Invoke(Actor&) override { return false; }
  bool OwnsHeap() const override { return false; }
  uint32_t counter;
  int64_t delta;
};

// A request to stop the actor (ActorRef::Stop); handled on arrival, ahead
// of the mailbox.
class StopNode final : public MessageNode {
 public:
  bool Invoke(Actor&) override { return false; }
  bool is_stop() const override { return true; }
  bool OwnsHeap() const override { return false; }
};

// -- Handler traits --------------------------------------------------------

template <typename T>
struct IsStatusOr : std::false_type {};
template <typename T>
struct IsStatusOr<absl::StatusOr<T>> : std::true_type {
  using value_type = T;
};

template <typename T>
struct Unwrap {  // Task<X> -> X
  using type = T;
  static constexpr bool kCoroutine = false;
};
template <typename T>
struct Unwrap<scheduler::Task<T>> {
  using type = T;
  static constexpr bool kCoroutine = true;
};

// What Ask yields for a handler result `Inner` (after unwrapping Task<>).
template <typename Inner>
struct ReplyTraits {
  static_assert(std::is_void_v<Inner> || std::is_same_v<Inner, absl::Status>,
                "a handler returns void, absl::Status, a protobuf message, "
                "absl::StatusOr<protobuf message>, or Task<one of those>");
  using Value = void;  // Ask yields absl::Status
};
template <typename Inner>
  requires std::is_base_of_v<google::protobuf::MessageLite, Inner>
struct ReplyTraits<Inner> {
  using Value = Inner;
};
template <typename R>
struct ReplyTraits<absl::StatusOr<R>> {
  static_assert(std::is_base_of_v<google::protobuf::MessageLite, R>,
                "a handler's absl::StatusOr<R> needs a protobuf R");
  using Value = R;
};

template <typename L, typename M>
struct ListHas : std::false_type {};
template <template <typename...> class L, typename... Ms, typename M>
struct ListHas<L<Ms...>, M> : std::bool_constant<(std::is_same_v<Ms, M> || ...)> {};

// M is a coalesced hot message of A (listed in A::CoalescedMessages).
template <typename A, typename M>
constexpr bool IsCoalesced() {
  if constexpr (requires { typename A::CoalescedMessages; }) {
    return ListHas<typename A::CoalescedMessages, M>::value;
  } else {
    return false;
  }
}
// M is a hot message of A (listed in A::HotMessages, or coalesced).
template <typename A, typename M>
constexpr bool IsHot() {
  if constexpr (requires { typename A::HotMessages; }) {
    if (ListHas<typename A::HotMessages, M>::value) return true;
  }
  return IsCoalesced<A, M>();
}
uint32_t NextMergeType();
template <typename A, typename M>
uint32_t MergeType() {
  static const uint32_t id = NextMergeType();
  return id;
}

template <typename A, typename M>
concept HasContextHandler = requires(A& a, const M& m, Context& c) {
  a.Handle(m, c);
};
template <typename A, typename M>
concept HasHandler =
    requires(A& a, const M& m) { a.Handle(m); } || HasContextHandler<A, M>;

// Calls A's handler for M, with the request's Context if it takes one.
template <typename A, typename M>
decltype(auto) CallHandler(A& a, const M& m, MessageNode& node) {
  if constexpr (HasContextHandler<A, M>) {
    return a.Handle(m, node.context());
  } else {
    return a.Handle(m);
  }
}

template <typename A, typename M>
struct HandlerTraits {
  using Result = decltype(CallHandler(std::declval<A&>(),
                                      std::declval<const M&>(),
                                      std::declval<MessageNode&>()));
  using Inner = typename Unwrap<Result>::type;
  static constexpr bool kCoroutine = Unwrap<Result>::kCoroutine;
  using Value = typename ReplyTraits<Inner>::Value;
  // What Ask yields.
  using AskResult = std::conditional_t<std::is_void_v<Value>, absl::Status,
                                       absl::StatusOr<Value>>;
};

// A free cell of this shard's CellRing for `shard` (nullptr: none, or
// not called on a shard); defined in runtime.cc.
void* TakeCellTo(uint32_t shard);

// Builds a reply to `to` from `args`: in a cell when it goes to another
// shard and fits in one.
template <typename Node, typename... Args>
Node* NewReply(const ReplyTo& to, Args&&... args) {
  return NewTraveler<Node>([&to] { return TakeCellTo(to.shard); },
                           std::forward<Args>(args)...);
}

// Turns a handler's result into the reply to send to `to` (always a
// ReplyNode).
template <typename Inner>
ReplyNode* MakeReply(Inner&& r, const ReplyTo& to) {
  using T = std::decay_t<Inner>;
  if constexpr (std::is_same_v<T, absl::Status>) {
    return NewReply<ReplyNode>(to, std::move(r));
  } else if constexpr (IsStatusOr<T>::value) {
    if (!r.ok()) return NewReply<ReplyNode>(to, r.status());
    return NewReply<TypedReply<typename IsStatusOr<T>::value_type>>(
        to, *std::move(r));
  } else {
    return NewReply<TypedReply<T>>(to, std::move(r));
  }
}

// Runtime hooks the typed nodes call (defined in runtime.cc).
void SendReply(MessageNode& request, ReplyNode* reply);
void HandlerFailed(Actor& actor, MessageNode& request, std::string what);
void CoroutineStarted(Actor& actor, MessageNode& request);
void CoroutineFinished(MessageNode* request);
scheduler::Shard& CurrentShard();

inline std::string WhatOf(std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return ex.what();
  } catch (...) {
    return "unknown exception";
  }
}

// TypedNode<A, M>
//
// Message M for actor type A. The handler is chosen here, at compile time.
template <typename A, typename M>
class TypedNode final : public MessageNode {
 public:
  using Traits = HandlerTraits<A, M>;
  // Constructs the message in place from what the sender passed: one copy
  // for an lvalue, one move for an rvalue (a by-value parameter cost a
  // protobuf copy, a move, i.e. a default construction and a swap, and a
  // destruction: ~8% of a bulk sender's time).
  template <typename U>
    requires std::is_constructible_v<M, U&&>
  explicit TypedNode(U&& m) : msg(std::forward<U>(m)) {
    if constexpr (IsHot<A, M>()) kind = Kind::kHot;
    if constexpr (IsCoalesced<A, M>()) merge_type = MergeType<A, M>();
  }
  bool OwnsHeap() const override { return !IsFlatMessage<M>(); }

  bool TryMerge(MessageNode& other) override {
    if constexpr (IsCoalesced<A, M>()) {
      static_assert(requires(M& a, const M& b) {
        { A::Merge(a, b) } -> std::same_as<bool>;
      }, "a coalesced message needs `static bool Merge(M& into, const M& "
         "from)` in its actor (false: do not merge, e.g. on overflow)");
      return A::Merge(msg, static_cast<TypedNode&>(other).msg);
    } else {
      return false;
    }
  }

  bool Invoke(Actor& base) override {
    A& actor = static_cast<A&>(base);
    if constexpr (Traits::kCoroutine) {
      typename Traits::Result task;
      try {
        task = CallHandler(actor, msg, *this);
      } catch (...) {
        HandlerFailed(base, *this, WhatOf(std::current_exception()));
        return false;
      }
      CoroutineStarted(base, *this);
      CurrentShard().Start(std::move(task), &TypedNode::Done, this);
      return true;  // `this` may already be gone: Done frees it
    } else {
      try {
        if constexpr (std::is_void_v<typename Traits::Result>) {
          CallHandler(actor, msg, *this);
          if (reply_to.wanted()) {
            SendReply(*this, MakeReply(absl::OkStatus(), reply_to));
          }
        } else {
          auto r = CallHandler(actor, msg, *this);
          if (reply_to.wanted()) {
            SendReply(*this, MakeReply(std::move(r), reply_to));
          }
        }
      } catch (...) {
        HandlerFailed(base, *this, WhatOf(std::current_exception()));
      }
      return false;
    }
  }

  M msg;

 private:
  using Inner = typename Traits::Inner;
  static void Done(void* ctx, std::coroutine_handle<> frame, bool finished) {
    auto* node = static_cast<TypedNode*>(ctx);
    auto h = std::coroutine_handle<scheduler::internal::Promise<Inner>>::
        from_address(frame.address());
    if (finished) {
      if (h.promise().exception()) {
        HandlerFailed(*node->running_on, *node,
                      WhatOf(h.promise().exception()));
      } else if (node->reply_to.wanted()) {
        if constexpr (std::is_void_v<Inner>) {
          SendReply(*node, MakeReply(absl::OkStatus(), node->reply_to));
        } else {
          SendReply(*node,
                    MakeReply(h.promise().TakeResult(), node->reply_to));
        }
      }
    }
    frame.destroy();
    if (finished) {
      CoroutineFinished(node);
    } else {
      Free(node);  // shutdown: the actor is being torn down too
    }
  }
};

}  // namespace internal
}  // namespace ringactor

#endif  // RINGACTOR_ACTORS_INTERNAL_MESSAGE_H_
