// File: actors/internal/ask.h
//
// The awaitables behind ActorRef::Ask and AskAll (their await_ready, which
// needs ActorSystem, is in actors/actor_system.h).

#ifndef RINGACTOR_ACTORS_INTERNAL_ASK_H_
#define RINGACTOR_ACTORS_INTERNAL_ASK_H_

#include <coroutine>
#include <cstdint>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "actors/internal/message.h"
#include "actors/internal/runtime.h"
#include "scheduler/clock.h"
#include "scheduler/timer.h"

namespace ringactor {

class ActorSystem;

namespace internal {

template <typename V>
using AskResultOf =
    std::conditional_t<std::is_void_v<V>, absl::Status, absl::StatusOr<V>>;

// Turns a reply into what Ask yields, and frees it.
template <typename V>
AskResultOf<V> TakeReply(ReplyNode* reply) {
  AskResultOf<V> out = [&]() -> AskResultOf<V> {
    // Moved: the reply goes home to another shard to be freed, and the
    // status payload's refcount must not be shared across threads.
    if (!reply->status.ok()) return std::move(reply->status);
    if constexpr (std::is_void_v<V>) {
      return absl::OkStatus();
    } else {
      return std::move(static_cast<TypedReply<V>*>(reply)->value);
    }
  }();
  Free(reply);
  return out;
}

// AskAwaiter<V>
//
// `co_await ref.Ask(msg, timeout)`. Sends when awaited; resumes with the
// reply, an error reply, DeadlineExceeded at the deadline, or Unavailable
// at shutdown. Lives in the asking coroutine's frame; destroying it
// unregisters the Ask (a late reply is then dropped and counted).
template <typename V>
class [[nodiscard]] AskAwaiter final : public PendingAsk,
                                       public scheduler::Timer {
 public:
  using Result = AskResultOf<V>;

  // `expired`: the deadline had passed when the Ask was made (a timeout of
  // zero or less); it then fails at once, without sending. (An Ask awaited
  // long after it was made is sent, and ends with DeadlineExceeded at its
  // timer; its target drops it unrun. That spares every Ask a second clock
  // read.)
  AskAwaiter(ActorSystem* system, uint32_t shard, MessageNode* node,
             int64_t deadline_ns, bool expired)
      : system_(system),
        shard_(shard),
        node_(node),
        deadline_ns_(deadline_ns),
        expired_(expired) {}
  AskAwaiter(AskAwaiter&& o) noexcept
      : system_(o.system_),
        shard_(o.shard_),
        node_(std::exchange(o.node_, nullptr)),
        deadline_ns_(o.deadline_ns_),
        expired_(o.expired_) {}
  ~AskAwaiter() override {
    delete node_;
    if (registered_) runtime_->UnregisterAsk(to_);
  }

  bool await_ready();
  void await_suspend(std::coroutine_handle<> h) {
    handle_ = h;
    if (deadline_ns_ != scheduler::kNoDeadline) Arm(deadline_ns_);
  }
  Result await_resume() { return std::move(*result_); }

 private:
  void OnReply(ReplyNode* reply) override {
    registered_ = false;
    Disarm();
    result_.emplace(TakeReply<V>(reply));
    runtime_->shard().PostResume(handle_);
  }
  void OnFire() noexcept override {
    runtime_->UnregisterAsk(to_);
    registered_ = false;
    runtime_->CountAskTimeout(type_);
    result_.emplace(absl::DeadlineExceededError("Ask: no reply before the deadline"));
    handle_.resume();
  }

  ActorSystem* system_;
  uint32_t shard_;
  MessageNode* node_;
  int64_t deadline_ns_;
  bool expired_;
  ShardRuntime* runtime_ = nullptr;
  ReplyTo to_;
  uint16_t type_ = 0;
  bool registered_ = false;
  std::coroutine_handle<> handle_;
  std::optional<Result> result_;
};


// AskGroup<V>
//
// `co_await AskAll(refs, msg, timeout)`: one Ask per ref, all sent at once,
// one resumption when every reply (or the deadline) is in.
template <typename V>
class [[nodiscard]] AskGroup final : public scheduler::Timer {
 public:
  using Result = AskResultOf<V>;
  struct Target {
    ActorSystem* system;
    uint32_t shard;
    MessageNode* node;
  };

  AskGroup(std::vector<Target> targets, int64_t deadline_ns)
      : targets_(std::move(targets)), deadline_ns_(deadline_ns) {}
  AskGroup(AskGroup&& o) noexcept
      : targets_(std::move(o.targets_)), deadline_ns_(o.deadline_ns_) {}
  ~AskGroup() override {
    for (Target& t : targets_) delete t.node;
    if (members_ != nullptr) {
      for (size_t i = 0; i < targets_.size(); ++i) {
        if (members_[i].registered) runtime_->UnregisterAsk(members_[i].to);
      }
    }
  }

  // Far first: AskAll builds, and await_ready sends, the requests for
  // other shards than `here` (the caller's) in pass 0, its own in pass 1.
  static bool InPass(uint32_t shard, uint32_t here, int pass) {
    return (shard == here) == (pass == 1);
  }

  bool await_ready();
  void await_suspend(std::coroutine_handle<> h) {
    handle_ = h;
    if (deadline_ns_ != scheduler::kNoDeadline) Arm(deadline_ns_);
  }
  std::vector<Result> await_resume() {
    std::vector<Result> out;
    out.reserve(targets_.size());
    for (size_t i = 0; i < targets_.size(); ++i) {
      out.push_back(std::move(*members_[i].result));
    }
    return out;
  }

 private:
  struct Member final : PendingAsk {
    AskGroup* group = nullptr;
    ReplyTo to;
    bool registered = false;
    std::optional<Result> result;
    void OnReply(ReplyNode* reply) override {
      registered = false;
      result.emplace(TakeReply<V>(reply));
      group->OneDone();
    }
  };
  void OneDone() {
    if (--outstanding_ == 0 && handle_) {
      Disarm();
      runtime_->shard().PostResume(handle_);
    }
  }
  void OnFire() noexcept override {
    for (size_t i = 0; i < targets_.size(); ++i) {
      Member& m = members_[i];
      if (!m.registered) continue;
      runtime_->UnregisterAsk(m.to);
      m.registered = false;
      runtime_->CountAskTimeout(type_);
      m.result.emplace(
          absl::DeadlineExceededError("AskAll: no reply before the deadline"));
    }
    outstanding_ = 0;
    handle_.resume();
  }

  std::vector<Target> targets_;
  int64_t deadline_ns_;
  std::unique_ptr<Member[]> members_;
  ShardRuntime* runtime_ = nullptr;
  size_t outstanding_ = 0;
  uint16_t type_ = 0;
  std::coroutine_handle<> handle_;
};

}  // namespace internal

}  // namespace ringactor

#endif  // RINGACTOR_ACTORS_INTERNAL_ASK_H_
