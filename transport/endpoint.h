// File: transport/endpoint.h

#ifndef RINGACTOR_TRANSPORT_ENDPOINT_H_
#define RINGACTOR_TRANSPORT_ENDPOINT_H_

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/base/optimization.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "io/ring.h"
#include "transport/envelope.h"
#include "transport/inbox.h"
#include "transport/lane.h"
#include "transport/options.h"
#include "transport/shard_id.h"
#include "transport/stats.h"

namespace ringactor::transport {

class Mesh;

// Receiver
//
// What a shard's loop hands to `Endpoint::Poll`: it is given envelopes in
// batches (per source, in FIFO order) and direct words.
class Receiver {
 public:
  // `from` is the sending shard, or kForeignShard for the foreign inbox.
  virtual void OnEnvelopes(ShardId from, const Envelope* envelopes,
                           size_t count) = 0;
  virtual void OnWord(uint32_t tag, uint64_t value) = 0;
  // True (once) when envelopes handed over since the last call carry work
  // that should run before more lane envelopes are taken (a hot message).
  // Poll asks between lane chunks and then ends its lane drain; it asks once
  // more at its end and discards the answer (its caller runs next).
  virtual bool TakeUrgent() { return false; }

 protected:
  ~Receiver() = default;
};

// Endpoint
//
// One shard's end of a Mesh: its outgoing lanes (this shard produces), its
// incoming lanes (this shard consumes), its foreign inbox, and the doorbell
// protocol that lets it sleep in `io_uring_enter`.
//
// Doorbell protocol. Before it blocks, the shard stores `sleeping = true`
// and re-checks every lane and its inbox. A producer publishes its lane and
// then loads the target's flag. All four operations are seq_cst (on x86 the
// two stores are one locked instruction each, the loads are plain), so in
// their single total order one side always sees the other: no fences, which
// ThreadSanitizer could not check. Only a producer that flips the flag from
// true to false rings, with one
// MSG_RING SQE on its own ring, flushed with its next batched submit. So a
// busy target costs producers no syscall, a sleeping one costs exactly one
// doorbell per sleep, and no published envelope can be
// missed by a target that goes to sleep. A doorbell whose SQE fails is
// re-rung from its error CQE.
//
// Shard-affine: call only on the owning shard's thread, after Attach() and
// before Detach(). (Foreign threads use Mesh::Inject / Mesh::Wake.)
class Endpoint final : private io::WordSink {
 public:
  // Word tags 0 is the doorbell; user tags are in [kFirstUserWordTag,
  // kLastUserWordTag].
  static constexpr uint32_t kFirstUserWordTag = 1;
  static constexpr uint32_t kLastUserWordTag = io::Ring::kMaxWordTag - 1;

  Endpoint(Mesh& mesh, ShardId id);
  ~Endpoint();
  Endpoint(const Endpoint&) = delete;
  Endpoint& operator=(const Endpoint&) = delete;

  ShardId id() const { return id_; }
  // True while the owner sleeps in the kernel (or is about to). A hint:
  // it may change at once. Thread-safe.
  bool asleep() const { return sleeping_.load(std::memory_order_relaxed); }

  // Endpoint::Attach()
  //
  // Binds the endpoint to `ring`, which the calling thread must own, and
  // makes the shard reachable by doorbells. FailedPrecondition when called
  // off the ring's thread or twice; Unimplemented when ForeignWake::
  // kSendMsgRing was asked for and the kernel lacks it.
  absl::Status Attach(io::Ring* ring);

  // Endpoint::Detach()
  //
  // Stops being a doorbell target, cancels the armed eventfd read and waits
  // for every in-flight operation's CQE (invariant 4), then unbinds the ring.
  // Stop every producer first: a MSG_RING into a ring whose owner thread has
  // exited is accepted by the kernel and lost.
  absl::Status Detach();

  // Endpoint::Send()
  //
  // Queues `e` for shard `to` (which may be this shard). The envelope becomes
  // visible at the next Flush()/Park(). ResourceExhausted when the lane is
  // full even after publishing it: the caller keeps the envelope and retries
  // later; nothing is dropped. The shard may Park() meanwhile: the consumer
  // rings it as soon as it frees room in that lane.
  absl::Status Send(ShardId to, Envelope e) {
    const uint32_t t = to.value();
    if (ABSL_PREDICT_TRUE(t < out_.size() && out_[t].lane->TryPush(e))) {
      if (!is_dirty_[t]) MarkDirty(t);
      return absl::OkStatus();
    }
    return SendSlow(to, e);
  }

  // Endpoint::TryQueue()
  //
  // Send() for a caller that flushes soon anyway (a shard moving its backlog
  // at the end of a loop turn): on a full lane it neither publishes nor
  // builds a Status, it returns false (counted as backpressure; a Park()
  // then asks the consumer for a room-again doorbell). `to` must exist.
  bool TryQueue(ShardId to, Envelope e) {
    const uint32_t t = to.value();
    if (ABSL_PREDICT_TRUE(out_[t].lane->TryPush(e))) {
      if (!is_dirty_[t]) MarkDirty(t);
      return true;
    }
    NoteFull(t);
    return false;
  }

  // Endpoint::SendUrgent()
  //
  // Puts `e` in shard `to`'s inbox, which its Poll drains before the lanes
  // and a polling shard sees at once; if `to` sleeps, its doorbell (one
  // MSG_RING) is submitted now, not with this turn's flush. For traffic that
  // must not wait for the flush or queue behind a lane (hot messages and
  // their replies). Mesh::Inject does the same for foreign threads, but
  // reaches the target through the Mesh and counts in the target's shared
  // counters; here the target is one pointer beside the lane to it, and the
  // send is counted by the sender (`urgent_sent`). Behind a long backlog
  // each line saved is a cache miss saved (~0.3 us apiece on these VMs; see
  // docs/benchmarks.md#hot_latency). ResourceExhausted when the inbox is
  // full (nothing was queued: the caller keeps `e`); InvalidArgument for an
  // unknown shard; otherwise OK, and `e` belongs to the target.
  absl::Status SendUrgent(ShardId to, Envelope e);

  // Endpoint::PrefetchUrgent()
  //
  // Starts fetching what a SendUrgent to `to` touches on the target's side
  // (its inbox's fields, tail and next cell, its sleep flag), for a caller
  // that knows an urgent send is coming and has work to do first: building
  // the hot message, running the handler whose reply is hot. Urgent traffic
  // is rare next to lane traffic, so after a burst has gone through the
  // cache these lines are cold, and SendUrgent met them one miss after another
  // (~0.6 us against ~0.17 us, docs/benchmarks.md#hot_latency). A hint
  // only: an unknown shard is ignored.
  void PrefetchUrgent(ShardId to) const {
    const uint32_t t = to.value();
    if (t >= out_.size()) return;
    const Endpoint& target = *out_[t].peer;
    target.inbox_.PrefetchForPush();
    __builtin_prefetch(&target.sleeping_, 0);
  }

  // Endpoint::SendWord()
  //
  // Sends a direct word (`tag`, `value`) to shard `to` inside a MSG_RING CQE,
  // with no lane: for control messages. Submitted with the next Flush(). A
  // word the kernel rejects is retried, then counted in `words_lost`.
  // InvalidArgument for a reserved tag; Unavailable when `to` is detached;
  // ResourceExhausted when `word_slots` words are in flight.
  absl::Status SendWord(ShardId to, uint32_t tag, uint64_t value);

  // Endpoint::Flush()
  //
  // Publishes every lane written since the last flush, rings the targets
  // that sleep, and submits every queued SQE in one io_uring_enter.
  absl::Status Flush();

  // Endpoint::Poll()
  //
  // Reaps the ring's CQEs (direct words, doorbells, completions), then hands
  // `r` up to `budget` envelopes from the inbox and the incoming lanes,
  // starting at a rotating source so none starves. Lanes drain in chunks of
  // kLaneChunk; between chunks a newly filled inbox is drained, and urgent
  // work (Receiver::TakeUrgent) ends the lane drain, so a hot message waits
  // for at most one chunk of ordinary ingest. Urgent work found in the inbox
  // skips the lanes for this poll, but never two polls in a row (the next
  // takes at least one chunk), so lanes progress under any hot traffic.
  // With `budget` 0 it only reaps the ring. Returns envelopes + words + CQEs + consumed wake
  // requests: 0 means there was nothing to do.
  size_t Poll(Receiver& r, size_t budget);
  static constexpr size_t kLaneChunk = 32;

  // Endpoint::Nudge()
  //
  // Makes shard `to` look for work outside the transport (another shard's
  // steal queue, room in a lane): a wake request, which its Park() sees
  // while it polls or before it sleeps (seq_cst store, like a lane
  // publish), and a doorbell with the next Flush() if it sleeps. A request
  // `to` has not consumed yet already does the job (its Poll consumes it
  // with a seq_cst exchange that follows this call's seq_cst load, and
  // looks after that), so a burst of pushes writes the target's line once.
  enum class Nudged {
    kPending,  // a request was still pending: nothing written
    kPosted,   // request posted; `to` is awake (or about to look)
    kRang,     // request posted and `to` asleep: doorbell at the next Flush
  };
  Nudged Nudge(ShardId to);

  // True when something is waiting for Poll(). Cheap; no syscall.
  bool HasWork() const;
  // True when the inbox holds envelopes. Cheap; no syscall.
  bool InboxHasWork() const { return inbox_.HasWork(); }

  // Endpoint::Park()
  //
  // Flushes, then polls for work for up to `idle_spin`, then sleeps in the
  // kernel until a doorbell, a CQE, `max_sleep` (absl::InfiniteDuration()
  // for no limit) or `deadline` (steady_clock, i.e. CLOCK_MONOTONIC; max()
  // for none), whichever comes first. Returns when there may be work; the
  // caller then Polls.
  absl::Status Park(absl::Duration max_sleep = absl::InfiniteDuration(),
                    std::chrono::steady_clock::time_point deadline =
                        std::chrono::steady_clock::time_point::max());

  // A snapshot of this shard's counters. Thread-safe.
  TransportStats Stats() const;

  // Makes the next `n` doorbells this endpoint rings fail in the kernel (they
  // target an invalid fd), to test the re-ring path. Shard-affine.
  void FailNextDoorbellsForTest(int n) { fail_doorbells_for_test_ = n; }
  // Makes the next wake a foreign thread sends this shard fail in the
  // kernel (a write or MSG_RING to an invalid fd). Thread-safe.
  void FailNextForeignWakeForTest() {
    fail_foreign_wake_for_test_.store(true, std::memory_order_relaxed);
  }

 private:
  friend class Mesh;
  class DoorbellOp;
  class WordOp;
  class EventfdReadOp;

  void MarkDirty(uint32_t t) {
    is_dirty_[t] = 1;
    dirty_.push_back(t);
  }
  absl::Status SendSlow(ShardId to, Envelope e);
  void NoteFull(uint32_t t);
  // Before sleeping: marks every outgoing lane that refused a Send and is
  // still full, so its consumer rings us when it frees room. True if one of
  // them has room now (the caller should retry instead of sleeping).
  bool MarkFullLanesWaiting();
  // True (once per sleep) if `ep` sleeps: the caller now owes it a wake-up.
  // The seq_cst load pairs with Park()'s store of `sleeping`.
  static bool TakeSleeping(Endpoint& ep) {
    return ep.sleeping_.load(std::memory_order_seq_cst) &&
           ep.sleeping_.exchange(false, std::memory_order_acq_rel);
  }
  // Rings `t` if it sleeps (at most one doorbell per sleep); true if it did.
  bool WakeShard(uint32_t t);
  void RingDoorbell(uint32_t target);
  absl::Status PrepareWord(WordOp* op);
  absl::Status ArmEventfd();
  void OnWord(uint32_t tag, uint64_t value) noexcept override;
  size_t DrainInbox(Receiver& r, size_t budget);
  size_t ReapRing();
  // Called by Mesh for a foreign thread after it enqueued into the inbox.
  absl::Status WakeFromForeign();
  // Mesh::Wake: request a wake, then deliver it.
  absl::Status RequestWake();

  Mesh& mesh_;
  const ShardId id_;
  const absl::Duration idle_spin_;

  // -- Shared with other threads --------------------------------------------
  alignas(kCacheLine) std::atomic<bool> sleeping_{false};
  std::atomic<int> ring_fd_{-1};     // -1 while detached
  std::atomic<int> wake_eventfd_{-1};  // >= 0 in eventfd wake mode
  // Set by Mesh::Wake: makes HasWork() true until the next Poll, so a wake
  // that races with the shard going to sleep is never lost.
  std::atomic<bool> wake_requested_{false};
  std::atomic<bool> fail_foreign_wake_for_test_{false};
  Inbox inbox_;
  internal::ForeignStats foreign_stats_;

  // -- Owner-only -----------------------------------------------------------
  alignas(kCacheLine) io::Ring* ring_ = nullptr;
  // out_[t]: the lane this shard -> t, and t's endpoint (for SendUrgent),
  // side by side so an urgent send reads no line a lane send does not.
  struct Outgoing {
    Lane* lane = nullptr;
    Endpoint* peer = nullptr;  // set by Mesh once every endpoint exists
  };
  std::vector<Outgoing> out_;
  std::vector<Lane*> in_;   // in_[s]:  s -> this shard
  std::vector<uint32_t> dirty_;
  std::vector<uint8_t> is_dirty_;
  std::vector<uint8_t> blocked_;  // blocked_[t]: a Send to t met a full lane
  bool any_blocked_ = false;
  std::vector<uint32_t> doorbell_retry_;  // rings that found the SQ full
  std::vector<std::unique_ptr<DoorbellOp>> doorbells_;
  std::vector<std::unique_ptr<WordOp>> word_ops_;
  std::vector<WordOp*> free_word_ops_;
  std::unique_ptr<EventfdReadOp> eventfd_read_;
  Receiver* receiver_ = nullptr;  // set during Poll
  uint32_t next_source_ = 0;
  bool lanes_skipped_ = false;  // the last Poll left the lanes for urgent work
  bool inbox_recent_ = false;   // the inbox had work since the last Park
  int fail_doorbells_for_test_ = 0;
  // Entering the kernel now and then while busy or spinning, so direct
  // words (deferred task work) are not held back; see Ring::RunDeferredWork.
  static constexpr uint32_t kTurnsPerEnter = 256;
  static constexpr std::chrono::microseconds kSpinEnterEvery{20};
  // How long the idle poll keeps the CPU to itself before it yields between
  // looks. Replies in request/response traffic come within a few us, and
  // sched_yield (~0.3 us here) would only delay them; after that, a thread
  // waiting for this CPU (a foreign caller woken by its reply, another
  // shard the kernel put on the same CPU) runs at once instead of after the
  // whole window. //bench:boundary: p99 ~45 us instead of 90-140 us, calls/s
  // the same or better; two unpinned shards the kernel put on one CPU:
  // ~25 us round trips instead of ~155 us.
  static constexpr std::chrono::microseconds kSpinBeforeYield{10};
  uint32_t turns_since_enter_ = 0;
  internal::OwnerStats stats_;
};

}  // namespace ringactor::transport

#endif  // RINGACTOR_TRANSPORT_ENDPOINT_H_
