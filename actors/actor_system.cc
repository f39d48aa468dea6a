// File: actors/actor_system.cc

#include "actors/actor_system.h"

#include <thread>
#include <utility>

#include "absl/base/attributes.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "actors/boundary.h"

namespace ringactor {

ActorCounters& ActorCounters::operator+=(const ActorCounters& o) {
  handled += o.handled;
  mailbox_depth += o.mailbox_depth;
  dead_letters += o.dead_letters;
  asks_timed_out += o.asks_timed_out;
  restarts += o.restarts;
  failures += o.failures;
  live_actors += o.live_actors;
  hot_depth += o.hot_depth;
  coalesced_sends += o.coalesced_sends;
  count_updates += o.count_updates;
  count_envelopes += o.count_envelopes;
  count_wakes += o.count_wakes;
  count_saturations += o.count_saturations;
  return *this;
}

std::string SystemStats::ToString() const {
  auto line = [](const std::string& name, const ActorCounters& c) {
    std::string out = absl::StrFormat(
        "%-28s handled=%d depth=%d dead_letters=%d asks_timed_out=%d "
        "restarts=%d failures=%d live=%d\n",
        name, c.handled, c.mailbox_depth, c.dead_letters, c.asks_timed_out,
        c.restarts, c.failures, c.live_actors);
    if (c.count_updates + c.coalesced_sends + c.count_wakes + c.hot_depth != 0) {
      absl::StrAppendFormat(
          &out,
          "%-28s hot_depth=%d coalesced=%d count_updates=%d "
          "count_envelopes=%d count_wakes=%d saturations=%d\n",
          "", c.hot_depth, c.coalesced_sends, c.count_updates,
          c.count_envelopes, c.count_wakes, c.count_saturations);
    }
    return out;
  };
  std::string out;
  for (const ShardStats& s : shards) {
    absl::StrAppend(&out, line(absl::StrCat("shard ", s.shard), s.actors));
    absl::StrAppendFormat(
        &out,
        "%-28s enqueued=%d sleeps=%d doorbells=%d backpressure=%d "
        "late_replies=%d flow_refusals=%d cpu=%d placement_moves=%d\n",
        "", s.transport.enqueued, s.transport.sleeps, s.transport.doorbells_sent,
        s.transport.backpressure, s.late_replies, s.flow_control_refusals,
        s.cpu, s.placement_moves);
    if (s.steal.pushed + s.steal.stolen != 0) {
      absl::StrAppendFormat(
          &out,
          "%-28s steal_pushed=%d stolen=%d steal_attempts=%d "
          "steal_refused=%d nudges=%d steal_depth=%d\n",
          "", s.steal.pushed, s.steal.stolen, s.steal.attempts,
          s.steal.refused, s.steal.nudges, s.steal.depth);
    }
  }
  for (const ActorTypeStats& t : types) {
    absl::StrAppend(&out, line(t.type, t.counters));
  }
  absl::StrAppend(&out, line("total", total));
  return out;
}

absl::Status ActorSystemOptions::Validate() const {
  auto bad = [](absl::string_view field, uint64_t v, absl::string_view range) {
    return absl::InvalidArgumentError(
        absl::StrCat("ActorSystemOptions.", field, " must be ", range,
                     ", got ", v));
  };
  if (num_shards.has_value() && (*num_shards == 0 || *num_shards > 256)) {
    return bad("num_shards", *num_shards,
               "in [1, 256] (or unset: one per CPU)");
  }
  if (mailbox_capacity == 0 || mailbox_capacity > (1u << 30)) {
    return bad("mailbox_capacity", mailbox_capacity, "in [1, 1 << 30]");
  }
  if (boundary_capacity == 0 || boundary_capacity > inbox_capacity) {
    return bad("boundary_capacity", boundary_capacity,
               "in [1, inbox_capacity] (calls alone must not overflow an "
               "inbox)");
  }
  if (boundary_spin < absl::ZeroDuration() ||
      boundary_spin > absl::Seconds(1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("ActorSystemOptions.boundary_spin must be in [0, 1s], got ",
                     absl::FormatDuration(boundary_spin)));
  }
  if (mailbox_batch == 0 || mailbox_batch > (1u << 16)) {
    return bad("mailbox_batch", mailbox_batch, "in [1, 65536]");
  }
  absl::Status status = ToShardSetOptions().Validate();
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("ActorSystemOptions: ", status.message()));
  }
  return absl::OkStatus();
}

scheduler::ShardSetOptions ActorSystemOptions::ToShardSetOptions() const {
  scheduler::ShardSetOptions s;
  s.num_shards = num_shards;
  s.pin_threads = pin_threads;
  s.mesh.lane_capacity = lane_capacity;
  s.mesh.inbox_capacity = inbox_capacity;
  s.mesh.idle_spin = idle_spin;
  s.loop.incoming_budget = incoming_budget;
  s.loop.backlog_capacity = backlog_capacity;
  s.loop.steal_queue_capacity = steal_queue_capacity;
  s.loop.steal_budget = steal_budget;
  return s;
}

ActorSystem::ActorSystem(const ActorSystemOptions& options)
    : options_(options) {}

absl::StatusOr<std::unique_ptr<ActorSystem>> ActorSystem::Create(
    const ActorSystemOptions& options) {
  if (absl::Status s = options.Validate(); !s.ok()) return s;
  const scheduler::ShardSetOptions set_options = options.ToShardSetOptions();
  const uint32_t n = scheduler::ShardSet::ResolveShardCount(set_options);

  std::unique_ptr<ActorSystem> system(new ActorSystem(options));
  system->boundary_ = std::shared_ptr<Boundary>(
      new Boundary(system.get(), options.boundary_capacity,
                   options.boundary_spin));
  std::vector<scheduler::ShardHooks*> hooks;
  for (uint32_t i = 0; i < n; ++i) {
    system->runtimes_.push_back(
        std::make_unique<internal::ShardRuntime>(*system, i, n));
    hooks.push_back(system->runtimes_.back().get());
  }
  auto set = scheduler::ShardSet::Create(set_options, std::move(hooks));
  if (!set.ok()) return set.status();
  system->shards_ = *std::move(set);
  return system;
}

ActorSystem::~ActorSystem() { Shutdown().IgnoreError(); }

absl::StatusOr<ActorSystem::Placed> ActorSystem::Place(
    Actor* actor, internal::ActorFactory* factory,
    const SpawnOptions& options) {
  auto fail = [&](absl::Status s) {
    delete factory;
    delete actor;
    return s;
  };
  if (closed()) {
    return fail(absl::UnavailableError("Spawn: the actor system is shutting down"));
  }
  const uint64_t rr =
      std::holds_alternative<RoundRobin>(options.placement)
          ? round_robin_.fetch_add(1, std::memory_order_relaxed)
          : 0;
  const ShardId shard = scheduler::Resolve(options.placement, num_shards(), rr);
  if (shard == transport::kForeignShard) {
    return fail(absl::InvalidArgumentError(absl::StrCat(
        "Spawn: Pinned shard ",
        std::get<Pinned>(options.placement).shard.value(), " out of range (",
        num_shards(), " shards)")));
  }
  actor->shard_ = shard.value();
  actor->factory_ = factory;
  actor->on_failure_ = options.on_failure;
  internal::ShardRuntime& rt = *runtimes_[shard.value()];
  auto slot = rt.slots().Allocate(actor);
  if (!slot.ok()) return fail(slot.status());
  const auto [index, gen] = *slot;
  // OnStart runs on the actor's shard; a message that gets there first
  // starts it too.
  internal::ShardRuntime* cur = internal::ShardRuntime::Current();
  absl::Status s;
  if (cur == &rt) {
    rt.StartActor(index, gen);
  } else {
    s = shards_->SubmitTo(shard, [&rt, index = index, gen = gen] {
      rt.StartActor(index, gen);
    });
  }
  // If the set is stopping, the actor is stopped with the others.
  if (!s.ok()) return s;
  return Placed{shard.value(), index, gen};
}

absl::Status ActorSystem::Deliver(uint32_t shard, internal::MessageNode* node,
                                  uint64_t tag) {
  if (closed()) {
    delete node;
    return absl::UnavailableError("the actor system is shutting down");
  }
  if (shard == internal::kStealableShard) return DeliverStealable(node, tag);
  internal::ShardRuntime* cur = internal::ShardRuntime::Current();
  const bool on_shard = cur != nullptr && &cur->system() == this;
  internal::ShardRuntime& target = *runtimes_[shard];
  if (on_shard && cur == &target) {  // same shard: no lane
    return target.Enqueue(node, /*local=*/true);
  }
  if (!target.slots().IsAlive(node->slot, node->gen)) {
    if (on_shard) {
      cur->CountDeadLetter(node->type);
    } else {
      foreign_dead_letters_.fetch_add(1, std::memory_order_relaxed);
    }
    delete node;
    // Shutdown stops every actor after closing the system: say so.
    if (closed()) {
      return absl::UnavailableError("the actor system is shutting down");
    }
    return absl::NotFoundError("the actor has stopped");
  }
  if (on_shard && node->kind != internal::MessageNode::Kind::kOrdinary &&
      tag == internal::kDeliverTag) {
    cur->SendHot(shard, node);  // past any lane backlog
    return absl::OkStatus();
  }
  return SendEnvelope(on_shard ? cur : nullptr, shard, node, tag,
                      /*counted=*/true);
}

namespace {

// Out of line and cold: its string building would otherwise give every
// cross-shard send a large stack frame.
ABSL_ATTRIBUTE_NOINLINE ABSL_ATTRIBUTE_COLD absl::Status AwayCapError(
    uint64_t away, uint32_t shard) {
  return absl::ResourceExhaustedError(absl::StrCat(
      away, " messages from this shard to shard ", shard,
      " are not yet handled there (lane_capacity + backlog_capacity); "
      "retry after the target drains (e.g. co_await Yield())"));
}

}  // namespace

absl::Status ActorSystem::SendEnvelope(internal::ShardRuntime* cur,
                                       uint32_t shard,
                                       internal::MessageNode* node,
                                       uint64_t tag, bool counted) {
  const transport::Envelope e{tag, reinterpret_cast<uint64_t>(node)};
  absl::Status s;
  if (cur != nullptr) {
    const bool request = tag != internal::kStopTag;
    if (counted && request && cur->AtAwayCap(shard, node)) {
      delete node;
      return AwayCapError(cur->away(shard), shard);
    }
    s = cur->shard().Send(ShardId(shard), e,
                          request ? scheduler::SendPriority::kRequest
                                  : scheduler::SendPriority::kReply);
    if (s.ok() && counted) cur->NoteAway(shard, node);
  } else {
    // Pairs with Shutdown(): either we see closed_, or it sees us and waits
    // until the envelope is in the inbox (where the final drain frees it).
    foreign_senders_.fetch_add(1, std::memory_order_seq_cst);
    if (closed_.load(std::memory_order_seq_cst)) {
      s = absl::UnavailableError("the actor system is shutting down");
    } else {
      s = shards_->mesh().Inject(ShardId(shard), e);
    }
    foreign_senders_.fetch_sub(1, std::memory_order_release);
  }
  if (!s.ok()) delete node;
  return s;
}

absl::Status ActorSystem::SubmitTo(ShardId to,
                                   absl::AnyInvocable<void() &&> fn) {
  if (closed()) {
    return absl::UnavailableError("SubmitTo: the actor system is shutting down");
  }
  return shards_->SubmitTo(to, std::move(fn));
}

absl::Status ActorSystem::Shutdown() {
  if (shards_ == nullptr) return absl::OkStatus();
  closed_.store(true, std::memory_order_seq_cst);
  while (foreign_senders_.load(std::memory_order_seq_cst) != 0) {
    std::this_thread::yield();  // each holder is inside one non-blocking push
  }
  boundary_->Close();
  absl::Status s = shards_->Stop();
  boundary_->FailAll();  // calls whose requests died with the shards
  return s;
}

SystemStats ActorSystem::Stats() const {
  SystemStats out;
  const uint32_t types = internal::ActorTypeCount();
  std::vector<ActorCounters> per_type(types);
  for (uint32_t i = 0; i < runtimes_.size(); ++i) {
    const internal::ShardRuntime& rt = *runtimes_[i];
    ShardStats s;
    s.shard = i;
    for (uint16_t t = 0; t < types; ++t) {
      const internal::TypeCounters& c = rt.counters(t);
      ActorCounters a;
      a.handled = c.handled.Load();
      a.mailbox_depth = c.mailbox_depth.Load();
      a.dead_letters = c.dead_letters.Load();
      a.asks_timed_out = c.asks_timed_out.Load();
      a.restarts = c.restarts.Load();
      a.failures = c.failures.Load();
      a.live_actors = c.live_actors.Load();
      a.hot_depth = c.hot_depth.Load();
      a.coalesced_sends = c.coalesced_sends.Load();
      a.count_updates = c.count_updates.Load();
      a.count_envelopes = c.count_envelopes.Load();
      a.count_wakes = c.count_wakes.Load();
      a.count_saturations = c.count_saturations.Load();
      s.actors += a;
      per_type[t] += a;
    }
    s.late_replies = rt.late_replies();
    s.cell_sends = rt.cells_taken();
    s.cell_misses = rt.cell_misses();
    s.flow_control_refusals = rt.flow_control_refusals();
    if (shards_ != nullptr) {
      s.transport = shards_->mesh().Stats(ShardId(i));
      s.steal = shards_->shard(ShardId(i)).steal_stats();
      s.cpu = shards_->shard(ShardId(i)).last_cpu();
      s.placement_moves = shards_->shard(ShardId(i)).placement_moves();
    }
    out.total += s.actors;
    out.shards.push_back(s);
  }
  for (uint16_t t = 0; t < types; ++t) {
    const ActorCounters& c = per_type[t];
    if (c.handled + c.dead_letters + c.live_actors + c.asks_timed_out +
            c.failures + c.mailbox_depth + c.count_updates ==
        0) {
      continue;
    }
    out.types.push_back(ActorTypeStats{internal::ActorTypeName(t), c});
  }
  out.foreign_dead_letters =
      foreign_dead_letters_.load(std::memory_order_relaxed);
  out.total.dead_letters += out.foreign_dead_letters;
  return out;
}

}  // namespace ringactor
