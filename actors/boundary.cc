// File: actors/boundary.cc

#include "actors/boundary.h"

#include <sched.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <vector>

#include "actors/internal/runtime.h"
#include "scheduler/clock.h"

namespace ringactor {
namespace internal {
namespace {

CallState* StateOf(const ReplyTo& to) {
  return reinterpret_cast<CallState*>(uint64_t{to.index} |
                                      (uint64_t{to.gen} << 32));
}

}  // namespace

// -- CallState -----------------------------------------------------------------

void CallState::PartDone() {
  if (parts_.fetch_sub(1, std::memory_order_acq_rel) == 1) core_->FreeCapacity();
}

void CallState::Deliver(ReplyNode* reply, absl::Status status) {
  ended_ = true;
  ended_flag_.store(true, std::memory_order_release);
  PartDone();
  reply_ = reply;
  status_ = std::move(status);
}

void CallState::Complete(ReplyNode* reply) {
  scheduler::MutexLock lock(mu_);
  if (ended_) {
    lock.Unlock();
    core_->late_replies.fetch_add(1, std::memory_order_relaxed);
    Free(reply);
    return;
  }
  if (callback_) {
    ended_ = true;
    PartDone();
    Callback cb = std::move(callback_);
    lock.Unlock();
    cb(reply, absl::OkStatus());
    return;
  }
  Deliver(reply, absl::OkStatus());
  const bool sleeping = sleeping_;
  // The request still holds a reference (CompleteBoundaryCall), so the
  // state outlives this notify even if the waiter returns at once. A waiter
  // that is still polling sees ended_flag_ and needs no notify (it sets
  // sleeping_ under mu_ and checks ended_ before it blocks).
  lock.Unlock();
  if (sleeping) cv_.notify_all();
}

bool CallState::Fail(absl::Status status) {
  scheduler::MutexLock lock(mu_);
  if (ended_) return false;
  if (absl::IsCancelled(status)) {
    core_->cancelled.fetch_add(1, std::memory_order_relaxed);
  } else if (absl::IsDeadlineExceeded(status)) {
    core_->timed_out.fetch_add(1, std::memory_order_relaxed);
  }
  if (callback_) {
    ended_ = true;
    PartDone();
    Callback cb = std::move(callback_);
    lock.Unlock();
    cb(nullptr, std::move(status));
    return true;
  }
  Deliver(nullptr, std::move(status));
  cv_.notify_all();
  return true;
}

std::pair<ReplyNode*, absl::Status> CallState::Wait(int64_t deadline_ns) {
  // Poll first (see Boundary): each look that finds nothing yields the CPU,
  // so the shard that owes the reply runs if it shares this CPU.
  if (const int64_t spin = core_->spin_ns(); spin > 0) {
    const int64_t until = std::min(deadline_ns, scheduler::MonoNanos() + spin);
    while (!ended_flag_.load(std::memory_order_acquire) &&
           scheduler::MonoNanos() < until) {
      sched_yield();
    }
  }
  scheduler::MutexLock lock(mu_);
  if (!ended_) {
    core_->caller_sleeps.fetch_add(1, std::memory_order_relaxed);
    sleeping_ = true;
  }
  if (deadline_ns == scheduler::kNoDeadline) {
    while (!ended_) lock.Wait(cv_);
  } else {
    const auto until = scheduler::SteadyAt(deadline_ns);
    while (!ended_ && lock.WaitUntil(cv_, until)) {
    }
    if (!ended_) {
      core_->timed_out.fetch_add(1, std::memory_order_relaxed);
      Deliver(nullptr, absl::DeadlineExceededError(
                           "Boundary call: no reply before the deadline"));
    }
  }
  // Moved, not copied: the caller must own the status's only reference
  // (abseil's refcount is not TSan-instrumented; see DeadLetter).
  return {std::exchange(reply_, nullptr), std::exchange(status_, absl::OkStatus())};
}

bool CallState::done() const {
  scheduler::MutexLock lock(mu_);
  return ended_;
}

void CallState::SetCallback(Callback cb) {
  scheduler::MutexLock lock(mu_);
  if (!ended_) {
    callback_ = std::move(cb);
    return;
  }
  ReplyNode* reply = std::exchange(reply_, nullptr);
  absl::Status status = std::exchange(status_, absl::OkStatus());
  lock.Unlock();
  cb(reply, std::move(status));
}

void CallState::Unref() {
  if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    std::shared_ptr<BoundaryCore> core = core_;
    {
      scheduler::MutexLock lock(mu_);
      if (reply_ != nullptr) Free(std::exchange(reply_, nullptr));
    }
    core->Release(this);
  }
}

// -- BoundaryCore --------------------------------------------------------------

bool BoundaryCore::TryTake() {
  uint32_t cur = in_flight_.load(std::memory_order_relaxed);
  while (cur < capacity_) {
    if (in_flight_.compare_exchange_weak(cur, cur + 1,
                                         std::memory_order_seq_cst,
                                         std::memory_order_relaxed)) {
      return true;
    }
  }
  return false;
}

absl::StatusOr<CallState*> BoundaryCore::Admit(bool wait, int64_t deadline_ns) {
  bool have = TryTake();
  while (!have) {
    if (closed_.load(std::memory_order_acquire)) break;
    if (!wait) {
      rejected.fetch_add(1, std::memory_order_relaxed);
      return absl::ResourceExhaustedError(absl::StrCat(
          "the boundary has ", capacity_,
          " calls in flight (boundary_capacity); retry later"));
    }
    bool timed_out = false;
    {
      scheduler::MutexLock lock(mu_);
      waiting_.fetch_add(1, std::memory_order_seq_cst);
      // Re-checked after announcing the wait, under mu_: a FreeCapacity
      // from here on sees waiting_ and notifies under mu_, i.e. after we
      // sleep; Close notifies under mu_ too.
      if (in_flight_.load(std::memory_order_seq_cst) >= capacity_ &&
          !closed_.load(std::memory_order_relaxed)) {
        if (deadline_ns == scheduler::kNoDeadline) {
          lock.Wait(room_);
        } else {
          timed_out =
              !lock.WaitUntil(room_, scheduler::SteadyAt(deadline_ns));
        }
      }
      waiting_.fetch_sub(1, std::memory_order_relaxed);
    }
    have = TryTake();
    if (!have && timed_out && !closed_.load(std::memory_order_acquire)) {
      rejected.fetch_add(1, std::memory_order_relaxed);
      return absl::DeadlineExceededError(
          "Boundary call: no capacity before the deadline");
    }
  }
  if (closed_.load(std::memory_order_acquire)) {
    if (have) FreeCapacity();
    return absl::UnavailableError("the actor system is shutting down");
  }
  calls.fetch_add(1, std::memory_order_relaxed);
  auto* st = new CallState(shared_from_this());
  // A stripe per calling thread (round robin): concurrent callers link and
  // unlink their calls under different locks, on different cache lines.
  static std::atomic<uint32_t> next_stripe{0};
  thread_local const uint32_t my_stripe =
      next_stripe.fetch_add(1, std::memory_order_relaxed) % kStripes;
  st->stripe = my_stripe;
  Stripe& stripe = stripes_[my_stripe];
  scheduler::MutexLock lock(stripe.mu);
  st->next = stripe.live;
  if (stripe.live != nullptr) stripe.live->prev = st;
  stripe.live = st;
  return st;
}

void BoundaryCore::Release(CallState* st) {
  {
    Stripe& stripe = stripes_[st->stripe];
    scheduler::MutexLock lock(stripe.mu);
    if (st->prev != nullptr) {
      st->prev->next = st->next;
    } else {
      stripe.live = st->next;
    }
    if (st->next != nullptr) st->next->prev = st->prev;
  }
  delete st;
}

void BoundaryCore::FreeCapacity() {
  in_flight_.fetch_sub(1, std::memory_order_seq_cst);
  if (waiting_.load(std::memory_order_seq_cst) > 0) {
    scheduler::MutexLock lock(mu_);
    room_.notify_one();
  }
}

void BoundaryCore::OnRequestDone(CallState* st) {
  {
    scheduler::MutexLock lock(stripes_[st->stripe].mu);
    st->request_ref = false;
  }
  st->PartDone();
  st->Unref();
}

void BoundaryCore::Close() {
  scheduler::MutexLock lock(mu_);
  closed_.store(true, std::memory_order_release);
  room_.notify_all();
}

void BoundaryCore::FailAll(const absl::Status& status) {
  std::vector<CallState*> pending, requests;
  for (Stripe& stripe : stripes_) {
    scheduler::MutexLock lock(stripe.mu);
    for (CallState* st = stripe.live; st != nullptr; st = st->next) {
      // Keep it alive while we work outside the lock; skip one whose last
      // reference is gone (it waits for the stripe's mutex in Release).
      if (!st->TryRef()) continue;
      pending.push_back(st);
      if (st->request_ref) {
        st->request_ref = false;
        requests.push_back(st);
      }
    }
  }
  // A fresh status per call (see ShardRuntime::DeadLetter).
  for (CallState* st : pending) st->Fail(absl::Status(status.code(), status.message()));
  // No shard runs any more: nobody else will drop these.
  for (CallState* st : requests) {
    st->PartDone();
    st->Unref();
  }
  for (CallState* st : pending) st->Unref();
}

void CompleteBoundaryCall(const ReplyTo& to, ReplyNode* reply) {
  CallState* st = StateOf(to);
  st->Complete(reply);
  st->core()->OnRequestDone(st);
}

}  // namespace internal

// -- Boundary --------------------------------------------------------------------

Boundary::~Boundary() = default;

bool Boundary::Enter() {
  entered_.fetch_add(1, std::memory_order_seq_cst);
  if (closing_.load(std::memory_order_seq_cst)) {
    Leave();
    return false;
  }
  return true;
}

void Boundary::Leave() { entered_.fetch_sub(1, std::memory_order_release); }

void Boundary::Close() {
  closing_.store(true, std::memory_order_seq_cst);
  core_->Close();  // wakes callers waiting for capacity
  while (entered_.load(std::memory_order_acquire) != 0) {
    std::this_thread::yield();  // each is inside a short, non-blocking send
  }
}

void Boundary::FailAll() {
  core_->FailAll(absl::UnavailableError("the actor system shut down"));
  scheduler::MutexLock lock(names_mu_);
  names_.clear();
  system_ = nullptr;
}

absl::Status Boundary::CheckRef(const ActorSystem* ref_system) const {
  if (ref_system == nullptr) {
    return absl::FailedPreconditionError("Boundary call on an empty ActorRef");
  }
  if (ref_system != system_) {
    return absl::InvalidArgumentError(
        "the ActorRef belongs to another ActorSystem");
  }
  if (internal::ShardRuntime::Current() != nullptr) {
    return absl::FailedPreconditionError(
        "Boundary calls come from threads outside the system; inside an "
        "actor, use Ask");
  }
  return absl::OkStatus();
}

absl::Status Boundary::Send(internal::CallState* st, uint32_t shard,
                            internal::MessageNode* node) {
  const uint64_t p = reinterpret_cast<uint64_t>(st);
  node->reply_to = internal::ReplyTo{internal::ReplyTo::kBoundary,
                                     static_cast<uint32_t>(p),
                                     static_cast<uint32_t>(p >> 32)};
  node->set_cancel(st->cancel_flag());
  st->Ref();
  st->request_ref = true;
  absl::Status s = system_->Deliver(shard, node);
  if (!s.ok()) core_->OnRequestDone(st);
  return s;
}

absl::StatusOr<std::string> Boundary::CallBytes(absl::string_view name,
                                                absl::string_view type,
                                                absl::string_view bytes,
                                                absl::Duration timeout) {
  DynamicCall call;
  {
    scheduler::MutexLock lock(names_mu_);
    if (closing_.load(std::memory_order_acquire)) {
      return absl::UnavailableError("the actor system is shutting down");
    }
    auto it = names_.find(name);
    if (it == names_.end()) {
      return absl::NotFoundError(absl::StrCat("no actor named \"", name, "\""));
    }
    auto fn = it->second.dynamic.find(type);
    if (fn == it->second.dynamic.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "actor \"", name, "\" does not accept message type \"", type, "\""));
    }
    call = fn->second;
  }
  return call(bytes, timeout);
}

BoundaryStats Boundary::Stats() const {
  BoundaryStats s;
  s.calls = core_->calls.load(std::memory_order_relaxed);
  s.rejected = core_->rejected.load(std::memory_order_relaxed);
  s.timed_out = core_->timed_out.load(std::memory_order_relaxed);
  s.cancelled = core_->cancelled.load(std::memory_order_relaxed);
  s.late_replies = core_->late_replies.load(std::memory_order_relaxed);
  s.in_flight = core_->in_flight();
  s.caller_sleeps = core_->caller_sleeps.load(std::memory_order_relaxed);
  return s;
}

}  // namespace ringactor
