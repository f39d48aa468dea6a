// File: actors/runtime.cc
//
// Mailboxes, dispatch, supervision and Ask bookkeeping on one shard.

#include "actors/internal/runtime.h"

#include <cxxabi.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "actors/actor_system.h"
#include "actors/boundary.h"
#include "google/protobuf/descriptor.h"
#include "scheduler/intrusive_fifo.h"
#include "scheduler/mutex.h"

namespace ringactor {

Actor::~Actor() = default;

void Actor::RunOnShard() { internal::ShardRuntime::Current()->RunActor(this); }

namespace internal {

constinit thread_local ShardRuntime* ShardRuntime::current_ = nullptr;

namespace {

// An actor's mailbox and hot queue are intrusive FIFOs (head, tail) linked
// through MessageNode::next.
void PushBack(MessageNode*& head, MessageNode*& tail, MessageNode* node) {
  scheduler::FifoPush<&MessageNode::next>(head, tail, node);
}
MessageNode* PopFront(MessageNode*& head, MessageNode*& tail) {
  return scheduler::FifoPop<&MessageNode::next>(head, tail);
}

}  // namespace

// -- Actor types -------------------------------------------------------------

namespace {
struct TypeRegistry {
  scheduler::Mutex mu;
  std::vector<std::string> names ABSL_GUARDED_BY(mu);
};
TypeRegistry& Types() {
  static TypeRegistry* r = new TypeRegistry;
  return *r;
}
std::string Demangle(const char* mangled) {
  int status = 0;
  char* d = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
  std::string out = (status == 0 && d != nullptr) ? d : mangled;
  std::free(d);
  return out;
}
}  // namespace

uint16_t RegisterActorType(const char* mangled_name) {
  TypeRegistry& r = Types();
  scheduler::MutexLock lock(r.mu);
  if (r.names.size() + 1 >= kMaxActorTypes) {
    if (r.names.size() + 1 == kMaxActorTypes) {
      r.names.push_back("(other actor types)");
    }
    return kMaxActorTypes - 1;
  }
  r.names.push_back(Demangle(mangled_name));
  return static_cast<uint16_t>(r.names.size() - 1);
}

std::string ActorTypeName(uint16_t index) {
  TypeRegistry& r = Types();
  scheduler::MutexLock lock(r.mu);
  return index < r.names.size() ? r.names[index] : "?";
}

uint32_t ActorTypeCount() {
  TypeRegistry& r = Types();
  scheduler::MutexLock lock(r.mu);
  return static_cast<uint32_t>(r.names.size());
}

// -- SlotTable ---------------------------------------------------------------

SlotTable::SlotTable() : chunks_(new std::atomic<Slot*>[kMaxChunks]) {
  for (uint32_t i = 0; i < kMaxChunks; ++i) chunks_[i].store(nullptr);
}

SlotTable::~SlotTable() {
  for (uint32_t i = 0; i < kMaxChunks; ++i) delete[] chunks_[i].load();
}

absl::StatusOr<std::pair<uint32_t, uint32_t>> SlotTable::Allocate(Actor* a) {
  scheduler::MutexLock lock(mu_);
  uint32_t slot;
  if (!free_.empty()) {
    slot = free_.back();
    free_.pop_back();
  } else {
    slot = high_water_.load(std::memory_order_relaxed);
    const uint32_t chunk = slot >> kChunkBits;
    if (chunk >= kMaxChunks) {
      return absl::ResourceExhaustedError(
          absl::StrCat("a shard holds at most ", kMaxChunks * kChunkSize,
                       " actors"));
    }
    if (chunks_[chunk].load(std::memory_order_relaxed) == nullptr) {
      chunks_[chunk].store(new Slot[kChunkSize], std::memory_order_release);
    }
    high_water_.store(slot + 1, std::memory_order_release);
  }
  Slot* s = &At(slot);
  uint32_t gen = s->last_gen + 1;
  if (gen == 0) gen = 1;  // 0 means "no actor"
  s->last_gen = gen;
  a->slot_ = slot;
  a->gen_ = gen;
  s->actor.store(a, std::memory_order_release);
  s->alive_gen.store(gen, std::memory_order_release);
  return std::make_pair(slot, gen);
}

void SlotTable::Retire(uint32_t slot) {
  At(slot).alive_gen.store(0, std::memory_order_release);
}

void SlotTable::Release(uint32_t slot) {
  At(slot).actor.store(nullptr, std::memory_order_relaxed);
  scheduler::MutexLock lock(mu_);
  free_.push_back(slot);
}

// -- Hooks for the typed nodes -------------------------------------------------

void SendReply(MessageNode& request, ReplyNode* reply) {
  const ReplyTo to = std::exchange(request.reply_to, ReplyTo{});
  reply->hot = request.kind == MessageNode::Kind::kHot;
  ShardRuntime::Current()->Reply(to, reply);
}

void HandlerFailed(Actor& actor, MessageNode& request, std::string what) {
  ShardRuntime::Current()->OnHandlerFailed(actor, request, std::move(what));
}

void CoroutineStarted(Actor& actor, MessageNode& request) {
  request.running_on = &actor;
  ++actor.in_flight_;
}

void CoroutineFinished(MessageNode* request) {
  ShardRuntime::Current()->OnCoroutineFinished(request);
}

scheduler::Shard& CurrentShard() { return ShardRuntime::Current()->shard(); }

ShardRuntime* CurrentRuntime() { return ShardRuntime::Current(); }

bool IsFlatMessageType(const google::protobuf::Descriptor* d) {
  if (d->extension_range_count() > 0) return false;
  for (int i = 0; i < d->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* f = d->field(i);
    if (f->is_repeated()) return false;
    switch (f->cpp_type()) {
      case google::protobuf::FieldDescriptor::CPPTYPE_STRING:
      case google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE:
        return false;
      default:
        break;
    }
  }
  return true;
}

void* TakeCellTo(uint32_t shard) {
  ShardRuntime* rt = ShardRuntime::Current();
  return rt != nullptr ? ShardRuntime::TakeCell(&rt->system(), shard)
                       : nullptr;
}

void Free(Traveler* t) {
  if (ShardRuntime* rt = ShardRuntime::Current()) {
    rt->Free(t);
  } else {
    delete t;
  }
}

// -- ShardRuntime ------------------------------------------------------------

namespace {

// A Traveler handed back to its ring alive (CellRing::Finish), destroyed by
// its origin shard when it takes the cell again.
void DestroyInCell(void* cell) { static_cast<Traveler*>(cell)->~Traveler(); }

// One ring per other shard, with a cell for every message of the
// flow-control window (lane_capacity + backlog_capacity), as far as
// CellRing::kMaxCells goes (Create caps it): past its ring, a window's
// messages would come from the block cache and travel home to be freed.
// (Validated options: the sum is below 2^25.)
std::vector<std::unique_ptr<scheduler::CellRing>> MakeRings(
    const ActorSystemOptions& options, uint32_t shard, uint32_t num_shards) {
  const uint32_t cells = options.lane_capacity + options.backlog_capacity;
  std::vector<std::unique_ptr<scheduler::CellRing>> rings(num_shards);
  for (uint32_t s = 0; s < num_shards; ++s) {
    if (s != shard) {
      rings[s] = scheduler::CellRing::Create(&DestroyInCell, cells);
    }
  }
  return rings;
}

}  // namespace

ShardRuntime::ShardRuntime(ActorSystem& system, uint32_t shard,
                           uint32_t num_shards)
    : cells_(MakeRings(system.options(), shard, num_shards)),
      system_(system),
      shard_(shard),
      counters_(new TypeCounters[kMaxActorTypes]) {}

uint64_t ShardRuntime::cells_taken() const {
  uint64_t n = 0;
  for (const auto& ring : cells_) n += ring != nullptr ? ring->taken() : 0;
  return n;
}

uint64_t ShardRuntime::cell_misses() const {
  uint64_t n = 0;
  for (const auto& ring : cells_) n += ring != nullptr ? ring->misses() : 0;
  return n;
}


void ShardRuntime::OnShardStart() {
  current_ = this;
  shard_ptr_ = scheduler::Shard::Current();
  away_.assign(system_.num_shards(), 0);
  away_cap_ = uint64_t{system_.options().lane_capacity} +
              system_.options().backlog_capacity;
}

void ShardRuntime::Schedule(Actor* a) {
  if (a->scheduled_ || a->state_ == Actor::Lifecycle::kStopping) return;
  if (a->in_flight_ > 0 && (!a->reentrant_ || a->restart_pending_)) return;
  a->scheduled_ = true;
  shard_ptr_->Post(a);
}

absl::Status ShardRuntime::Enqueue(MessageNode* node, bool local) {
  if (phase_ == Phase::kStopped) {  // callers were resolved by their shards
    Free(node);
    return absl::UnavailableError("the actor system is shutting down");
  }
  SlotTable::Slot* s = slots_.Get(node->slot);
  Actor* a = nullptr;
  if (s != nullptr &&
      s->alive_gen.load(std::memory_order_relaxed) == node->gen) {
    a = s->actor.load(std::memory_order_acquire);
  }
  if (a == nullptr || a->state_ == Actor::Lifecycle::kStopping) {
    absl::Status why =
        phase_ == Phase::kRunning
            ? absl::NotFoundError("the actor has stopped")
            : absl::UnavailableError("the actor system is shutting down");
    if (local) {
      CountDeadLetter(node->type);
      Free(node);
      return why;
    }
    DeadLetter(node, why);
    return why;
  }
  if (node->is_stop()) {
    Free(node);
    StopActor(a);
    return absl::OkStatus();
  }
  if (node->kind == MessageNode::Kind::kCount) {
    ApplyCount(a, static_cast<CountNode&>(*node));
    Free(node);
    return absl::OkStatus();
  }
  if (node->kind == MessageNode::Kind::kHot) {
    // Coalesced: merge into the last hot message still waiting, if it is of
    // the same type (the "again at ingest" half of coalescing).
    if (node->merge_type != 0 && a->hot_tail_ != nullptr &&
        a->hot_tail_->merge_type == node->merge_type &&
        a->hot_tail_->TryMerge(*node)) {
      counters_[a->type_].coalesced_sends.Add(1);
      Free(node);
      return absl::OkStatus();
    }
    PushBack(a->hot_head_, a->hot_tail_, node);
    counters_[a->type_].hot_depth.Add(1);
    // A hot message from elsewhere ends the lane drain early so it runs
    // next turn (coalesced traffic is about volume, not latency).
    if (!local && node->merge_type == 0) NoteUrgent();
    Schedule(a);
    return absl::OkStatus();
  }
  if (local && a->depth_ >= system_.options().mailbox_capacity) {
    Free(node);
    return absl::ResourceExhaustedError(
        absl::StrCat("the actor's mailbox holds ", a->depth_,
                     " messages (mailbox_capacity); retry later"));
  }
  PushBack(a->mail_head_, a->mail_tail_, node);
  ++a->depth_;
  counters_[a->type_].mailbox_depth.Add(1);
  Schedule(a);
  return absl::OkStatus();
}

void ShardRuntime::DeadLetter(MessageNode* node, absl::Status why) {
  CountDeadLetter(node->type);
  if (node->reply_to.wanted() && phase_ != Phase::kStopped) {
    // A fresh status per reply: replies go to different threads, and the
    // system's abseil is not TSan-instrumented, so a shared refcounted
    // payload would look like a race.
    Reply(node->reply_to,
          new ReplyNode(absl::Status(why.code(), why.message())));
  }
  Free(node);
}

void ShardRuntime::StartActor(uint32_t slot, uint32_t gen) {
  if (!slots_.IsAlive(slot, gen)) return;
  Actor* a = slots_.Get(slot)->actor.load(std::memory_order_acquire);
  if (a != nullptr && a->state_ == Actor::Lifecycle::kNew) Schedule(a);
}

void ShardRuntime::RunActor(Actor* a) {
  a->scheduled_ = false;
  if (a->state_ == Actor::Lifecycle::kStopping) {
    if (a->in_flight_ == 0) FinishStop(a);
    return;
  }
  if (a->state_ == Actor::Lifecycle::kNew) {
    a->state_ = Actor::Lifecycle::kRunning;
    a->started_ = true;
    counters_[a->type_].live_actors.Add(1);
    try {
      a->OnStart();
    } catch (...) {
      counters_[a->type_].failures.Add(1);
      a->stop_requested_ = true;  // never restart-loop on a failing OnStart
    }
    if (a->stop_requested_) {
      StopActor(a);
      return;
    }
  }
  if (a->counters_ != nullptr && !RunCountWakes(a)) return;
  const uint32_t batch = system_.options().mailbox_batch;
  int64_t now = 0;  // read lazily: only Asks carry deadlines
  for (uint32_t n = 0;
       n < batch && (a->hot_head_ != nullptr || a->mail_head_ != nullptr);
       ++n) {
    if (a->in_flight_ > 0 && (!a->reentrant_ || a->restart_pending_)) return;
    // Urgent traffic waits in the inbox: end the batch so the loop sees it
    // (one plain load per message).
    if (n > 0 && a->hot_head_ == nullptr &&
        shard_ptr_->endpoint().InboxHasWork()) {
      break;
    }
    MessageNode* node = PopNext(a, /*last_of_batch=*/n + 1 == batch && n > 0);
    TypeCounters& c = counters_[a->type_];
    const int64_t deadline = node->deadline_ns();
    if (deadline != scheduler::kNoDeadline &&
        scheduler::MayHavePassedAfterQuiet(deadline) &&
        deadline <= (now != 0 ? now : now = scheduler::MonoNanos())) {
      // An Ask whose caller gave up.
      DeadLetter(node, absl::DeadlineExceededError(
                           "the request's deadline passed before it ran"));
      continue;
    }
    c.handled.Add(1);
    node->running_on = a;
    running_ = a;
    const bool kept = node->Invoke(*a);
    running_ = nullptr;
    if (!kept) Free(node);
    if (a->restart_pending_ || a->stop_requested_) {
      AfterHandler(a);
      return;
    }
  }
  if (a->mail_head_ != nullptr || a->hot_head_ != nullptr) Schedule(a);
}

MessageNode* ShardRuntime::PopNext(Actor* a, bool last_of_batch) {
  const bool hot =
      a->hot_head_ != nullptr && !(last_of_batch && a->mail_head_ != nullptr);
  if (hot) {
    counters_[a->type_].hot_depth.Sub(1);
    MessageNode* node = PopFront(a->hot_head_, a->hot_tail_);
    // Its reply will be hot too (Reply): the caller's inbox lines start
    // coming now, while the handler runs. (A reply on this shard needs no
    // inbox, as in PrefetchUrgentTo.)
    if (node->reply_to.wanted() && node->reply_to.shard != shard_) {
      shard_ptr_->endpoint().PrefetchUrgent(
          transport::ShardId(node->reply_to.shard));
    }
    return node;
  }
  MessageNode* node = PopFront(a->mail_head_, a->mail_tail_);
  --a->depth_;
  counters_[a->type_].mailbox_depth.Sub(1);
  return node;
}

void ShardRuntime::AfterHandler(Actor* a) {
  if (a->state_ == Actor::Lifecycle::kStopping) {
    if (a->in_flight_ == 0 && !a->scheduled_) FinishStop(a);
    return;
  }
  if (a->stop_requested_) {
    StopActor(a);
    return;
  }
  if (a->restart_pending_) {
    if (a->in_flight_ > 0) return;  // the last handler to finish restarts it
    a = Restart(a);
  }
  if (a->mail_head_ != nullptr || a->hot_head_ != nullptr ||
      a->state_ == Actor::Lifecycle::kNew ||
      (a->counters_ != nullptr && !a->counters_->wakes.empty())) {
    Schedule(a);
  }
}

void ShardRuntime::OnHandlerFailed(Actor& actor, MessageNode& request,
                                   std::string what) {
  counters_[actor.type_].failures.Add(1);
  if (request.reply_to.wanted()) {
    SendReply(request, new ReplyNode(absl::InternalError(
                           absl::StrCat("handler threw: ", what))));
  }
  switch (actor.on_failure_) {
    case OnFailure::kResume:
      break;
    case OnFailure::kRestart:
      if (actor.factory_ != nullptr) {
        actor.restart_pending_ = true;
      } else {
        actor.stop_requested_ = true;
      }
      break;
    case OnFailure::kStop:
      actor.stop_requested_ = true;
      break;
  }
}

void ShardRuntime::OnCoroutineFinished(MessageNode* request) {
  Actor* a = request->running_on;
  Free(request);
  --a->in_flight_;
  if (a == running_) return;  // RunActor looks at it when Invoke returns
  AfterHandler(a);  // may restart or free `a`
}

Actor* ShardRuntime::Restart(Actor* old) {
  Actor* fresh = old->factory_->Create();
  fresh->mail_head_ = std::exchange(old->mail_head_, nullptr);
  fresh->mail_tail_ = std::exchange(old->mail_tail_, nullptr);
  fresh->hot_head_ = std::exchange(old->hot_head_, nullptr);
  fresh->hot_tail_ = std::exchange(old->hot_tail_, nullptr);
  fresh->counters_ = std::exchange(old->counters_, nullptr);
  if (fresh->counters_ != nullptr) fresh->counters_->timer.actor = fresh;
  fresh->factory_ = std::exchange(old->factory_, nullptr);
  fresh->slot_ = old->slot_;
  fresh->gen_ = old->gen_;
  fresh->depth_ = old->depth_;
  fresh->shard_ = old->shard_;
  fresh->group_ = old->group_;
  fresh->type_ = old->type_;
  fresh->on_failure_ = old->on_failure_;
  fresh->reentrant_ = old->reentrant_;
  fresh->state_ = Actor::Lifecycle::kNew;  // OnStart runs again
  slots_.Get(old->slot_)->actor.store(fresh, std::memory_order_release);
  TypeCounters& c = counters_[old->type_];
  c.restarts.Add(1);
  c.live_actors.Sub(1);  // the fresh instance counts again when it starts
  try {
    old->OnStop();
  } catch (...) {
    c.failures.Add(1);
  }
  delete old;
  return fresh;
}

void ShardRuntime::StopActor(Actor* a) {
  if (a->state_ == Actor::Lifecycle::kStopping) return;
  a->state_ = Actor::Lifecycle::kStopping;
  slots_.Retire(a->slot_);
  // One instance of a stealable actor stops: they all do.
  if (a->group_ != 0 && phase_ == Phase::kRunning) {
    system_.StopStealable(a->group_ - 1, shard_);
  }
  const absl::Status why =
      phase_ == Phase::kRunning
          ? absl::NotFoundError("the actor stopped before handling this")
          : absl::UnavailableError("the actor system is shutting down");
  while (MessageNode* node = a->mail_head_) {
    a->mail_head_ = node->next;
    counters_[a->type_].mailbox_depth.Sub(1);
    DeadLetter(node, why);
  }
  a->mail_tail_ = nullptr;
  a->depth_ = 0;
  while (MessageNode* node = a->hot_head_) {
    a->hot_head_ = node->next;
    counters_[a->type_].hot_depth.Sub(1);
    DeadLetter(node, why);
  }
  a->hot_tail_ = nullptr;
  if (a->in_flight_ == 0 && !a->scheduled_ && a != running_) FinishStop(a);
  // Otherwise the last handler to finish, or RunActor, finishes the stop.
}

void ShardRuntime::FinishStop(Actor* a) {
  if (a->started_) {
    try {
      a->OnStop();
    } catch (...) {
      counters_[a->type_].failures.Add(1);
    }
    counters_[a->type_].live_actors.Sub(1);
  }
  const uint32_t slot = a->slot_;
  delete std::exchange(a->counters_, nullptr);
  delete a->factory_;
  delete a;
  slots_.Release(slot);
}

ReplyTo ShardRuntime::RegisterAsk(PendingAsk* ask) {
  uint32_t index;
  if (!free_asks_.empty()) {
    index = free_asks_.back();
    free_asks_.pop_back();
  } else {
    index = static_cast<uint32_t>(asks_.size());
    asks_.emplace_back();
  }
  if (++ask_gen_ == 0) ask_gen_ = 1;
  asks_[index] = AskEntry{ask, ask_gen_};
  return ReplyTo{shard_, index, ask_gen_};
}

void ShardRuntime::UnregisterAsk(const ReplyTo& to) {
  if (to.index >= asks_.size() || asks_[to.index].gen != to.gen) return;
  asks_[to.index] = AskEntry{};
  free_asks_.push_back(to.index);
}

void ShardRuntime::Reply(const ReplyTo& to, ReplyNode* reply) {
  reply->to = to;
  if (phase_ == Phase::kStopped) {
    delete reply;  // Boundary calls are failed by Boundary::FailAll
  } else if (to.shard == ReplyTo::kBoundary) {
    CompleteBoundaryCall(to, reply);
  } else if (to.shard == shard_) {
    DeliverReply(reply);
  } else {
    const transport::Envelope e{kReplyTag, reinterpret_cast<uint64_t>(reply)};
    // The reply to a hot request is hot too: the caller's inbox. Else the
    // lane, never refused (an unknown shard, which cannot happen, aside).
    const bool sent =
        (reply->hot && shard_ptr_->endpoint()
                           .SendUrgent(transport::ShardId(to.shard), e)
                           .ok()) ||
        shard_ptr_
            ->Send(transport::ShardId(to.shard), e,
                   scheduler::SendPriority::kReply)
            .ok();
    if (sent) {
      NoteAway(to.shard, reply);  // counted, never refused
    } else {
      delete reply;
    }
  }
}

void ShardRuntime::DeliverReply(ReplyNode* reply) {
  const ReplyTo to = reply->to;
  if (phase_ == Phase::kStopped || to.index >= asks_.size() ||
      asks_[to.index].gen != to.gen || asks_[to.index].ask == nullptr) {
    late_replies_.Add(1);
    Free(reply);
    return;
  }
  PendingAsk* ask = asks_[to.index].ask;
  UnregisterAsk(to);
  ask->OnReply(reply);
}

void ShardRuntime::Free(Traveler* t) {
  ShardRuntime* origin = t->origin;
  if (scheduler::CellRing::Contains(t)) {
    // Back to its ring, where it is; nothing travels home. What may free
    // heap memory is destroyed by its origin, when it takes the cell again
    // (Traveler::OwnsHeap).
    if (origin != this && t->OwnsHeap()) {
      scheduler::CellRing::Finish(t);
    } else {
      delete t;
    }
    return;
  }
  if (origin == this || origin == nullptr || phase_ == Phase::kStopped ||
      &origin->system_ != &system_) {
    delete t;
    return;
  }
  // Never refused (kReply priority): the memory must get home. It travels
  // with this turn's flush.
  if (!shard_ptr_
           ->Send(transport::ShardId(origin->shard_),
                  {kReturnTag, reinterpret_cast<uint64_t>(t)},
                  scheduler::SendPriority::kReply)
           .ok()) {
    delete t;
  }
}

void ShardRuntime::FreeReturned(size_t n) {
  constexpr size_t kAhead = 16;
  const auto prefetch = [](const Traveler* t) {
    __builtin_prefetch(t, 1);
    __builtin_prefetch(reinterpret_cast<const char*>(t) + 64, 1);
  };
  n = std::min(n, to_free_.size());
  const size_t end = to_free_.size();
  const size_t stop = end - n;
  for (size_t i = end; i > stop && end - i < kAhead; --i) {
    prefetch(to_free_[i - 1]);
  }
  for (size_t i = end; i > stop; --i) {
    if (i > kAhead) prefetch(to_free_[i - 1 - kAhead]);
    delete to_free_[i - 1];
  }
  to_free_.resize(stop);
}

void ShardRuntime::OnTurnEnd(bool) {
  ++turns_;
  FlushFastLanes();
}

void ShardRuntime::AfterFlush(bool idle) {
  if (to_free_.empty()) return;
  if (idle) {
    FreeReturned(to_free_.size());
    return;
  }
  // A little per busy turn, in chunks that stop when the inbox has work: a
  // turn that frees thousands of nodes at once would delay everything
  // behind it. When they pile up, more per turn, and the inbox no longer
  // cuts that short: a shard whose inbox never empties must still free.
  constexpr size_t kChunk = 16;
  const bool piled_up = to_free_.size() > kMaxDeferredFrees;
  size_t budget = piled_up ? 4 * kFreesPerTurn : kFreesPerTurn;
  while (budget > 0 && !to_free_.empty()) {
    if (!piled_up && shard_ptr_->endpoint().InboxHasWork()) break;
    FreeReturned(std::min(budget, kChunk));
    budget -= std::min(budget, kChunk);
  }
}

void ShardRuntime::OnEnvelopes(transport::ShardId from,
                               const transport::Envelope* e, size_t n) {
  // Both lines of every node, all at once: the first holds what dispatch
  // reads, the second most message bodies and reply values, and both were
  // last written on the sending core. Fetched one after the other, they were
  // two cross-core misses in a row (ping-pong 8-20% slower). Returned nodes
  // are not touched here at all (below).
  for (size_t i = 0; i < n; ++i) {
    if (e[i].tag != kReturnTag) {
      __builtin_prefetch(reinterpret_cast<const char*>(e[i].value));
      __builtin_prefetch(reinterpret_cast<const char*>(e[i].value) + 64);
    }
  }
  for (size_t i = 0; i < n; ++i) {
    if (e[i].tag == kReturnTag) {
      // Freed later, off the critical path (AfterFlush): the node's cache
      // lines are on the other core now, so not even touched here.
      to_free_.push_back(reinterpret_cast<Traveler*>(e[i].value));
      if (away_[from.value()] > 0) --away_[from.value()];
    } else if (e[i].tag == kReplyTag) {
      auto* reply = reinterpret_cast<ReplyNode*>(e[i].value);
      if (reply->hot) NoteUrgent();
      DeliverReply(reply);
    } else if (e[i].tag == kStealableTag) {
      OnStealableEnvelope(reinterpret_cast<MessageNode*>(e[i].value));
    } else {
      Enqueue(reinterpret_cast<MessageNode*>(e[i].value), /*local=*/false)
          .IgnoreError();
    }
  }
}

void ShardRuntime::OnWord(uint32_t tag, uint64_t value) {
  if (tag == kHotWordTag) {
    auto* node = reinterpret_cast<MessageNode*>(value);
    AcquireFromKernel(node);
    Enqueue(node, /*local=*/false).IgnoreError();
  }
}

void ShardRuntime::OnShardStopping() {
  phase_ = Phase::kStopping;
  DropStealable();
  const uint32_t high = slots_.high_water();
  for (uint32_t slot = 0; slot < high; ++slot) {
    Actor* a = slots_.Get(slot)->actor.load(std::memory_order_acquire);
    if (a != nullptr) StopActor(a);
  }
  for (uint32_t i = 0; i < asks_.size(); ++i) {
    if (asks_[i].ask == nullptr) continue;
    auto* reply = new ReplyNode(
        absl::UnavailableError("the actor system is shutting down"));
    reply->to = ReplyTo{shard_, i, asks_[i].gen};
    DeliverReply(reply);
  }
}

void ShardRuntime::OnShardStopped() {
  OnTurnEnd(/*idle=*/true);  // the last updates go out before barrier 1
  AfterFlush(/*idle=*/true);
  phase_ = Phase::kStopped;
  // Suspended handlers were destroyed with their coroutines; finish every
  // actor that still waited for one.
  const uint32_t high = slots_.high_water();
  for (uint32_t slot = 0; slot < high; ++slot) {
    Actor* a = slots_.Get(slot)->actor.load(std::memory_order_acquire);
    if (a == nullptr) continue;
    a->in_flight_ = 0;
    a->scheduled_ = false;
    FinishStop(a);
  }
  asks_.clear();
  free_asks_.clear();
}

ShardRuntime::~ShardRuntime() { FreeReturned(to_free_.size()); }

}  // namespace internal
}  // namespace ringactor
