#include "transport/lane.h"

#include <cstdint>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "transport/inbox.h"

namespace ringactor::transport {
namespace {

std::vector<uint64_t> DrainAll(Lane& lane) {
  std::vector<uint64_t> got;
  lane.Drain(SIZE_MAX, [&](const Envelope* e, size_t n) {
    for (size_t i = 0; i < n; ++i) got.push_back(e[i].value);
  });
  return got;
}

TEST(LaneTest, NothingIsVisibleBeforePublish) {
  Lane lane(8);
  ASSERT_TRUE(lane.TryPush({1, 10}));
  EXPECT_FALSE(lane.HasPublished());
  EXPECT_TRUE(lane.HasUnpublished());
  EXPECT_TRUE(DrainAll(lane).empty());
  EXPECT_EQ(lane.Publish(), 1u);
  EXPECT_TRUE(lane.HasPublished());
  EXPECT_EQ(DrainAll(lane), std::vector<uint64_t>{10});
}

TEST(LaneTest, IsFifoAcrossWraparound) {
  Lane lane(4);
  uint64_t next_in = 0, next_out = 0;
  for (int round = 0; round < 10; ++round) {
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(lane.TryPush({0, next_in++}));
    lane.Publish();
    for (uint64_t v : DrainAll(lane)) EXPECT_EQ(v, next_out++);
  }
  EXPECT_EQ(next_out, next_in);
}

TEST(LaneTest, RefusesWhenFullAndRecoversAfterDrain) {
  Lane lane(4);
  for (uint64_t i = 0; i < 4; ++i) ASSERT_TRUE(lane.TryPush({0, i}));
  EXPECT_FALSE(lane.TryPush({0, 99}));
  lane.Publish();
  EXPECT_FALSE(lane.TryPush({0, 99}));
  EXPECT_EQ(DrainAll(lane).size(), 4u);
  EXPECT_TRUE(lane.TryPush({0, 4}));
}

TEST(LaneTest, DrainRespectsMax) {
  Lane lane(16);
  for (uint64_t i = 0; i < 10; ++i) ASSERT_TRUE(lane.TryPush({0, i}));
  lane.Publish();
  size_t seen = 0;
  EXPECT_EQ(lane.Drain(3, [&](const Envelope*, size_t n) { seen += n; }), 3u);
  EXPECT_EQ(seen, 3u);
  EXPECT_EQ(DrainAll(lane).front(), 3u);
}

TEST(LaneTest, ACaughtUpConsumerTakesASmallBatchFromTheLead) {
  Lane lane(8);
  ASSERT_TRUE(lane.TryPush({1, 10}));
  ASSERT_TRUE(lane.TryPush({2, 20}));
  lane.Publish();
  std::vector<Envelope> got;
  EXPECT_EQ(lane.Drain(SIZE_MAX,
                       [&](const Envelope* e, size_t n) {
                         got.insert(got.end(), e, e + n);
                       }),
            2u);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].tag, 1u);
  EXPECT_EQ(got[0].value, 10u);
  EXPECT_EQ(got[1].tag, 2u);
  EXPECT_EQ(got[1].value, 20u);
  EXPECT_EQ(lane.lead_drained(), 2u);
}

TEST(LaneTest, ABatchLargerThanTheLeadContinuesFromTheSlots) {
  Lane lane(8);
  uint64_t next_in = 0, next_out = 0;
  for (int round = 0; round < 5; ++round) {  // across the wrap, too
    for (int i = 0; i < 7; ++i) ASSERT_TRUE(lane.TryPush({0, next_in++}));
    lane.Publish();
    for (uint64_t v : DrainAll(lane)) EXPECT_EQ(v, next_out++);
  }
  EXPECT_EQ(next_out, next_in);
  EXPECT_EQ(lane.lead_drained(), 5u * 3u);  // three per batch
}

TEST(LaneTest, AConsumerBehindReadsTheSlots) {
  Lane lane(8);
  // Two batches before a drain: the lead is the second one's, and the
  // consumer starts at the first.
  ASSERT_TRUE(lane.TryPush({0, 0}));
  lane.Publish();
  ASSERT_TRUE(lane.TryPush({0, 1}));
  lane.Publish();
  EXPECT_EQ(DrainAll(lane), (std::vector<uint64_t>{0, 1}));
  EXPECT_EQ(lane.lead_drained(), 0u);
  // Caught up again: the next batch comes from the lead.
  ASSERT_TRUE(lane.TryPush({0, 2}));
  lane.Publish();
  EXPECT_EQ(DrainAll(lane), (std::vector<uint64_t>{2}));
  EXPECT_EQ(lane.lead_drained(), 1u);
}

TEST(LaneTest, APartialDrainTakesTheRestFromTheSlots) {
  Lane lane(8);
  for (uint64_t i = 0; i < 3; ++i) ASSERT_TRUE(lane.TryPush({0, i}));
  lane.Publish();
  std::vector<uint64_t> got;
  EXPECT_EQ(lane.Drain(1,
                       [&](const Envelope* e, size_t n) {
                         for (size_t i = 0; i < n; ++i) got.push_back(e[i].value);
                       }),
            1u);
  EXPECT_EQ(lane.lead_drained(), 1u);
  for (uint64_t v : DrainAll(lane)) got.push_back(v);
  EXPECT_EQ(got, (std::vector<uint64_t>{0, 1, 2}));
  EXPECT_EQ(lane.lead_drained(), 1u);  // the head is past the lead's start
}

// Moves `count` envelopes {3 * i, i} from a producer thread, which
// publishes after a push whenever `publish_now()` says so (and when the lane
// is full); true if the consumer saw every one, in order.
template <typename PublishNow>
bool MovesInOrder(Lane& lane, uint64_t count, PublishNow publish_now) {
  std::thread producer([&] {
    for (uint64_t i = 0; i < count;) {
      if (lane.TryPush({i * 3, i})) {
        ++i;
        if (publish_now()) lane.Publish();
      } else {
        lane.Publish();
        std::this_thread::yield();
      }
    }
    lane.Publish();
  });
  uint64_t expected = 0;
  bool in_order = true;
  while (expected < count) {
    const size_t n = lane.Drain(SIZE_MAX, [&](const Envelope* e, size_t c) {
      for (size_t i = 0; i < c; ++i) {
        in_order &= e[i].value == expected && e[i].tag == expected * 3;
        ++expected;
      }
    });
    if (n == 0) std::this_thread::yield();
  }
  producer.join();
  return in_order && expected == count;
}

// Batches of one to four, published one after another while the consumer
// drains: the lead is rewritten under the consumer's feet all the time, and
// a torn or stale lead would show as an envelope out of order.
TEST(LaneTest, SmallBatchesRacingTheLeadStayInOrder) {
  Lane lane(64);
  uint64_t batch = 1, pushed = 0;
  EXPECT_TRUE(MovesInOrder(lane, 1'000'000, [&] {
    if (++pushed < batch) return false;
    pushed = 0;
    batch = batch % 4 + 1;
    return true;
  }));
}

TEST(LaneTest, TwoThreadsMoveAMillionEnvelopesInOrder) {
  Lane lane(1024);
  uint64_t pushed = 0;
  EXPECT_TRUE(MovesInOrder(lane, 1'000'000, [&] { return ++pushed % 64 == 0; }));
}

TEST(InboxTest, EightProducersNothingLostNothingDuplicated) {
  Inbox inbox(256);
  constexpr int kThreads = 8;
  constexpr uint64_t kPerThread = 50'000;
  std::vector<std::thread> producers;
  for (int t = 0; t < kThreads; ++t) {
    producers.emplace_back([&, t] {
      for (uint64_t i = 0; i < kPerThread;) {
        if (inbox.TryPush({static_cast<uint64_t>(t), i})) {
          ++i;
        } else {
          std::this_thread::yield();
        }
      }
    });
  }
  std::vector<uint64_t> next(kThreads, 0);
  uint64_t total = 0;
  bool fifo_per_producer = true;
  while (total < kThreads * kPerThread) {
    const size_t n = inbox.Drain(SIZE_MAX, [&](const Envelope& e) {
      fifo_per_producer &= e.value == next[e.tag];
      ++next[e.tag];
    });
    total += n;
    if (n == 0) std::this_thread::yield();
  }
  for (auto& p : producers) p.join();
  EXPECT_TRUE(fifo_per_producer);
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(next[t], kPerThread);
  EXPECT_FALSE(inbox.HasWork());
}

TEST(InboxTest, RefusesWhenFull) {
  Inbox inbox(4);
  for (uint64_t i = 0; i < 4; ++i) ASSERT_TRUE(inbox.TryPush({0, i}));
  EXPECT_FALSE(inbox.TryPush({0, 4}));
  EXPECT_EQ(inbox.Drain(1, [](const Envelope&) {}), 1u);
  EXPECT_TRUE(inbox.TryPush({0, 4}));
}

}  // namespace
}  // namespace ringactor::transport
