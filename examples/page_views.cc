// examples/page_views: mailbox fast lanes (hot messages, coalesced hot
// messages, counter lanes).
//
// One Page actor per page, placed with Sticky(page), takes three kinds of
// traffic from a Frontend actor on every shard:
//   - views, through a counter lane: `page.Count(kViews, 1)` adds to an
//     accumulator on the frontend's shard that travels as one update per
//     loop turn; the page reads its total with PeekCount and is woken
//     (OnCount) rarely: see its wake policy below;
//   - likes, a coalesced hot message: Likes for the same page sent in one
//     loop turn merge into one message, and again on arrival;
//   - comments, ordinary mail that costs the page some work, so mailboxes
//     fill up.
// While the frontends run, the main thread Peeks the busiest page with a hot
// request, which overtakes that page's comment backlog. At the end each page
// is told what the frontends sent it (Expect) and reports once its totals
// match exactly: nothing lost, nothing counted twice. The statistics show
// how many sends each envelope carried.
//
//   bazel run -c opt //examples:page_views

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "actors/actor_system.h"
#include "actors/boundary.h"
#include "examples/page_views.pb.h"
#include "scheduler/clock.h"
#include "scheduler/notification.h"
#include "scheduler/placement.h"

ABSL_FLAG(int, pages, 1'000, "Page actors");
ABSL_FLAG(int64_t, views, 10'000'000, "views per frontend (one per shard)");
ABSL_FLAG(int, like_every, 10, "one like per this many views");
ABSL_FLAG(int, comment_every, 50, "one comment per this many views");

namespace ringactor::examples {
namespace {

constexpr absl::Duration kDeadline = absl::Seconds(30);

// Counts down the pages whose totals match what was sent to them.
struct Tally {
  explicit Tally(int pages) : remaining(pages) {}
  void PageDone() {
    if (remaining.fetch_sub(1) == 1) all_counted.Notify();
  }
  std::atomic<int> remaining;
  scheduler::Notification all_counted;
};

class Page : public Actor {
 public:
  static constexpr uint32_t kViews = 0;  // the counter lane's number
  using HotMessages = MessageList<Peek>;
  using CoalescedMessages = MessageList<Like>;
  static bool Merge(Like& into, const Like& from) {
    int64_t sum;
    if (__builtin_add_overflow(into.count(), from.count(), &sum)) {
      return false;  // keep them apart rather than wrap
    }
    into.set_count(sum);
    return true;
  }
  // The page never resets its counter (no TakeCount): PeekCount is its
  // exact total of delivered views. So the lane wakes it on the first view,
  // once more when the total crosses 4,096, and otherwise at most every
  // 2 ms while views keep arriving: one OnCount per many thousand views.
  static constexpr int64_t kCountWakeThreshold = 4096;
  static constexpr absl::Duration kCountMaxDelay = absl::Milliseconds(2);

  explicit Page(Tally* tally) : tally_(tally) {}

  void OnCount(uint32_t) override { CheckDone(); }
  void Handle(const Like& like) {
    likes_ += like.count();
    CheckDone();
  }
  void Handle(const Comment& comment) {
    moderation_ ^= Moderate(comment.text());
    ++comments_;
    CheckDone();
  }
  PageTotals Handle(const Peek&) {
    PageTotals t;
    t.set_views(PeekCount(kViews));
    t.set_likes(likes_);
    t.set_comments(comments_);
    return t;
  }
  void Handle(const Expect& e) {
    expect_ = e;
    expecting_ = true;
    CheckDone();
  }

 private:
  // Stands in for real work on a comment (a spam check, say).
  static uint64_t Moderate(const std::string& text) {
    uint64_t h = 1469598103934665603ull;
    for (int round = 0; round < 40; ++round) {
      for (char c : text) h = (h ^ static_cast<uint8_t>(c)) * 1099511628211ull;
    }
    return h;
  }
  void CheckDone() {
    if (!expecting_ || done_ || PeekCount(kViews) != expect_.views() ||
        likes_ != expect_.likes() || comments_ != expect_.comments()) {
      return;
    }
    done_ = true;
    tally_->PageDone();
  }

  Tally* tally_;
  int64_t likes_ = 0, comments_ = 0;
  uint64_t moderation_ = 0;
  Expect expect_;
  bool expecting_ = false, done_ = false;
};

class Frontend : public Actor {
 public:
  Frontend(std::vector<ActorRef<Page>> pages, int like_every,
           int comment_every)
      : pages_(std::move(pages)),
        like_every_(like_every),
        comment_every_(comment_every) {}

  Task<absl::StatusOr<BrowseReport>> Handle(const Browse& b) {
    const size_t n = pages_.size();
    BrowseReport report;
    report.mutable_views()->Resize(static_cast<int>(n), 0);
    report.mutable_likes()->Resize(static_cast<int>(n), 0);
    report.mutable_comments()->Resize(static_cast<int>(n), 0);
    std::mt19937_64 rng(b.seed());
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    Like like;
    like.set_count(1);
    Comment comment;
    for (int64_t i = 0; i < b.views(); ++i) {
      // Log-uniform popularity: page 0 gets log(2)/log(n) of the views
      // (10% of them with 1,000 pages), the tail a few each.
      const size_t p = std::min(
          n - 1, static_cast<size_t>(std::pow(double(n), unit(rng))) - 1);
      const ActorRef<Page>& page = pages_[p];
      if (absl::Status s = page.Count(Page::kViews, 1); !s.ok()) co_return s;
      ++*report.mutable_views()->Mutable(static_cast<int>(p));
      if (i % like_every_ == 0) {
        if (absl::Status s = co_await TellPatiently(page, like); !s.ok()) {
          co_return s;
        }
        ++*report.mutable_likes()->Mutable(static_cast<int>(p));
      }
      if (i % comment_every_ == 0) {
        comment.set_text(absl::StrCat("comment ", i, " from shard ",
                                      shard().value()));
        if (absl::Status s = co_await TellPatiently(page, comment); !s.ok()) {
          co_return s;
        }
        ++*report.mutable_comments()->Mutable(static_cast<int>(p));
      }
      // A bulk sender ends its loop turn now and then (docs/actors.md): the
      // turn's counter updates and likes go out, and replies come in.
      if ((i & 1023) == 1023) co_await Yield();
    }
    co_return report;
  }

 private:
  // Tell, waiting out a full lane (flow control) instead of failing.
  template <typename M>
  static Task<absl::Status> TellPatiently(const ActorRef<Page>& page,
                                          const M& msg) {
    absl::Status s = page.Tell(msg);
    while (absl::IsResourceExhausted(s)) {
      co_await Yield();
      s = page.Tell(msg);
    }
    co_return s;
  }

  std::vector<ActorRef<Page>> pages_;
  int like_every_, comment_every_;
};

int Fail(const char* what, const absl::Status& s) {
  std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
  return 1;
}

int Main() {
  const int pages = absl::GetFlag(FLAGS_pages);
  const int64_t views = absl::GetFlag(FLAGS_views);
  const int like_every = absl::GetFlag(FLAGS_like_every);
  const int comment_every = absl::GetFlag(FLAGS_comment_every);
  if (pages < 1 || views < 1 || like_every < 1 || comment_every < 1) {
    std::fprintf(stderr, "--pages, --views, --like_every and --comment_every "
                         "must be at least 1\n");
    return 2;
  }
  // Declared before the system: actors and callbacks point at them, and the
  // system (destroyed first) finishes with them before they go.
  Tally tally(pages);
  std::vector<absl::StatusOr<BrowseReport>> reports;
  std::atomic<uint32_t> browsing{0};
  scheduler::Notification browsed;

  auto system = ActorSystem::Create(ActorSystemOptions{});  // a shard per CPU
  if (!system.ok()) return Fail("create", system.status());
  ActorSystem& sys = **system;
  const uint32_t shards = sys.num_shards();

  std::vector<ActorRef<Page>> page_refs;
  for (int p = 0; p < pages; ++p) {
    auto page = sys.Spawn<Page>(SpawnOptions{Sticky(uint64_t(p))}, &tally);
    if (!page.ok()) return Fail("spawn page", page.status());
    page_refs.push_back(*page);
  }
  std::vector<ActorRef<Frontend>> frontends;
  for (uint32_t s = 0; s < shards; ++s) {
    auto f = sys.Spawn<Frontend>(SpawnOptions{Pinned{ShardId(s)}}, page_refs,
                                 like_every, comment_every);
    if (!f.ok()) return Fail("spawn frontend", f.status());
    frontends.push_back(*f);
  }
  std::printf("page_views: %d pages on %u shards, %lld views per shard, a "
              "like every %d, a comment every %d\n",
              pages, shards, static_cast<long long>(views), like_every,
              comment_every);

  // Start every frontend; each callback runs on the shard that answered.
  std::shared_ptr<Boundary> boundary = sys.boundary();
  reports.assign(shards, absl::UnknownError("no report"));
  browsing = shards;
  const int64_t start = scheduler::MonoNanos();
  for (uint32_t s = 0; s < shards; ++s) {
    Browse browse;
    browse.set_seed(1000 + s);
    browse.set_views(views);
    boundary->CallAsync(frontends[s], browse, kDeadline,
                        [&, s](absl::StatusOr<BrowseReport> r) {
                          reports[s] = std::move(r);
                          if (browsing.fetch_sub(1) == 1) browsed.Notify();
                        })
        .IgnoreError();  // a failure reaches the callback too
  }
  // Meanwhile: the busiest page, read with a hot request that overtakes
  // its comments.
  while (!browsed.WaitForNotificationWithTimeout(absl::Milliseconds(250))) {
    const int64_t asked = scheduler::MonoNanos();
    absl::StatusOr<PageTotals> t = boundary->Call(page_refs[0], Peek(), kDeadline);
    if (!t.ok()) {
      browsed.WaitForNotification();  // the calls have deadlines
      return Fail("peek", t.status());
    }
    const double peek_us = (scheduler::MonoNanos() - asked) / 1e3;
    std::printf("  page 0 so far: %8lld views %7lld likes %6lld comments "
                "(hot Peek answered in %.0f us; %llu messages waiting in "
                "mailboxes)\n",
                static_cast<long long>(t->views()),
                static_cast<long long>(t->likes()),
                static_cast<long long>(t->comments()), peek_us,
                static_cast<unsigned long long>(
                    sys.Stats().total.mailbox_depth));
    std::fflush(stdout);
  }
  const double seconds = (scheduler::MonoNanos() - start) / 1e9;

  // What every page should end up with.
  std::vector<Expect> expect(pages);
  int64_t sent_views = 0, sent_likes = 0, sent_comments = 0;
  for (const absl::StatusOr<BrowseReport>& r : reports) {
    if (!r.ok()) return Fail("browse", r.status());
    for (int p = 0; p < pages; ++p) {
      expect[p].set_views(expect[p].views() + r->views(p));
      expect[p].set_likes(expect[p].likes() + r->likes(p));
      expect[p].set_comments(expect[p].comments() + r->comments(p));
      sent_views += r->views(p);
      sent_likes += r->likes(p);
      sent_comments += r->comments(p);
    }
  }
  for (int p = 0; p < pages; ++p) {
    if (absl::Status s = boundary->Call(page_refs[p], expect[p], kDeadline);
        !s.ok()) {
      return Fail("expect", s);
    }
  }
  // Counter updates and likes still in flight arrive within the pages'
  // wake policy; each page reports when its totals match.
  if (!tally.all_counted.WaitForNotificationWithTimeout(kDeadline)) {
    for (int p = 0; p < pages; ++p) {
      absl::StatusOr<PageTotals> t = boundary->Call(page_refs[p], Peek(), kDeadline);
      if (t.ok() && (t->views() != expect[p].views() ||
                     t->likes() != expect[p].likes() ||
                     t->comments() != expect[p].comments())) {
        std::printf("page %d: %lld/%lld views %lld/%lld likes %lld/%lld "
                    "comments\n",
                    p, static_cast<long long>(t->views()),
                    static_cast<long long>(expect[p].views()),
                    static_cast<long long>(t->likes()),
                    static_cast<long long>(expect[p].likes()),
                    static_cast<long long>(t->comments()),
                    static_cast<long long>(expect[p].comments()));
      }
    }
    std::printf("FAILED: %d pages never reached their totals\n",
                tally.remaining.load());
    return 1;
  }
  std::printf("\n%lld views, %lld likes, %lld comments in %.2f s; every page "
              "counted exactly what was sent to it (page 0: %lld views)\n",
              static_cast<long long>(sent_views),
              static_cast<long long>(sent_likes),
              static_cast<long long>(sent_comments), seconds,
              static_cast<long long>(expect[0].views()));

  const SystemStats stats = sys.Stats();
  for (const ActorTypeStats& t : stats.types) {
    if (t.type.find("Page") == std::string::npos) continue;
    const ActorCounters& c = t.counters;
    std::printf("counter lane: %llu Count calls travelled as %llu updates "
                "(%.1f per update), %llu OnCount wakes\n",
                static_cast<unsigned long long>(c.count_updates),
                static_cast<unsigned long long>(c.count_envelopes),
                c.count_envelopes ? double(c.count_updates) / c.count_envelopes
                                  : 0.0,
                static_cast<unsigned long long>(c.count_wakes));
    std::printf("coalesced likes: %llu of %lld merged into one already on "
                "its way\n",
                static_cast<unsigned long long>(c.coalesced_sends),
                static_cast<long long>(sent_likes));
  }
  if (absl::Status s = sys.Shutdown(); !s.ok()) return Fail("shutdown", s);
  std::printf("OK\n");
  return 0;
}

}  // namespace
}  // namespace ringactor::examples

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return ringactor::examples::Main();
}
