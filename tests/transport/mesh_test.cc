#include "transport/mesh.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "absl/time/clock.h"
#include "io/ring.h"
#include "tests/testing/shard_thread.h"
#include "tests/transport/mesh_test_util.h"

namespace ringactor::transport {
namespace {

using ::ringactor::testing::RunLoop;
using ::ringactor::testing::ShardThread;
using ::ringactor::testing::WaitUntil;
using ::testing::HasSubstr;
using testing::CountingReceiver;
using testing::MakeMesh;

uint64_t Checksum(uint64_t src, uint64_t dst, uint64_t seq) {
  uint64_t x = (src << 48) ^ (dst << 40) ^ seq;
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  return x;
}

TEST(MeshOptionsTest, EachBadFieldIsNamed) {
  struct Case {
    MeshOptions options;
    std::string field;
  };
  std::vector<Case> cases(5);
  cases[0].options.num_shards = 0;
  cases[0].field = "num_shards";
  cases[1].options.lane_capacity = 1000;
  cases[1].field = "lane_capacity";
  cases[2].options.inbox_capacity = 1;
  cases[2].field = "inbox_capacity";
  cases[3].options.idle_spin = absl::Seconds(5);
  cases[3].field = "idle_spin";
  cases[4].options.word_slots = 0;
  cases[4].field = "word_slots";
  for (const Case& c : cases) {
    auto mesh = Mesh::Create(c.options);
    EXPECT_EQ(mesh.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(mesh.status().message()), HasSubstr(c.field));
  }
  EXPECT_TRUE(Mesh::Create(MeshOptions()).ok());
}

// Both endpoints attached on the test thread (a thread may own several
// rings): every step is deterministic.
class TwoEndpointsOneThread : public ::testing::Test {
 protected:
  explicit TwoEndpointsOneThread(uint32_t lane_capacity = 8)
      : lane_capacity_(lane_capacity) {}
  void SetUp() override {
    MeshOptions o;
    o.lane_capacity = lane_capacity_;
    mesh_ = MakeMesh(o);
    ASSERT_NE(mesh_, nullptr);
    for (int i = 0; i < 2; ++i) {
      auto ring = io::Ring::Create();
      ASSERT_TRUE(ring.ok()) << ring.status();
      rings_[i] = std::move(*ring);
      ASSERT_TRUE(ep(i).Attach(rings_[i].get()).ok());
    }
  }
  void TearDown() override {
    for (int i = 0; i < 2; ++i) {
      if (rings_[i] != nullptr) {
        EXPECT_TRUE(ep(i).Detach().ok());
      }
    }
  }
  Endpoint& ep(int i) { return mesh_->endpoint(ShardId(i)); }

  const uint32_t lane_capacity_;
  std::unique_ptr<Mesh> mesh_;
  std::unique_ptr<io::Ring> rings_[2];
};

TEST_F(TwoEndpointsOneThread, EnvelopesArriveAtFlushInFifoOrder) {
  std::vector<uint64_t> got;
  struct Recorder : Receiver {
    std::vector<uint64_t>* got;
    ShardId* from;
    void OnEnvelopes(ShardId f, const Envelope* e, size_t n) override {
      *from = f;
      for (size_t i = 0; i < n; ++i) got->push_back(e[i].value);
    }
    void OnWord(uint32_t, uint64_t) override {}
  } rec;
  ShardId from(99);
  rec.got = &got;
  rec.from = &from;
  for (uint64_t i = 0; i < 5; ++i) ASSERT_TRUE(ep(0).Send(ShardId(1), {0, i}).ok());
  EXPECT_EQ(ep(1).Poll(rec, 100), 0u);  // not published yet
  ASSERT_TRUE(ep(0).Flush().ok());
  EXPECT_EQ(ep(1).Poll(rec, 100), 5u);
  EXPECT_EQ(got, (std::vector<uint64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(from, ShardId(0));
  EXPECT_EQ(mesh_->Stats(ShardId(0)).enqueued, 5u);
  EXPECT_EQ(mesh_->Stats(ShardId(1)).dequeued, 5u);
}

TEST_F(TwoEndpointsOneThread, BackpressureThenRecovery) {
  CountingReceiver r;
  int accepted = 0;
  absl::Status s;
  while ((s = ep(0).Send(ShardId(1), {0, 1})).ok()) ++accepted;
  EXPECT_EQ(accepted, 8);  // exactly the lane capacity
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(s.message()), HasSubstr("0->1"));
  EXPECT_EQ(mesh_->Stats(ShardId(0)).backpressure, 1u);
  // The full lane was published by the refused Send: nothing is stranded.
  EXPECT_EQ(ep(1).Poll(r, 100), 8u);
  EXPECT_TRUE(ep(0).Send(ShardId(1), {0, 2}).ok());
  ASSERT_TRUE(ep(0).Flush().ok());
  EXPECT_EQ(ep(1).Poll(r, 100), 1u);
  EXPECT_EQ(r.received.load(), 9u);
}

TEST_F(TwoEndpointsOneThread, TryQueueNeitherPublishesNorBuildsAStatus) {
  CountingReceiver r;
  int accepted = 0;
  while (ep(0).TryQueue(ShardId(1), {0, 1})) ++accepted;
  EXPECT_EQ(accepted, 8);  // exactly the lane capacity
  EXPECT_EQ(mesh_->Stats(ShardId(0)).backpressure, 1u);
  // Unlike a refused Send, a refused TryQueue left the lane unpublished:
  // the caller's own flush makes it visible.
  EXPECT_EQ(ep(1).Poll(r, 100), 0u);
  ASSERT_TRUE(ep(0).Flush().ok());
  EXPECT_EQ(ep(1).Poll(r, 100), 8u);
  EXPECT_TRUE(ep(0).TryQueue(ShardId(1), {0, 2}));
  ASSERT_TRUE(ep(0).Flush().ok());
  EXPECT_EQ(ep(1).Poll(r, 100), 1u);
  EXPECT_EQ(r.received.load(), 9u);
}

TEST_F(TwoEndpointsOneThread, PollHonoursItsBudget) {
  CountingReceiver r;
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(ep(0).Send(ShardId(1), {}).ok());
  ASSERT_TRUE(ep(0).Flush().ok());
  EXPECT_EQ(ep(1).Poll(r, 4), 4u);
  EXPECT_EQ(ep(1).Poll(r, 4), 2u);
}

// Records lane and inbox envelopes in arrival order; reports urgency when
// told to (once, or always).
class UrgencyReceiver : public Receiver {
 public:
  void OnEnvelopes(ShardId from, const Envelope* e, size_t n) override {
    for (size_t i = 0; i < n; ++i) {
      order.push_back(from == kForeignShard ? -1 : static_cast<int>(e[i].value));
      if (from == kForeignShard) urgent_once = true;
    }
    if (on_first_lane_batch && from != kForeignShard) {
      std::exchange(on_first_lane_batch, nullptr)();
    }
  }
  void OnWord(uint32_t, uint64_t) override {}
  bool TakeUrgent() override {
    return always_urgent || std::exchange(urgent_once, false);
  }
  std::vector<int> order;  // lane values, -1 for an inbox envelope
  bool urgent_once = false;
  bool always_urgent = false;
  std::function<void()> on_first_lane_batch;
};

// 200 envelopes published in the lane 0 -> 1.
class ChunkedPoll : public TwoEndpointsOneThread {
 protected:
  ChunkedPoll() : TwoEndpointsOneThread(/*lane_capacity=*/256) {}
  void SetUp() override {
    TwoEndpointsOneThread::SetUp();
    if (HasFatalFailure()) return;
    for (uint64_t v = 0; v < kLaneEnvelopes; ++v) {
      ASSERT_TRUE(ep(0).Send(ShardId(1), {0, v}).ok());
    }
    ASSERT_TRUE(ep(0).Flush().ok());
  }
  static constexpr uint64_t kLaneEnvelopes = 200;
  static constexpr size_t kChunk = Endpoint::kLaneChunk;
};

TEST_F(ChunkedPoll, UrgentWorkArrivingMidDrainEndsItAfterOneChunk) {
  UrgencyReceiver r;
  // An urgent envelope lands in the inbox while the lane is being drained.
  r.on_first_lane_batch = [&] {
    ASSERT_TRUE(mesh_->Inject(ShardId(1), {0, 0}).ok());
  };
  EXPECT_EQ(ep(1).Poll(r, 1024), kChunk + 1);
  ASSERT_EQ(r.order.size(), kChunk + 1);
  EXPECT_EQ(r.order[kChunk], -1);  // right after the first chunk
  for (size_t i = 0; i < kChunk; ++i) EXPECT_EQ(r.order[i], static_cast<int>(i));
  // The rest of the lane comes with the next poll, in order.
  EXPECT_EQ(ep(1).Poll(r, 1024), kLaneEnvelopes - kChunk);
  ASSERT_EQ(r.order.size(), kLaneEnvelopes + 1);
  EXPECT_EQ(r.order.back(), static_cast<int>(kLaneEnvelopes - 1));
}

TEST_F(ChunkedPoll, WithoutUrgencyOnePollTakesTheWholeBudget) {
  UrgencyReceiver r;
  EXPECT_EQ(ep(1).Poll(r, 1024), kLaneEnvelopes);
}

TEST_F(ChunkedPoll, UrgentInboxWorkGoesFirstButNeverTwoPollsInARow) {
  UrgencyReceiver r;
  ASSERT_TRUE(mesh_->Inject(ShardId(1), {0, 0}).ok());
  EXPECT_EQ(ep(1).Poll(r, 1024), 1u);  // the urgent envelope, no lane yet
  EXPECT_EQ(r.order, std::vector<int>{-1});
  // More urgent work at once: this poll takes the lanes anyway.
  ASSERT_TRUE(mesh_->Inject(ShardId(1), {0, 0}).ok());
  EXPECT_EQ(ep(1).Poll(r, 1024), 1 + kChunk);
  EXPECT_EQ(r.order[1], -1);
  EXPECT_EQ(r.order[2], 0);
}

TEST_F(ChunkedPoll, LanesProgressUnderConstantUrgency) {
  UrgencyReceiver r;
  r.always_urgent = true;
  uint64_t total = 0;
  int polls = 0;
  while (total < kLaneEnvelopes) {
    // At least one chunk in every two polls.
    const size_t got = ep(1).Poll(r, 1024) + ep(1).Poll(r, 1024);
    ASSERT_GE(got, std::min<uint64_t>(kChunk, kLaneEnvelopes - total));
    total += got;
    ASSERT_LT(++polls, 100);
  }
  EXPECT_EQ(total, kLaneEnvelopes);
}

TEST_F(TwoEndpointsOneThread, SendToSelf) {
  CountingReceiver r;
  ASSERT_TRUE(ep(0).Send(ShardId(0), {0, 42}).ok());
  ASSERT_TRUE(ep(0).Flush().ok());
  EXPECT_EQ(ep(0).Poll(r, 10), 1u);
  EXPECT_EQ(r.last_value.load(), 42u);
}

TEST_F(TwoEndpointsOneThread, RejectsUnknownShards) {
  EXPECT_EQ(ep(0).Send(ShardId(7), {}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ep(0).SendWord(ShardId(7), 5, 0).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(mesh_->Inject(ShardId(7), {}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(mesh_->Wake(ShardId(7)).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ep(0).SendUrgent(ShardId(7), {}).code(),
            absl::StatusCode::kInvalidArgument);
}

// An urgent send needs no Flush, and is taken before lane envelopes that
// were published earlier. It is counted by its sender, not as foreign.
TEST_F(TwoEndpointsOneThread, AnUrgentSendIsVisibleAtOnceAndGoesFirst) {
  UrgencyReceiver r;
  ASSERT_TRUE(ep(0).Send(ShardId(1), {0, 7}).ok());
  ASSERT_TRUE(ep(0).Flush().ok());
  ASSERT_TRUE(ep(0).SendUrgent(ShardId(1), {0, 0}).ok());
  EXPECT_EQ(ep(1).Poll(r, 100), 1u);  // urgent work skips the lanes once
  EXPECT_EQ(r.order, (std::vector<int>{-1}));
  EXPECT_EQ(ep(1).Poll(r, 100), 1u);
  EXPECT_EQ(r.order, (std::vector<int>{-1, 7}));
  const TransportStats sender = mesh_->Stats(ShardId(0));
  EXPECT_EQ(sender.urgent_sent, 1u);
  EXPECT_EQ(sender.enqueued, 1u);
  EXPECT_EQ(mesh_->Stats(ShardId(1)).inbox_enqueued, 0u);
  EXPECT_EQ(mesh_->Stats(ShardId(1)).dequeued, 2u);
}

TEST_F(TwoEndpointsOneThread, AFullInboxRefusesUrgentSendsAndLosesNothing) {
  const uint32_t capacity = mesh_->options().inbox_capacity;
  uint32_t accepted = 0;
  absl::Status s;
  while ((s = ep(0).SendUrgent(ShardId(1), {0, accepted})).ok()) {
    ASSERT_LE(++accepted, capacity);
  }
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
  EXPECT_EQ(accepted, capacity);
  EXPECT_EQ(mesh_->Stats(ShardId(0)).backpressure, 1u);
  CountingReceiver r;
  EXPECT_EQ(ep(1).Poll(r, SIZE_MAX), capacity);
  EXPECT_EQ(r.last_value.load(), capacity - 1);
  EXPECT_TRUE(ep(0).SendUrgent(ShardId(1), {0, 1}).ok());  // room again
}

// A nudge makes the target's next Poll report work; one it has not
// consumed yet makes a second nudge write nothing.
TEST_F(TwoEndpointsOneThread, ANudgeStillPendingIsNotRepeated) {
  using Nudged = Endpoint::Nudged;
  CountingReceiver r;
  EXPECT_EQ(ep(1).Poll(r, 16), 0u);
  EXPECT_EQ(ep(0).Nudge(ShardId(1)), Nudged::kPosted);
  EXPECT_EQ(ep(0).Nudge(ShardId(1)), Nudged::kPending);
  EXPECT_EQ(ep(1).Poll(r, 16), 1u);  // the request, consumed: counts as work
  EXPECT_EQ(ep(1).Poll(r, 16), 0u);
  EXPECT_EQ(ep(0).Nudge(ShardId(1)), Nudged::kPosted);
  EXPECT_EQ(r.received.load(), 0u);
}

TEST_F(TwoEndpointsOneThread, DirectWordsNeedNoLane) {
  CountingReceiver r;
  ASSERT_TRUE(ep(0).SendWord(ShardId(1), 17, 0xabcdef0123456789ull).ok());
  ASSERT_TRUE(ep(0).Flush().ok());
  ASSERT_TRUE(WaitUntil([&] {
    ep(0).Poll(r, 10);  // recycles the word's slot from its CQE
    return ep(1).Poll(r, 10) != 0 || r.words.load() != 0;
  }));
  EXPECT_EQ(r.last_word_tag.load(), 17u);
  EXPECT_EQ(r.last_word_value.load(), 0xabcdef0123456789ull);
  EXPECT_EQ(mesh_->Stats(ShardId(0)).words_sent, 1u);
  EXPECT_EQ(mesh_->Stats(ShardId(1)).words_received, 1u);
  EXPECT_EQ(ep(0).SendWord(ShardId(1), 0, 0).code(),
            absl::StatusCode::kInvalidArgument);  // the doorbell's tag
}

TEST_F(TwoEndpointsOneThread, WordSlotsAreBounded) {
  MeshOptions o;
  o.word_slots = 2;
  auto mesh = MakeMesh(o);
  auto ring = io::Ring::Create();
  ASSERT_TRUE(ring.ok());
  Endpoint& e = mesh->endpoint(ShardId(0));
  ASSERT_TRUE(e.Attach(ring->get()).ok());
  EXPECT_TRUE(e.SendWord(ShardId(0), 3, 1).ok());
  EXPECT_TRUE(e.SendWord(ShardId(0), 3, 2).ok());
  EXPECT_EQ(e.SendWord(ShardId(0), 3, 3).code(),
            absl::StatusCode::kResourceExhausted);
  CountingReceiver r;
  ASSERT_TRUE(e.Flush().ok());
  ASSERT_TRUE(WaitUntil([&] {
    e.Poll(r, 10);
    return r.words.load() == 2 && e.SendWord(ShardId(0), 3, 4).ok();
  }));
  EXPECT_TRUE(e.Detach().ok());  // waits for the last word's CQE
}

TEST_F(TwoEndpointsOneThread, AWordToADetachedShardIsUnavailable) {
  ASSERT_TRUE(ep(1).Detach().ok());
  rings_[1].reset();
  EXPECT_EQ(ep(0).SendWord(ShardId(1), 5, 0).code(),
            absl::StatusCode::kUnavailable);
}

TEST_F(TwoEndpointsOneThread, AttachIsCheckedAndOnce) {
  auto ring = io::Ring::Create();
  ASSERT_TRUE(ring.ok());
  EXPECT_EQ(ep(0).Attach(ring->get()).code(),
            absl::StatusCode::kFailedPrecondition);  // already attached
  MeshOptions o;
  auto mesh = MakeMesh(o);
  absl::Status off_thread;
  std::thread other(
      [&] { off_thread = mesh->endpoint(ShardId(0)).Attach(ring->get()); });
  other.join();
  EXPECT_EQ(off_thread.code(), absl::StatusCode::kFailedPrecondition);
}

// Every shard sends to every shard (itself included); each (source, target)
// stream must arrive complete, in order and uncorrupted.
TEST(MeshThreadsTest, AllToAllMillionEnvelopesWithChecksums) {
  constexpr uint32_t kShards = 3;
  constexpr uint64_t kPerPair = 120'000;  // 9 pairs: 1.08 M envelopes
  MeshOptions o;
  o.num_shards = kShards;
  o.lane_capacity = 256;
  auto mesh = MakeMesh(o);

  struct Checker final : Receiver {
    ShardId self{0};
    uint64_t next[kShards] = {};
    std::atomic<uint64_t> received{0};
    std::atomic<bool> ok{true};
    void OnEnvelopes(ShardId from, const Envelope* e, size_t n) override {
      for (size_t i = 0; i < n; ++i) {
        const uint64_t seq = e[i].tag;
        if (seq != next[from.value()] ||
            e[i].value != Checksum(from.value(), self.value(), seq)) {
          ok = false;
        }
        ++next[from.value()];
      }
      received.fetch_add(n);
    }
    void OnWord(uint32_t, uint64_t) override {}
  };
  Checker checkers[kShards];
  std::atomic<bool> stop{false};
  std::vector<std::unique_ptr<ShardThread>> shards;
  for (uint32_t s = 0; s < kShards; ++s) {
    checkers[s].self = ShardId(s);
    shards.push_back(std::make_unique<ShardThread>(
        *mesh, ShardId(s), [&, s](Endpoint& ep) {
          uint64_t seq[kShards] = {};
          for (bool more = true; more;) {
            more = false;
            for (uint32_t t = 0; t < kShards; ++t) {
              while (seq[t] < kPerPair &&
                     ep.Send(ShardId(t), {seq[t], Checksum(s, t, seq[t])})
                         .ok()) {
                ++seq[t];
              }
              more |= seq[t] < kPerPair;
            }
            (void)ep.Flush();
            ep.Poll(checkers[s], 1024);
          }
          RunLoop(ep, checkers[s], stop);
        }));
  }
  EXPECT_TRUE(WaitUntil([&] {
    for (const Checker& c : checkers) {
      if (c.received.load() < kShards * kPerPair) return false;
    }
    return true;
  }));
  stop = true;
  for (uint32_t s = 0; s < kShards; ++s) ASSERT_TRUE(mesh->Wake(ShardId(s)).ok());
  for (auto& t : shards) EXPECT_TRUE(t->Join().ok());
  for (const Checker& c : checkers) {
    EXPECT_TRUE(c.ok.load());
    EXPECT_EQ(c.received.load(), kShards * kPerPair);
  }
  const TransportStats total = mesh->TotalStats();
  EXPECT_EQ(total.enqueued, kShards * kShards * kPerPair);
  EXPECT_EQ(total.dequeued, kShards * kShards * kPerPair);
  EXPECT_EQ(total.cq_dropped, 0u);
}

}  // namespace
}  // namespace ringactor::transport
