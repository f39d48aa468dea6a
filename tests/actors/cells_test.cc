// File: tests/actors/cells_test.cc
//
// Messages and replies between shards built in the sender's CellRing for
// the target shard (see Traveler in actors/internal/message.h): which sends
// use cells, that order and contents survive, that a message held for long
// does not stop the ring, and that the default flow-control window fits in
// one ring. Synchronization is by events (WaitUntil, Asks), never sleeps.

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "actors/actor_system.h"
#include "gtest/gtest.h"
#include "scheduler/cell_ring.h"
#include "tests/actors/actor_test_util.h"
#include "tests/actors/test_messages.pb.h"
#include "tests/testing/actor_testing.h"
#include "tests/testing/shard_thread.h"

namespace ringactor::testing {
namespace {

using scheduler::CellRing;
using test::CellReport;
using test::Get;
using test::Ping;
using test::Pong;
using test::Snooze;

std::atomic<bool> gate{false};
std::atomic<bool> holding{false};

// Records, for every message, whether it lay in a cell, and whether the
// pings came in order.
class Recorder : public Actor {
 public:
  void Handle(const Ping& p) {
    Note(&p);
    if (p.seq() != next_seq_) in_order_ = false;
    next_seq_ = p.seq() + 1;
  }
  // A string too long for the short-string buffer: heap memory that the
  // sending shard must free (LeakSanitizer reports it otherwise).
  void Handle(const test::Boom& b) {
    Note(&b);
    if (b.what().size() != 100) in_order_ = false;
  }
  Pong Handle(const test::Hop& h) {
    Note(&h);
    Pong r;
    r.set_seq(h.hops());
    return r;
  }
  // Held (mailbox and message) until `gate` opens; then reads the message
  // again: it must not have been overwritten meanwhile.
  Task<void> Handle(const Snooze& s) {
    Note(&s);
    holding = true;
    co_await YieldUntil([] { return gate.load(); });
    held_millis_ = s.millis();
  }
  CellReport Handle(const Get&) {
    CellReport r;
    r.set_handled(handled_);
    r.set_in_cells(in_cells_);
    r.set_in_order(in_order_);
    r.set_held_millis(held_millis_);
    return r;
  }

 private:
  void Note(const void* msg) {
    ++handled_;
    if (CellRing::Contains(msg)) ++in_cells_;
  }
  int64_t handled_ = 0, in_cells_ = 0, next_seq_ = 0, held_millis_ = 0;
  bool in_order_ = true;
};

CellReport Report(ActorSystem& sys, const ActorRef<Recorder>& r) {
  absl::StatusOr<CellReport> rep =
      sys.RunOn(r.shard(), [r]() -> Task<absl::StatusOr<CellReport>> {
        co_return co_await r.Ask(Get(), kHangGuard);
      });
  EXPECT_TRUE(rep.ok()) << rep.status();
  return rep.value_or(CellReport());
}

// Sends pings seq [from, to) to `r` from shard `on`, in one loop turn
// unless flow control refuses one (then it yields and retries).
absl::Status SendPings(ActorSystem& sys, ShardId on, ActorRef<Recorder> r,
                       int64_t from, int64_t to) {
  return sys.RunOn(on, [r, from, to]() -> Task<absl::Status> {
    for (int64_t i = from; i < to; ++i) {
      Ping p;
      p.set_seq(i);
      if (absl::Status s = co_await TellRetrying(r, p); !s.ok()) co_return s;
    }
    co_return absl::OkStatus();
  });
}

TEST(CellsTest, SendsToAnotherShardAreBuiltInCellsAndKeepTheirOrder) {
  auto sys = MakeSystem();
  auto rec = sys->Spawn<Recorder>(SpawnOptions{Pinned{kShard1}});
  ASSERT_TRUE(rec.ok());
  // One loop turn of 100 sends: the first uses the block cache (the first
  // take of a turn, see CellRing::TryTake), the other 99 cells.
  ASSERT_TRUE(SendPings(*sys, kShard0, *rec, 0, 100).ok());
  ASSERT_TRUE(WaitUntil([&] { return Report(*sys, *rec).handled() == 100; }));
  CellReport r = Report(*sys, *rec);
  EXPECT_EQ(r.handled(), 100);
  EXPECT_TRUE(r.in_order());
  EXPECT_GE(r.in_cells(), 99);
  EXPECT_GE(sys->Stats().shards[0].cell_sends, 99u);
  // Messages that own heap memory: destroyed by shard 0 when it takes
  // their cells again, or with its rings.
  ASSERT_TRUE(sys->RunOn(kShard0, [r = *rec]() -> Task<absl::Status> {
                    test::Boom b;
                    b.set_what(std::string(100, 'x'));
                    for (int i = 0; i < 50; ++i) {
                      if (absl::Status s = r.Tell(b); !s.ok()) co_return s;
                    }
                    co_return absl::OkStatus();
                  }).ok());
  ASSERT_TRUE(WaitUntil([&] { return Report(*sys, *rec).handled() == 150; }));
  EXPECT_GE(Report(*sys, *rec).in_cells(), 99 + 49);
  const int64_t cross_shard_in_cells = Report(*sys, *rec).in_cells();
  // Same shard: the mailbox, no cell.
  ASSERT_TRUE(SendPings(*sys, kShard1, *rec, 100, 120).ok());
  // A thread outside the system: the inbox, no cell.
  for (int64_t i = 120; i < 130; ++i) {
    Ping p;
    p.set_seq(i);
    ASSERT_TRUE(rec->Tell(p).ok());
  }
  ASSERT_TRUE(WaitUntil([&] { return Report(*sys, *rec).handled() == 180; }));
  r = Report(*sys, *rec);
  EXPECT_TRUE(r.in_order());
  EXPECT_EQ(r.in_cells(), cross_shard_in_cells);  // none of the 30 later
  EXPECT_EQ(sys->Stats().shards[1].cell_sends, 0u);  // shard 1 sent none
}

TEST(CellsTest, AsksAndTheirRepliesBetweenShardsUseCells) {
  auto sys = MakeSystem();
  std::vector<ActorRef<Recorder>> recs;
  for (int i = 0; i < 8; ++i) {
    auto r = sys->Spawn<Recorder>(SpawnOptions{Pinned{kShard1}});
    ASSERT_TRUE(r.ok());
    recs.push_back(*r);
  }
  // Ten rounds of 8 Asks sent in one turn, answered on shard 1 (several
  // replies per turn there, so some in cells).
  absl::Status s = sys->RunOn(kShard0, [&recs]() -> Task<absl::Status> {
    for (int round = 0; round < 10; ++round) {
      test::Hop h;
      h.set_hops(round);
      std::vector<absl::StatusOr<Pong>> got =
          co_await AskAll(recs, h, kHangGuard);
      for (const absl::StatusOr<Pong>& p : got) {
        if (!p.ok()) co_return p.status();
        if (p->seq() != round) co_return absl::InternalError("wrong reply");
      }
    }
    co_return absl::OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
  int64_t requests_in_cells = 0;
  for (const auto& r : recs) requests_in_cells += Report(*sys, r).in_cells();
  EXPECT_GE(requests_in_cells, 10 * 7);  // all but the first of each turn
  const SystemStats st = sys->Stats();
  EXPECT_GT(st.shards[1].cell_sends, 0u);  // replies
}

TEST(CellsTest, AMessageHeldForLongDoesNotStopTheRingAndIsNotOverwritten) {
  gate = false;
  holding = false;
  auto sys = MakeSystem();
  auto holder = sys->Spawn<Recorder>(SpawnOptions{Pinned{kShard1}});
  auto rec = sys->Spawn<Recorder>(SpawnOptions{Pinned{kShard1}});
  ASSERT_TRUE(holder.ok() && rec.ok());
  // In one turn: a ping (the block cache), then the snooze, in a cell.
  ASSERT_TRUE(sys->RunOn(kShard0, [h = *holder]() -> Task<absl::Status> {
                    Ping p;
                    if (absl::Status s = h.Tell(p); !s.ok()) co_return s;
                    Snooze z;
                    z.set_millis(4242);
                    co_return h.Tell(z);
                  }).ok());
  ASSERT_TRUE(WaitUntil([] { return holding.load(); }));
  // Three laps of the ring while the snooze keeps its cell.
  constexpr int64_t kPings = 3 * CellRing::kCells;
  ASSERT_TRUE(SendPings(*sys, kShard0, *rec, 0, kPings).ok());
  ASSERT_TRUE(
      WaitUntil([&] { return Report(*sys, *rec).handled() == kPings; }));
  CellReport r = Report(*sys, *rec);
  EXPECT_TRUE(r.in_order());
  EXPECT_GT(r.in_cells(), kPings / 2);
  gate = true;
  ASSERT_TRUE(WaitUntil([&] { return Report(*sys, *holder).handled() == 2; }));
  r = Report(*sys, *holder);
  EXPECT_EQ(r.in_cells(), 1);           // the snooze
  EXPECT_EQ(r.held_millis(), 4242);     // intact after three laps
}

// What a receiving shard may destroy itself (nothing that frees heap
// memory: that goes back to its origin alive, CellRing::Finish).
TEST(CellsTest, OnlyWhatOwnsNoHeapMemoryIsDestroyedByTheReceiver) {
  EXPECT_TRUE(internal::IsFlatMessage<Ping>());          // two int64
  EXPECT_TRUE(internal::IsFlatMessage<CellReport>());    // scalars, a bool
  EXPECT_FALSE(internal::IsFlatMessage<test::Boom>());   // a string
  EXPECT_FALSE(internal::IsFlatMessage<test::Report>());  // a repeated field
  using PingNode = internal::TypedNode<Recorder, Ping>;
  using BoomNode = internal::TypedNode<Recorder, test::Boom>;
  EXPECT_FALSE(PingNode(Ping()).OwnsHeap());
  EXPECT_TRUE(BoomNode(test::Boom()).OwnsHeap());
  EXPECT_FALSE(internal::ReplyNode(absl::OkStatus()).OwnsHeap());
  EXPECT_TRUE(internal::ReplyNode(absl::InternalError("x")).OwnsHeap());
  EXPECT_FALSE(internal::TypedReply<Pong>(Pong()).OwnsHeap());
  EXPECT_TRUE(internal::TypedReply<test::Boom>(test::Boom()).OwnsHeap());
}

TEST(CellsTest, TheDefaultFlowControlWindowFitsInOneRing) {
  const ActorSystemOptions o;
  EXPECT_LE(uint64_t{o.lane_capacity} + o.backlog_capacity,
            uint64_t{CellRing::kCells});
}

// A window deeper than the default gets a ring as deep: 9,000 messages held
// at the target (its mailbox is held by a suspended handler) all lie in
// cells. With the default ring of 4,096, ~4,900 of them found no free cell
// and came from the block cache.
TEST(CellsTest, ADeeperWindowGetsARingAsDeep) {
  gate = false;
  holding = false;
  ActorSystemOptions o;
  o.backlog_capacity = 10'000 - o.lane_capacity;  // a ring of 16,384
  auto sys = MakeSystem(o);
  auto holder = sys->Spawn<Recorder>(SpawnOptions{Pinned{kShard1}});
  ASSERT_TRUE(holder.ok());
  ASSERT_TRUE(sys->RunOn(kShard0, [h = *holder]() -> Task<absl::Status> {
                    Snooze z;
                    co_return h.Tell(z);
                  }).ok());
  ASSERT_TRUE(WaitUntil([] { return holding.load(); }));
  constexpr int64_t kPings = 9'000;
  ASSERT_TRUE(SendPings(*sys, kShard0, *holder, 0, kPings).ok());
  // All of them are out now (built, then queued in the lane or shard 0's
  // backlog): none found its ring full.
  const ShardStats st = sys->Stats().shards[0];
  EXPECT_EQ(st.cell_misses, 0u);
  EXPECT_GE(st.cell_sends, uint64_t{kPings} - 1);  // the turn's first: not
  gate = true;
  ASSERT_TRUE(
      WaitUntil([&] { return Report(*sys, *holder).handled() == kPings + 1; }));
  const CellReport r = Report(*sys, *holder);
  EXPECT_TRUE(r.in_order());
  EXPECT_GE(r.in_cells(), kPings - 1);
}

}  // namespace
}  // namespace ringactor::testing
