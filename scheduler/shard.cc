// File: scheduler/shard.cc

#include "scheduler/shard.h"

#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "io/status.h"
#include "scheduler/shard_set.h"

namespace ringactor::scheduler {

constinit thread_local Shard* Shard::current_ = nullptr;

namespace {

// Resumes a coroutine from the run queue. Lives in a small pool per shard
// so PostResume allocates nothing once warm.
class ResumeItem final : public Runnable {
 public:
  std::coroutine_handle<> handle;
  ResumeItem* next_free = nullptr;
  void RunOnShard() override;
};

thread_local ResumeItem* free_resume_items = nullptr;

void ResumeItem::RunOnShard() {
  std::coroutine_handle<> h = handle;
  handle = {};
  next_free = free_resume_items;
  free_resume_items = this;
  h.resume();
}

struct ResumeItemPool {
  ~ResumeItemPool() {
    while (free_resume_items != nullptr) {
      ResumeItem* next = free_resume_items->next_free;
      delete free_resume_items;
      free_resume_items = next;
    }
  }
};
thread_local ResumeItemPool resume_item_pool;

}  // namespace

namespace internal {

void FinishRoot(PromiseBase& p, std::coroutine_handle<> frame) noexcept {
  Shard* shard = Shard::Current();
  // Unlink from the shard's list of live roots.
  if (p.root_prev_ != nullptr) {
    p.root_prev_->root_next_ = p.root_next_;
  } else if (shard != nullptr) {
    shard->roots_ = p.root_next_;
  }
  if (p.root_next_ != nullptr) p.root_next_->root_prev_ = p.root_prev_;
  p.is_root_ = false;
  if (p.root_done_ != nullptr) {
    p.root_done_(p.root_ctx_, frame, /*finished=*/true);
  } else {
    frame.destroy();
  }
}

}  // namespace internal

Shard::Shard(ShardSet& set, transport::ShardId id, ShardHooks* hooks,
             const ShardLoopOptions& options)
    : set_(set),
      id_(id),
      hooks_(hooks),
      options_(options),
      steal_queue_(options.steal_queue_capacity) {}

Shard::~Shard() = default;

void Shard::PostResume(std::coroutine_handle<> h) {
  (void)resume_item_pool;  // instantiate the per-thread pool's cleanup
  ResumeItem* item = free_resume_items;
  if (item != nullptr) {
    free_resume_items = item->next_free;
  } else {
    item = new ResumeItem;
  }
  item->handle = h;
  Post(item);
}

void Shard::StartRoot(std::coroutine_handle<> h, internal::PromiseBase& p,
                      internal::RootDoneFn done, void* ctx) {
  p.is_root_ = true;
  p.root_done_ = done;
  p.root_ctx_ = ctx;
  p.root_frame_ = h;
  p.root_prev_ = nullptr;
  p.root_next_ = roots_;
  if (roots_ != nullptr) roots_->root_prev_ = &p;
  roots_ = &p;
  h.resume();
}

void Shard::DestroyRoots() {
  while (roots_ != nullptr) {
    internal::PromiseBase* p = roots_;
    roots_ = p->root_next_;
    if (roots_ != nullptr) roots_->root_prev_ = nullptr;
    p->is_root_ = false;
    if (p->root_done_ != nullptr) {
      p->root_done_(p->root_ctx_, p->root_frame_, /*finished=*/false);
    } else {
      p->root_frame_.destroy();
    }
  }
}

absl::Status Shard::Send(transport::ShardId to, transport::Envelope e,
                         SendPriority priority) {
  const uint32_t t = to.value();
  if (t >= backlog_.size()) {
    return absl::InvalidArgumentError("Shard::Send: unknown target shard");
  }
  EnvelopeQueue& backlog = backlog_[t];
  if (backlog.empty()) {
    absl::Status s = endpoint_->Send(to, e);
    if (s.ok() || !absl::IsResourceExhausted(s)) return s;
    backlogged_.push_back(t);
  } else if (priority == SendPriority::kRequest &&
             backlog.size() >= options_.backlog_capacity) {
    return absl::ResourceExhaustedError(
        "the lane to the target shard and its backlog are full; retry after "
        "the target drains (e.g. co_await Yield())");
  }
  backlog.push_back(e);
  return absl::OkStatus();
}

size_t Shard::MoveBacklogs() {
  // In chunks: when the inbox has work (urgent traffic, foreign calls), the
  // rest of a target's backlog waits for the next turn. Every target moves
  // at least one chunk per call, so none starves under a busy inbox. A
  // move into a lane its consumer is draining right behind costs ~10-15 ns
  // (the slot lines come back from the consumer's core), so a chunk is
  // kept short: a hot reply that lands mid-move waits ~0.1 us, not 0.4.
  constexpr size_t kChunk = 8;
  size_t moved = 0;
  for (size_t i = 0; i < backlogged_.size();) {
    const uint32_t t = backlogged_[i];
    EnvelopeQueue& backlog = backlog_[t];
    bool room = true;
    while (room && !backlog.empty()) {
      for (size_t k = 0; k < kChunk && !backlog.empty(); ++k) {
        if (!endpoint_->TryQueue(transport::ShardId(t), backlog.front())) {
          room = false;
          break;
        }
        backlog.pop_front();
        ++moved;
      }
      if (room && !backlog.empty() && endpoint_->InboxHasWork()) break;
    }
    if (backlog.empty()) {
      backlogged_[i] = backlogged_.back();
      backlogged_.pop_back();
    } else {
      ++i;
    }
  }
  return moved;
}

size_t Shard::RunForeignClosures() {
  if (!has_closures_.load(std::memory_order_acquire)) return 0;
  std::vector<absl::AnyInvocable<void() &&>> batch;
  {
    MutexLock lock(closures_mu_);
    batch.swap(closures_);
    has_closures_.store(false, std::memory_order_relaxed);
  }
  for (auto& fn : batch) std::move(fn)();
  return batch.size();
}

size_t Shard::RunReady(size_t budget) {
  // Only what was ready when the pass began: a runnable that re-queues
  // itself (an actor with more mail, a Yield) runs again next turn, after
  // the next Poll, so incoming work (a hot message) is never stuck behind a
  // long local backlog.
  budget = std::min(budget, run_queue_.size());
  size_t ran = 0;
  while (ran < budget) {
    Runnable* r = run_queue_.Pop();
    if (r == nullptr) break;
    r->RunOnShard();
    ++ran;
  }
  return ran;
}

size_t Shard::RunOwnStealable() {
  // At least one item per turn, however much else is ready, so none starves
  // behind local work; more while nothing else is. One at a time: the rest
  // stays in the queue, stealable, while this one runs.
  size_t ran = 0;
  while (ran < options_.steal_budget && (ran == 0 || run_queue_.empty())) {
    void* item = steal_queue_.Pop();
    if (item == nullptr) break;
    hooks_->RunStealable(item, /*stolen=*/false);
    RunReady(run_queue_.size());
    ++ran;
  }
  return ran;
}

size_t Shard::Steal() {
  const uint32_t n = set_.size();
  size_t ran = 0;
  for (uint32_t tries = 0;
       n > 1 && ran < options_.steal_budget && tries < 2 * options_.steal_budget;
       ++tries) {
    // The deepest queue; ties go to the first after the last victim.
    Shard* victim = nullptr;
    size_t deepest = 0;
    for (uint32_t k = 0; k < n; ++k) {
      const uint32_t i = (next_victim_ + k) % n;
      if (i == id_.value()) continue;
      const size_t depth = set_.shards_[i]->steal_queue_.Size();
      if (depth > deepest) {
        deepest = depth;
        victim = set_.shards_[i].get();
      }
    }
    if (victim == nullptr) break;
    next_victim_ = (victim->id_.value() + 1) % n;
    steal_attempts_.Add(1);
    void* item = victim->steal_queue_.Steal();
    if (item == nullptr) continue;  // lost a race; look again
    steal_stolen_.Add(1);
    hooks_->RunStealable(item, /*stolen=*/true);
    RunReady(run_queue_.size());
    ++ran;
    if (endpoint_->HasWork()) break;  // our own incoming work first
  }
  return ran;
}

void Shard::SetIdle(bool idle) {
  if (idle_published_ == idle) return;
  idle_published_ = idle;
  idle_.store(idle, std::memory_order_seq_cst);
}

void Shard::NudgeIdleShards() {
  // The push's seq_cst bottom store precedes these seq_cst loads; an idle
  // shard's seq_cst `idle` store precedes its loads of our queue.
  bool rang = false;
  for (uint32_t i = 0; i < set_.size(); ++i) {
    if (i == id_.value() ||
        !set_.shards_[i]->idle_.load(std::memory_order_seq_cst)) {
      continue;
    }
    switch (endpoint_->Nudge(transport::ShardId(i))) {
      case transport::Endpoint::Nudged::kPending:
        continue;  // told already, and has not looked yet
      case transport::Endpoint::Nudged::kRang:
        rang = true;
        break;
      case transport::Endpoint::Nudged::kPosted:
        break;
    }
    steal_nudges_.Add(1);
  }
  // A sleeping shard's doorbell goes out now, not with this turn's flush:
  // the turn may be long (that is when stealing pays).
  if (rang) Note(endpoint_->Flush());
}

void Shard::KeepApart() {
  if (set_.pinned_ || set_.cpus_.size() < 2) return;
  const int cpu = sched_getcpu();
  if (cpu < 0) return;
  // Look at the others when this shard moved, and every 16th time anyway
  // (another shard may have come here): one plain load per earlier shard,
  // of a line that is written only when that shard moves.
  if (cpu_.load(std::memory_order_relaxed) != cpu) {
    cpu_.store(cpu, std::memory_order_relaxed);
  } else if ((++idle_checks_ & 15) != 0) {
    return;
  }
  // Of two awake shards on one CPU only the later moves: both would
  // otherwise. (A sleeping shard competes for nothing; where it wakes is
  // its own check.)
  bool shared = false;
  for (uint32_t i = 0; i < id_.value() && !shared; ++i) {
    shared = set_.shards_[i]->cpu_.load(std::memory_order_relaxed) == cpu &&
             !set_.shards_[i]->endpoint_->asleep();
  }
  if (!shared) return;
  const int64_t now = CoarseMonoNanos();
  if (now - last_move_ns_ < kMoveEvery) return;
  last_move_ns_ = now;
  for (int c : set_.cpus_) {
    bool taken = false;
    for (const auto& s : set_.shards_) {
      taken |= s->cpu_.load(std::memory_order_relaxed) == c;
    }
    if (taken) continue;
    const int now = ShardSet::MoveThread(c, /*pin=*/false, set_.cpus_);
    cpu_.store(now, std::memory_order_relaxed);
    // A refused sched_setaffinity leaves the thread where it was: no move
    // to count (the next try is kMoveEvery away).
    if (now == c) {
      last_move_cpu_.store(c, std::memory_order_relaxed);
      placement_moves_.Add(1);
    }
    return;
  }
}

StealStats Shard::steal_stats() const {
  StealStats s;
  s.pushed = steal_pushed_.Load();
  s.refused = steal_refused_.Load();
  s.stolen = steal_stolen_.Load();
  s.attempts = steal_attempts_.Load();
  s.nudges = steal_nudges_.Load();
  s.depth = steal_queue_.Size();
  return s;
}

size_t Shard::RunTurn() {
  size_t work = RunForeignClosures();
  if (!timers_.empty() && MayHavePassed(timers_.NextDeadline())) {
    work += timers_.FireDue(MonoNanos());
  }
  // Incoming first, then what is ready, in the same turn: a request that
  // arrives is handled, and its reply flushed, before this turn ends.
  // Poll takes the ring, then the inbox (foreign calls, hot traffic between
  // shards), then the lanes under a budget, stopping early at urgent work;
  // the ready pass runs only what was ready when it began, so local work
  // that keeps re-queuing itself never starves incoming work (DESIGN.md:
  // Seastar's 50 ms submit_to).
  work += endpoint_->Poll(*hooks_, options_.incoming_budget);
  work += RunReady(options_.run_budget);
  if (steal_queue_.MaybeNonEmpty()) work += RunOwnStealable();
  if (!backlogged_.empty()) work += MoveBacklogs();
  return work;
}

absl::Status Shard::Loop() {
  // `quiet`: the shard has had nothing to do for kQuietAfter. Idle
  // housekeeping (AfterFlush(idle=true): freeing every returned node) waits
  // for that, so request/response traffic whose gaps are shorter never pays
  // for it on its critical path.
  bool quiet = false;
  while (!stopping_.load(std::memory_order_acquire)) {
    size_t work = RunTurn();
    if (work == 0 && run_queue_.empty() && set_.stealing()) {
      SetIdle(true);  // before looking at the queues: see the steal protocol
      work = Steal();
    }
    const bool idle = work == 0 && run_queue_.empty();
    if (!idle) SetIdle(false);
    hooks_->OnTurnEnd(/*idle=*/idle && quiet);
    RETURN_IF_ERROR(endpoint_->Flush());
    hooks_->AfterFlush(/*idle=*/idle && quiet);
    if (!idle) {
      quiet = false;
      continue;
    }
    KeepApart();
    // The next timer bounds the sleep; Park reads the clock itself, and
    // only if it does not find work at once.
    const auto next_timer = SteadyAt(timers_.NextDeadline());
    if (has_closures_.load(std::memory_order_acquire)) continue;
    if (!quiet) {
      RETURN_IF_ERROR(endpoint_->Park(kQuietAfter, next_timer));
      quiet = true;  // if nothing came, the next turn tidies up, then parks
      continue;
    }
    RETURN_IF_ERROR(endpoint_->Park(absl::InfiniteDuration(), next_timer));
  }
  return absl::OkStatus();
}

// Polls, moves backlogs and parks until stop barrier `barrier` is complete.
absl::Status Shard::WaitForAll(int barrier) {
  while (true) {
    size_t work = endpoint_->Poll(*hooks_, options_.incoming_budget);
    hooks_->OnTurnEnd(/*idle=*/true);
    if (!backlogged_.empty()) work += MoveBacklogs();
    RETURN_IF_ERROR(endpoint_->Flush());
    hooks_->AfterFlush(/*idle=*/true);
    if (set_.AllArrived(barrier) && backlogged_.empty()) return absl::OkStatus();
    if (work == 0) RETURN_IF_ERROR(endpoint_->Park());
  }
}

void Shard::Note(const absl::Status& s) {
  if (!s.ok() && status_.ok()) status_ = s;
}

void Shard::StopSequence() {
  SetIdle(false);  // a stopping shard steals nothing: spare it the nudges
  // Closures accepted before Stop still run (SubmitTo's contract).
  RunForeignClosures();
  hooks_->OnShardStopping();
  // Let coroutines resumed by phase 1 observe their errors and finish; a
  // coroutine that keeps re-queuing itself is cut off and destroyed below.
  for (int pass = 0; pass < 64 && !run_queue_.empty(); ++pass) {
    RunReady(run_queue_.size());
    hooks_->OnTurnEnd(/*idle=*/true);
    Note(endpoint_->Flush());
    hooks_->AfterFlush(/*idle=*/true);
  }
  run_queue_.Clear();
  DestroyRoots();
  timers_.Clear();
  // Barrier 0: every shard has resolved its waiters. Phase-1 messages
  // (error replies) are still delivered while we wait.
  set_.Arrive(0);
  Note(WaitForAll(0));
  hooks_->OnShardStopped();
  run_queue_.Clear();
  // Barrier 1: nobody sends anything any more and every backlog is in a
  // lane; what is left in our lanes is freed by the final drain.
  set_.Arrive(1);
  Note(WaitForAll(1));
  while (endpoint_->Poll(*hooks_, SIZE_MAX) != 0) {
  }
}

void Shard::Main() {
  current_ = this;
  tid_.store(static_cast<int>(syscall(SYS_gettid)), std::memory_order_release);
  absl::StatusOr<std::unique_ptr<io::Ring>> ring =
      io::Ring::Create(set_.ring_options_);
  if (ring.ok()) {
    ring_ = *std::move(ring);
    endpoint_ = &set_.mesh().endpoint(id_);
    Note(endpoint_->Attach(ring_.get()));
  } else {
    Note(ring.status());
  }
  backlog_.resize(set_.size());
  const bool attached = status_.ok();
  ready_.Notify();
  set_.go_.WaitForNotification();
  if (attached && set_.go_ok_.load(std::memory_order_acquire)) {
    hooks_->OnShardStart();
    Note(Loop());
    StopSequence();
  }
  if (attached) Note(endpoint_->Detach());
  ring_.reset();
  current_ = nullptr;
}

}  // namespace ringactor::scheduler
