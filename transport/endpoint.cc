#include "transport/endpoint.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <sched.h>

#include <cerrno>
#include <chrono>
#include <cstddef>

#include "absl/strings/str_cat.h"
#include "io/status.h"
#include "transport/mesh.h"

namespace ringactor::transport {
namespace {

constexpr uint32_t kDoorbellTag = 0;
// Times a rejected direct word is re-sent before it counts as lost.
constexpr int kWordRetries = 3;

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

}  // namespace

// A doorbell from this shard to one target. Sent with CQE_SKIP_SUCCESS, so
// the only CQE it ever gets is a failure, and that re-rings.
class Endpoint::DoorbellOp final : public io::Completion {
 public:
  DoorbellOp(Endpoint* ep, uint32_t target) : ep_(ep), target_(target) {}
  void OnComplete(int32_t res, uint32_t) noexcept override {
    if (res >= 0) return;
    ep_->stats_.doorbell_failures.Add(1);
    ep_->RingDoorbell(target_);
  }

 private:
  Endpoint* const ep_;
  const uint32_t target_;
};

// One direct word in flight; returns to the pool when its CQE arrives.
class Endpoint::WordOp final : public io::Completion {
 public:
  explicit WordOp(Endpoint* ep) : ep_(ep) {}
  void OnComplete(int32_t res, uint32_t) noexcept override {
    if (res < 0) {
      ep_->stats_.word_failures.Add(1);
      if (++attempts_ <= kWordRetries && ep_->PrepareWord(this).ok()) return;
      ep_->stats_.words_lost.Add(1);
    }
    ep_->free_word_ops_.push_back(this);
  }
  void Set(uint32_t to, uint32_t tag, uint64_t value) {
    to_ = to;
    tag_ = tag;
    value_ = value;
    attempts_ = 0;
  }
  uint32_t to() const { return to_; }
  uint32_t tag() const { return tag_; }
  uint64_t value() const { return value_; }

 private:
  Endpoint* const ep_;
  uint32_t to_ = 0;
  uint32_t tag_ = 0;
  uint64_t value_ = 0;
  int attempts_ = 0;
};

// The eventfd read a shard keeps armed in ForeignWake::kEventfd mode. Its
// buffer is handed to the kernel, so Detach cancels it and waits for the CQE.
class Endpoint::EventfdReadOp final : public io::Completion {
 public:
  explicit EventfdReadOp(Endpoint* ep) : ep_(ep) {}
  void OnComplete(int32_t res, uint32_t) noexcept override {
    armed_ = false;
    if (!stopping_) (void)ep_->ArmEventfd();
  }
  uint64_t* buffer() { return &buffer_; }
  bool armed() const { return armed_; }
  void set_armed() { armed_ = true; }
  void set_stopping() { stopping_ = true; }
  void Reset() { stopping_ = false; }

 private:
  Endpoint* const ep_;
  uint64_t buffer_ = 0;
  bool armed_ = false;
  bool stopping_ = false;
};

Endpoint::Endpoint(Mesh& mesh, ShardId id)
    : mesh_(mesh),
      id_(id),
      idle_spin_(mesh.options().idle_spin),
      inbox_(mesh.options().inbox_capacity) {
  const uint32_t n = mesh.num_shards();
  out_.resize(n);
  in_.resize(n);
  for (uint32_t i = 0; i < n; ++i) {
    out_[i].lane = &mesh.lane(id.value(), i);
    in_[i] = &mesh.lane(i, id.value());
    doorbells_.push_back(std::make_unique<DoorbellOp>(this, i));
  }
  is_dirty_.assign(n, 0);
  blocked_.assign(n, 0);
  dirty_.reserve(n);
  for (uint32_t i = 0; i < mesh.options().word_slots; ++i) {
    word_ops_.push_back(std::make_unique<WordOp>(this));
    free_word_ops_.push_back(word_ops_.back().get());
  }
}

Endpoint::~Endpoint() {
  // By the Mesh contract no thread can reach this endpoint any more.
  const int efd = wake_eventfd_.load(std::memory_order_acquire);
  if (efd >= 0) close(efd);
}

absl::Status Endpoint::Attach(io::Ring* ring) {
  if (ring == nullptr || !ring->OnOwnerThread()) {
    return absl::FailedPreconditionError(
        "Endpoint::Attach must run on the thread that owns the ring");
  }
  if (ring_ != nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("shard ", id_.value(), " is already attached"));
  }
  const ForeignWake mode = mesh_.options().foreign_wake;
  const bool ringless = ring->features().send_msg_ring_without_ring;
  if (mode == ForeignWake::kSendMsgRing && !ringless) {
    return absl::UnimplementedError(
        "ForeignWake::kSendMsgRing needs IORING_REGISTER_SEND_MSG_RING "
        "(Linux 6.13+); use kAuto or kEventfd");
  }
  ring_ = ring;
  if (mode == ForeignWake::kEventfd ||
      (mode == ForeignWake::kAuto && !ringless)) {
    // The eventfd lives as long as the endpoint, not the attachment: a
    // foreign waker may write to it at any moment, so it is never closed
    // while the mesh can still be reached (see ~Endpoint).
    if (wake_eventfd_.load(std::memory_order_acquire) < 0) {
      const int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
      if (efd < 0) {
        ring_ = nullptr;
        return io::ErrnoToStatus(errno, "eventfd");
      }
      wake_eventfd_.store(efd, std::memory_order_release);
    }
    if (eventfd_read_ == nullptr) {
      eventfd_read_ = std::make_unique<EventfdReadOp>(this);
    }
    eventfd_read_->Reset();
    absl::Status s = ArmEventfd();
    if (s.ok()) s = ring_->Submit();
    if (!s.ok()) {
      ring_ = nullptr;
      return s;
    }
  }
  ring_fd_.store(ring->fd(), std::memory_order_release);
  return absl::OkStatus();
}

absl::Status Endpoint::ArmEventfd() {
  absl::Status s = ring_->PrepareRead(
      wake_eventfd_.load(std::memory_order_relaxed), eventfd_read_->buffer(),
      sizeof(uint64_t), 0, eventfd_read_.get());
  if (s.ok()) eventfd_read_->set_armed();
  return s;
}

absl::Status Endpoint::Detach() {
  if (ring_ == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("shard ", id_.value(), " is not attached"));
  }
  if (!ring_->OnOwnerThread()) {
    return absl::FailedPreconditionError(
        "Endpoint::Detach must run on the ring's owning thread");
  }
  ring_fd_.store(-1, std::memory_order_release);
  absl::Status status = Flush();
  if (eventfd_read_ != nullptr && eventfd_read_->armed()) {
    eventfd_read_->set_stopping();
    absl::Status s = ring_->PrepareCancel(eventfd_read_.get(), nullptr);
    if (status.ok()) status = s;
  }
  // Wait for the cancelled read and every in-flight word to post its CQE.
  // Cancellation completes promptly; the deadline only guards against a
  // kernel that never answers.
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while ((eventfd_read_ != nullptr && eventfd_read_->armed()) ||
         free_word_ops_.size() != word_ops_.size()) {
    if (absl::Now() > deadline) {
      status = absl::DeadlineExceededError(absl::StrCat(
          "shard ", id_.value(), ": in-flight operations did not complete"));
      break;
    }
    absl::Status s = ring_->SubmitAndWait(absl::Milliseconds(100));
    if (!s.ok() && status.ok()) status = s;
    ReapRing();
  }
  ring_ = nullptr;
  return status;
}

absl::Status Endpoint::SendSlow(ShardId to, Envelope e) {
  const uint32_t t = to.value();
  if (t >= out_.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "no shard ", t, " in a mesh of ", out_.size()));
  }
  // The lane is full. Publish what we have so the consumer can drain it, then
  // look once more; the caller retries after polling if it is still full.
  Lane& lane = *out_[t].lane;
  if (lane.HasUnpublished()) {
    absl::Status s = Flush();
    if (!s.ok()) return s;
  }
  if (lane.TryPush(e)) {
    if (!is_dirty_[t]) MarkDirty(t);
    return absl::OkStatus();
  }
  NoteFull(t);
  return absl::ResourceExhaustedError(absl::StrCat(
      "lane ", id_.value(), "->", t, " is full (", lane.capacity(),
      " envelopes)"));
}

void Endpoint::NoteFull(uint32_t t) {
  // If the caller parks, Park() asks the consumer for a room-again doorbell;
  // a caller that keeps retrying costs the consumer nothing.
  blocked_[t] = 1;
  any_blocked_ = true;
  stats_.backpressure.Add(1);
}

absl::Status Endpoint::SendUrgent(ShardId to, Envelope e) {
  const uint32_t t = to.value();
  if (t >= out_.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("no shard ", t, " in a mesh of ", out_.size()));
  }
  Endpoint& target = *out_[t].peer;
  if (!target.inbox_.TryPush(e)) {
    stats_.backpressure.Add(1);
    return absl::ResourceExhaustedError(
        absl::StrCat("the inbox of shard ", t, " is full (",
                     target.inbox_.capacity(), " envelopes)"));
  }
  stats_.urgent_sent.Add(1);
  // The push's seq_cst store, then TakeSleeping's seq_cst load: the
  // doorbell protocol (see Park). A sleeping target's doorbell is submitted
  // now, not with this turn's flush. Queued, the envelope is the target's
  // either way: a failed submit leaves the SQE for the next Flush, which
  // reports it.
  if (TakeSleeping(target)) {
    RingDoorbell(t);
    ring_->Submit().IgnoreError();
  }
  return absl::OkStatus();
}

absl::Status Endpoint::SendWord(ShardId to, uint32_t tag, uint64_t value) {
  if (to.value() >= out_.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "no shard ", to.value(), " in a mesh of ", out_.size()));
  }
  if (tag < kFirstUserWordTag || tag > kLastUserWordTag) {
    return absl::InvalidArgumentError(
        absl::StrCat("word tag ", tag, " outside [", kFirstUserWordTag, ", ",
                     kLastUserWordTag, "]"));
  }
  if (free_word_ops_.empty()) {
    stats_.backpressure.Add(1);
    return absl::ResourceExhaustedError(
        absl::StrCat("shard ", id_.value(), " has ", word_ops_.size(),
                     " direct words in flight"));
  }
  WordOp* op = free_word_ops_.back();
  op->Set(to.value(), tag, value);
  absl::Status s = PrepareWord(op);
  if (!s.ok()) return s;
  free_word_ops_.pop_back();
  stats_.words_sent.Add(1);
  return absl::OkStatus();
}

absl::Status Endpoint::PrepareWord(WordOp* op) {
  const int fd = out_[op->to()].peer->ring_fd_.load(std::memory_order_acquire);
  if (fd < 0) {
    return absl::UnavailableError(
        absl::StrCat("shard ", op->to(), " is not attached"));
  }
  return ring_->PrepareSendWord(fd, op->tag(), op->value(), op,
                                /*skip_success=*/false);
}

void Endpoint::RingDoorbell(uint32_t target) {
  int fd = out_[target].peer->ring_fd_.load(std::memory_order_acquire);
  if (fd < 0) return;  // detached: nobody sleeps there
  if (fail_doorbells_for_test_ > 0) {
    --fail_doorbells_for_test_;
    fd = -1;  // the kernel fails the SQE with -EBADF
  }
  if (!ring_->PrepareSendWord(fd, kDoorbellTag, id_.value(),
                              doorbells_[target].get(), /*skip_success=*/true)
           .ok()) {
    doorbell_retry_.push_back(target);  // SQ full: ring at the next Flush
    return;
  }
  stats_.doorbells_sent.Add(1);
}

Endpoint::Nudged Endpoint::Nudge(ShardId to) {
  std::atomic<bool>& requested = out_[to.value()].peer->wake_requested_;
  if (requested.load(std::memory_order_seq_cst)) return Nudged::kPending;
  requested.store(true, std::memory_order_seq_cst);
  return WakeShard(to.value()) ? Nudged::kRang : Nudged::kPosted;
}

bool Endpoint::WakeShard(uint32_t t) {
  if (TakeSleeping(*out_[t].peer)) {
    RingDoorbell(t);
    return true;
  }
  stats_.doorbells_suppressed.Add(1);
  return false;
}

absl::Status Endpoint::Flush() {
  if (!doorbell_retry_.empty()) {
    std::vector<uint32_t> retry;
    retry.swap(doorbell_retry_);
    for (uint32_t t : retry) RingDoorbell(t);
  }
  if (!dirty_.empty()) {
    uint64_t published = 0;
    for (uint32_t t : dirty_) published += out_[t].lane->Publish();
    stats_.enqueued.Add(published);
    // Publish (a seq_cst store) then this seq_cst load, against Park()'s
    // seq_cst store of `sleeping` then seq_cst loads of the tails: in the
    // single total order either the target sees our tail or we see its flag.
    for (uint32_t t : dirty_) {
      is_dirty_[t] = 0;
      WakeShard(t);
    }
    dirty_.clear();
  }
  if (ring_->pending_sqes() == 0) return absl::OkStatus();
  return ring_->Submit();
}

void Endpoint::OnWord(uint32_t tag, uint64_t value) noexcept {
  if (tag == kDoorbellTag) return;  // its only job was to wake us
  if (receiver_ == nullptr) {
    stats_.words_lost.Add(1);  // arrived while detaching
    return;
  }
  stats_.words_received.Add(1);
  receiver_->OnWord(tag, value);
}

size_t Endpoint::ReapRing() {
  const size_t n = ring_->Reap(this);
  stats_.cq_overflows.Set(ring_->cq_overflow_events());
  stats_.cq_dropped.Set(ring_->cq_dropped());
  stats_.stale_taskrun_clears.Set(ring_->stale_taskrun_clears());
  return n;
}

size_t Endpoint::DrainInbox(Receiver& r, size_t budget) {
  // Almost every poll finds the inbox empty: look before anything else.
  if (budget == 0 || !inbox_.HasWork()) return 0;
  constexpr size_t kBatch = 64;
  // Raw storage (envelopes are implicit-lifetime, so assigning creates
  // them): `Envelope batch[64]` value-initialized 1 KB of stack, a
  // `rep stos`, on every poll: ~60% of this function's samples in a
  // ping-pong profile.
  alignas(Envelope) std::byte raw[kBatch * sizeof(Envelope)];
  Envelope* const batch = reinterpret_cast<Envelope*>(raw);
  size_t total = 0;
  while (total < budget) {
    size_t k = 0;
    inbox_.Drain(std::min(kBatch, budget - total),
                 [&](const Envelope& e) { batch[k++] = e; });
    if (k == 0) break;
    inbox_recent_ = true;
    r.OnEnvelopes(kForeignShard, batch, k);
    total += k;
  }
  return total;
}

size_t Endpoint::Poll(Receiver& r, size_t budget) {
  receiver_ = &r;
  // A busy shard may not enter the kernel for a long time; direct words
  // wait for that (see Ring::RunDeferredWork). Every kTurnsPerEnter lane
  // polls, enter once.
  if (budget != 0 && ++turns_since_enter_ >= kTurnsPerEnter) {
    turns_since_enter_ = 0;
    ring_->RunDeferredWork();
  }
  // A consumed wake request counts as handled work, so the caller's loop
  // re-checks whatever the waker wanted it to notice before parking again.
  size_t handled = 0;
  // seq_cst: a nudger that finds the request still pending skips its own
  // (see Nudge), so this exchange must follow its load in the total order.
  if (wake_requested_.load(std::memory_order_relaxed) &&
      wake_requested_.exchange(false, std::memory_order_seq_cst)) {
    handled = 1;
  }
  if (ring_->HasPendingWork()) handled += ReapRing();
  size_t envelopes = DrainInbox(r, budget);
  // Urgent work from the inbox runs before any lane envelope is taken, but
  // never two polls in a row: then it ends the lane drain after one chunk,
  // so lanes progress under any hot traffic.
  bool urgent = false;
  bool cut = budget != 0 && r.TakeUrgent();
  if (cut && !lanes_skipped_) urgent = true;
  lanes_skipped_ = urgent;
  const uint32_t n = static_cast<uint32_t>(in_.size());
  for (uint32_t k = 0; k < n && envelopes < budget && !urgent; ++k) {
    const uint32_t src = (next_source_ + k) % n;
    Lane& lane = *in_[src];
    size_t drained = 0;
    while (envelopes < budget) {
      const size_t got = lane.Drain(
          std::min(kLaneChunk, budget - envelopes),
          [&](const Envelope* e, size_t count) {
            r.OnEnvelopes(ShardId(src), e, count);
          });
      if (got == 0) break;
      drained += got;
      envelopes += got;
      // Returns at once when the inbox is empty or the budget spent.
      envelopes += DrainInbox(r, budget - envelopes);
      // Only after a chunk was taken: lanes always make progress.
      if (r.TakeUrgent() || cut) {
        urgent = true;
        break;
      }
      if (got < kLaneChunk) break;
    }
    // A producer that met this lane full may be parked, or about to park:
    // post a wake request (which its pre-sleep re-check sees) and ring it.
    if (drained != 0 && lane.TakeProducerWaiting()) {
      Nudge(ShardId(src));
    }
  }
  // The caller runs what it was handed next; urgency not yet acted on is
  // served by that.
  if (!urgent) (void)r.TakeUrgent();
  if (budget != 0) next_source_ = (next_source_ + 1) % n;
  if (envelopes != 0) stats_.dequeued.Add(envelopes);
  receiver_ = nullptr;
  return handled + envelopes;
}

bool Endpoint::MarkFullLanesWaiting() {
  if (!any_blocked_) return false;
  bool room = false, still_blocked = false;
  for (uint32_t t = 0; t < out_.size(); ++t) {
    if (!blocked_[t]) continue;
    Lane& lane = *out_[t].lane;
    if (lane.IsFull()) {
      lane.MarkProducerWaiting();
      if (lane.IsFull()) {
        still_blocked = true;
        continue;
      }
    }
    blocked_[t] = 0;  // room again: the caller can retry its send
    room = true;
  }
  any_blocked_ = still_blocked;
  return room;
}

bool Endpoint::HasWork() const {
  // Cheapest and likeliest first: lane tails, then the inbox, then the ring.
  for (const Lane* lane : in_) {
    if (lane->HasPublished()) return true;
  }
  return inbox_.HasWork() ||
         wake_requested_.load(std::memory_order_seq_cst) ||
         ring_->HasPendingWork();
}

absl::Status Endpoint::Park(absl::Duration max_sleep,
                            std::chrono::steady_clock::time_point deadline) {
  absl::Status s = Flush();
  if (!s.ok()) return s;
  // A full outgoing lane is a reason to be woken: ask its consumer for a
  // room-again doorbell, then look once more (see Lane::MarkProducerWaiting).
  // Done before spinning so that room freed during the spin ends it too (the
  // consumer's wake request is seen by HasWork()).
  if (MarkFullLanesWaiting()) return absl::OkStatus();  // room appeared
  if (HasWork()) return absl::OkStatus();
  using Clock = std::chrono::steady_clock;
  // The clock is read here, not by the caller: a Park that finds work at
  // once (the common case under load) costs no clock read for its bound.
  const Clock::time_point start = Clock::now();
  Clock::duration left = Clock::duration::max();  // until the wake-up bound
  if (deadline != Clock::time_point::max()) {
    left = std::max(deadline - start, Clock::duration::zero());
  }
  if (max_sleep != absl::InfiniteDuration()) {
    left = std::min<Clock::duration>(
        left,
        absl::ToChronoNanoseconds(std::max(max_sleep, absl::ZeroDuration())));
  }
  const Clock::duration spin =
      std::min<Clock::duration>(absl::ToChronoNanoseconds(idle_spin_), left);
  Clock::time_point now = start;
  if (spin > Clock::duration::zero()) {
    const Clock::time_point until = start + spin;
    // Past the first kSpinBeforeYield the poll gives the CPU to any other
    // runnable thread between looks (see kSpinBeforeYield); at once when
    // the inbox had work since the last park: threads outside the system
    // are then in play, and a caller waiting for its reply (polling, see
    // Boundary) needs this CPU more than the poll does.
    const Clock::time_point polite =
        inbox_recent_ ? start : start + kSpinBeforeYield;
    inbox_recent_ = false;
    Clock::time_point last_enter = start;
    for (uint32_t i = 1;; ++i) {
      if (HasWork()) return absl::OkStatus();
      CpuRelax();
      if ((i & 31) != 0) continue;
      now = Clock::now();
      if (now >= until) break;
      if (now >= polite) {
        sched_yield();
        stats_.idle_yields.Add(1);
      }
      // Direct words are invisible to HasWork until we enter the kernel.
      if (now - last_enter >= kSpinEnterEvery) {
        last_enter = now;
        ring_->RunDeferredWork();
      }
    }
  }
  // seq_cst store, then HasWork()'s seq_cst loads: pairs with Flush() and
  // WakeFromForeign(), which publish with seq_cst stores and then load this.
  sleeping_.store(true, std::memory_order_seq_cst);
  if (HasWork()) {
    sleeping_.store(false, std::memory_order_relaxed);
    return absl::OkStatus();
  }
  stats_.sleeps.Add(1);
  absl::Duration timeout = absl::InfiniteDuration();
  if (left != Clock::duration::max()) {
    timeout = absl::FromChrono(std::max<Clock::duration>(
        left - (now - start), Clock::duration::zero()));
  }
  s = ring_->SubmitAndWait(timeout);
  sleeping_.store(false, std::memory_order_relaxed);
  return s;
}

absl::Status Endpoint::RequestWake() {
  wake_requested_.store(true, std::memory_order_seq_cst);
  return WakeFromForeign();
}

absl::Status Endpoint::WakeFromForeign() {
  // The caller's seq_cst store (inbox cell or wake request) precedes this
  // seq_cst load; see Park().
  if (!TakeSleeping(*this)) return absl::OkStatus();
  foreign_stats_.foreign_wakes.fetch_add(1, std::memory_order_relaxed);
  absl::Status s;
  // The test hook aims the wake at an invalid fd: the kernel refuses it.
  const bool fail =
      fail_foreign_wake_for_test_.load(std::memory_order_relaxed) &&
      fail_foreign_wake_for_test_.exchange(false);
  const int efd = wake_eventfd_.load(std::memory_order_acquire);
  if (efd >= 0) {
    const uint64_t one = 1;
    if (write(fail ? -1 : efd, &one, sizeof(one)) != sizeof(one) &&
        errno != EAGAIN) {
      s = io::ErrnoToStatus(errno, "write(eventfd)");
    }
  } else {
    const int fd = ring_fd_.load(std::memory_order_acquire);
    if (fd < 0) return absl::OkStatus();  // not attached: it will poll first
    s = io::Ring::SendWordFromAnyThread(fail ? -1 : fd, kDoorbellTag, 0);
  }
  // The wake did not go out: hand the duty to the next producer (its send
  // or wake finds `sleeping` again and rings), and count it.
  if (!s.ok()) {
    foreign_stats_.foreign_wake_failures.fetch_add(1,
                                                   std::memory_order_relaxed);
    sleeping_.store(true, std::memory_order_release);
  }
  return s;
}

TransportStats Endpoint::Stats() const {
  TransportStats t;
  t.enqueued = stats_.enqueued.Load();
  t.urgent_sent = stats_.urgent_sent.Load();
  t.dequeued = stats_.dequeued.Load();
  t.backpressure = stats_.backpressure.Load();
  t.doorbells_sent = stats_.doorbells_sent.Load();
  t.doorbells_suppressed = stats_.doorbells_suppressed.Load();
  t.doorbell_failures = stats_.doorbell_failures.Load();
  t.words_sent = stats_.words_sent.Load();
  t.words_received = stats_.words_received.Load();
  t.word_failures = stats_.word_failures.Load();
  t.words_lost = stats_.words_lost.Load();
  t.sleeps = stats_.sleeps.Load();
  t.idle_yields = stats_.idle_yields.Load();
  t.cq_overflows = stats_.cq_overflows.Load();
  t.cq_dropped = stats_.cq_dropped.Load();
  t.stale_taskrun_clears = stats_.stale_taskrun_clears.Load();
  t.inbox_enqueued =
      foreign_stats_.inbox_enqueued.load(std::memory_order_relaxed);
  t.inbox_backpressure =
      foreign_stats_.inbox_backpressure.load(std::memory_order_relaxed);
  t.foreign_wakes =
      foreign_stats_.foreign_wakes.load(std::memory_order_relaxed);
  t.foreign_wake_failures =
      foreign_stats_.foreign_wake_failures.load(std::memory_order_relaxed);
  return t;
}

}  // namespace ringactor::transport
