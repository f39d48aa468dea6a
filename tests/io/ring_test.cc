#include "io/ring.h"

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ringactor::io {
namespace {

using ::testing::HasSubstr;

class CountingCompletion final : public Completion {
 public:
  void OnComplete(int32_t res, uint32_t) noexcept override {
    ++calls;
    last_res = res;
  }
  int calls = 0;
  int32_t last_res = 0;
};

struct Word {
  uint32_t tag;
  uint64_t value;
};

class Words : public WordSink {
 public:
  void OnWord(uint32_t tag, uint64_t value) noexcept override {
    got.push_back({tag, value});
  }
  std::vector<Word> got;
};

TEST(RingTest, CreatesWithTheFastestFlagsThisKernelHas) {
  auto ring = Ring::Create();
  ASSERT_TRUE(ring.ok()) << ring.status();
  EXPECT_GE((*ring)->fd(), 0);
  EXPECT_TRUE((*ring)->OnOwnerThread());
  const RingFeatures& f = (*ring)->features();
  EXPECT_TRUE(f.nodrop);
  // DESIGN.md: this machine class has SINGLE_ISSUER and DEFER_TASKRUN.
  EXPECT_TRUE(f.single_issuer);
  EXPECT_TRUE(f.defer_taskrun);
  EXPECT_TRUE(f.registered_ring_fd);
}

TEST(RingTest, RejectsBadOptions) {
  RingOptions o;
  o.sq_entries = 3;
  EXPECT_EQ(Ring::Create(o).status().code(),
            absl::StatusCode::kInvalidArgument);
  o = RingOptions();
  o.cq_entries = o.sq_entries / 2;
  auto r = Ring::Create(o);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("cq_entries"));
}

// Installs, on the calling thread only, a seccomp filter that fails
// io_uring_setup with `err`, as a container runtime or a sandbox would.
bool DenyIoUringSetup(int err) {
  struct sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
      BPF_STMT(BPF_RET | BPF_K,
               SECCOMP_RET_ERRNO | (static_cast<unsigned>(err) & 0xffff)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {sizeof(filter) / sizeof(filter[0]), filter};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return false;
  return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0;
}

absl::Status CreateUnderSeccomp(int err) {
  absl::Status status;
  std::thread t([&] {
    if (!DenyIoUringSetup(err)) {
      status = absl::UnknownError("seccomp unavailable");
      return;
    }
    status = Ring::Create().status();
  });
  t.join();
  return status;
}

TEST(RingTest, ExplainsEnosysFromASeccompFilter) {
  const absl::Status s = CreateUnderSeccomp(ENOSYS);
  if (s.code() == absl::StatusCode::kUnknown) GTEST_SKIP() << s;
  EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(std::string(s.message()), HasSubstr("seccomp"));
}

TEST(RingTest, ExplainsEpermAndNamesTheSysctl) {
  const absl::Status s = CreateUnderSeccomp(EPERM);
  if (s.code() == absl::StatusCode::kUnknown) GTEST_SKIP() << s;
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(s.message()), HasSubstr("io_uring_disabled"));
}

TEST(RingTest, ExplainsEnomem) {
  const absl::Status s = CreateUnderSeccomp(ENOMEM);
  if (s.code() == absl::StatusCode::kUnknown) GTEST_SKIP() << s;
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(s.message()), HasSubstr("ulimit -l"));
}

TEST(RingTest, ReapsABatchOfCompletions) {
  auto ring = Ring::Create();
  ASSERT_TRUE(ring.ok()) << ring.status();
  std::vector<CountingCompletion> ops(100);
  for (auto& op : ops) ASSERT_TRUE((*ring)->PrepareNop(&op).ok());
  EXPECT_EQ((*ring)->pending_sqes(), 100u);
  ASSERT_TRUE((*ring)->Submit().ok());
  size_t reaped = 0;
  while (reaped < ops.size()) {
    ASSERT_TRUE((*ring)->SubmitAndWait(absl::Seconds(10)).ok());
    reaped += (*ring)->Reap(nullptr);
  }
  EXPECT_EQ(reaped, ops.size());
  for (const auto& op : ops) {
    EXPECT_EQ(op.calls, 1);
    EXPECT_EQ(op.last_res, 0);
  }
}

TEST(RingTest, CqOverflowIsCountedAndLosesNothing) {
  RingOptions o;
  o.sq_entries = 16;
  o.cq_entries = 16;
  auto ring = Ring::Create(o);
  ASSERT_TRUE(ring.ok()) << ring.status();
  CountingCompletion op;
  constexpr int kOps = 200;
  for (int i = 0; i < kOps; ++i) {
    ASSERT_TRUE((*ring)->PrepareNop(&op).ok());  // flushes a full SQ itself
  }
  ASSERT_TRUE((*ring)->Submit().ok());
  size_t reaped = 0;
  for (int turns = 0; reaped < kOps && turns < 1000; ++turns) {
    reaped += (*ring)->Reap(nullptr);
  }
  EXPECT_EQ(reaped, static_cast<size_t>(kOps));
  EXPECT_EQ(op.calls, kOps);
  EXPECT_GT((*ring)->cq_overflow_events(), 0u);
  EXPECT_EQ((*ring)->cq_dropped(), 0u);
}

TEST(RingTest, DirectWordsCarryATagAndAFull64BitValue) {
  auto ring = Ring::Create();
  ASSERT_TRUE(ring.ok()) << ring.status();
  const std::vector<Word> sent = {{1, 0},
                                  {7, 0x8000000000000001ull},
                                  {Ring::kMaxWordTag - 1, ~0ull},
                                  {12345, 42}};
  CountingCompletion on_error;
  for (const Word& w : sent) {
    ASSERT_TRUE((*ring)
                    ->PrepareSendWord((*ring)->fd(), w.tag, w.value, &on_error,
                                      /*skip_success=*/true)
                    .ok());
  }
  ASSERT_TRUE((*ring)->Submit().ok());
  Words words;
  while (words.got.size() < sent.size()) {
    ASSERT_TRUE((*ring)->SubmitAndWait(absl::Seconds(10)).ok());
    (*ring)->Reap(&words);
  }
  ASSERT_EQ(words.got.size(), sent.size());
  for (size_t i = 0; i < sent.size(); ++i) {
    EXPECT_EQ(words.got[i].tag, sent[i].tag);
    EXPECT_EQ(words.got[i].value, sent[i].value);
  }
  EXPECT_EQ(on_error.calls, 0);
  EXPECT_EQ((*ring)->words_received(), sent.size());
}

// IORING_SQ_TASKRUN can outlive its work (a kernel race, see Ring::Reap).
// Reap clears such a flag, so HasPendingWork stops saying yes, and a flag
// with real work behind it still delivers that work.
TEST(RingTest, AStaleTaskRunFlagIsClearedAndRealWorkStillArrives) {
  auto ring = Ring::Create();
  ASSERT_TRUE(ring.ok()) << ring.status();
  Ring& r = **ring;
  Words words;
  r.SetTaskRunFlagForTest();
  EXPECT_TRUE(r.HasPendingWork());
  EXPECT_EQ(r.Reap(&words), 0u);
  EXPECT_FALSE(r.HasPendingWork());
  EXPECT_EQ(r.stale_taskrun_clears(), 1u);

  // Set again, then a word from another ring: under DEFER_TASKRUN it waits
  // as task work on this ring behind the flag, which is now real.
  auto other = Ring::Create();
  ASSERT_TRUE(other.ok()) << other.status();
  r.SetTaskRunFlagForTest();
  CountingCompletion on_error;
  ASSERT_TRUE((*other)
                  ->PrepareSendWord(r.fd(), 5, 99, &on_error,
                                    /*skip_success=*/true)
                  .ok());
  ASSERT_TRUE((*other)->Submit().ok());
  while (words.got.empty()) {
    ASSERT_TRUE(r.SubmitAndWait(absl::Seconds(10)).ok());
    r.Reap(&words);
  }
  ASSERT_EQ(words.got.size(), 1u);
  EXPECT_EQ(words.got[0].tag, 5u);
  EXPECT_EQ(words.got[0].value, 99u);
  EXPECT_EQ(on_error.calls, 0);
  EXPECT_FALSE(r.HasPendingWork());
}

TEST(RingTest, RejectsAnOversizedWordTag) {
  auto ring = Ring::Create();
  ASSERT_TRUE(ring.ok()) << ring.status();
  CountingCompletion c;
  EXPECT_EQ((*ring)
                ->PrepareSendWord((*ring)->fd(), Ring::kMaxWordTag + 1, 0, &c,
                                  true)
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(RingTest, AFailedWordReportsItsErrno) {
  auto ring = Ring::Create();
  ASSERT_TRUE(ring.ok()) << ring.status();
  CountingCompletion on_error;
  ASSERT_TRUE((*ring)->PrepareSendWord(-1, 5, 5, &on_error, true).ok());
  ASSERT_TRUE((*ring)->Submit().ok());
  while (on_error.calls == 0) {
    ASSERT_TRUE((*ring)->SubmitAndWait(absl::Seconds(10)).ok());
    (*ring)->Reap(nullptr);
  }
  EXPECT_EQ(on_error.last_res, -EBADF);
}

TEST(RingTest, WordsCrossBetweenRingsOnTwoThreads) {
  std::atomic<int> target_fd{-1};
  absl::Notification ready;
  Words words;
  std::thread target([&] {
    auto ring = Ring::Create();
    ASSERT_TRUE(ring.ok()) << ring.status();
    target_fd = (*ring)->fd();
    ready.Notify();
    while (words.got.empty()) {
      ASSERT_TRUE((*ring)->SubmitAndWait(absl::Seconds(10)).ok());
      (*ring)->Reap(&words);
    }
  });
  ASSERT_TRUE(ready.WaitForNotificationWithTimeout(absl::Seconds(60)));
  auto ring = Ring::Create();
  ASSERT_TRUE(ring.ok()) << ring.status();
  CountingCompletion on_error;
  ASSERT_TRUE(
      (*ring)->PrepareSendWord(target_fd, 99, 0xfeedull, &on_error, true).ok());
  ASSERT_TRUE((*ring)->Submit().ok());
  target.join();
  ASSERT_EQ(words.got.size(), 1u);
  EXPECT_EQ(words.got[0].tag, 99u);
  EXPECT_EQ(words.got[0].value, 0xfeedull);
}

TEST(RingTest, ARinglessThreadCanPostAWord) {
  auto ring = Ring::Create();
  ASSERT_TRUE(ring.ok()) << ring.status();
  if (!(*ring)->features().send_msg_ring_without_ring) {
    GTEST_SKIP() << "kernel lacks IORING_REGISTER_SEND_MSG_RING";
  }
  const int fd = (*ring)->fd();
  absl::Status sent;
  std::thread foreign([&] { sent = Ring::SendWordFromAnyThread(fd, 3, 77); });
  foreign.join();
  ASSERT_TRUE(sent.ok()) << sent;
  Words words;
  while (words.got.empty()) {
    ASSERT_TRUE((*ring)->SubmitAndWait(absl::Seconds(10)).ok());
    (*ring)->Reap(&words);
  }
  EXPECT_EQ(words.got[0].tag, 3u);
  EXPECT_EQ(words.got[0].value, 77u);
}

TEST(RingTest, OnlyTheOwnerThreadMaySubmit) {
  auto ring = Ring::Create();
  ASSERT_TRUE(ring.ok()) << ring.status();
  absl::Status off_thread;
  std::thread other([&] { off_thread = (*ring)->Submit(); });
  other.join();
  EXPECT_EQ(off_thread.code(), absl::StatusCode::kFailedPrecondition);
}

TEST(RingTest, CancelCompletesAPendingReadWithEcanceled) {
  auto ring = Ring::Create();
  ASSERT_TRUE(ring.ok()) << ring.status();
  const int efd = eventfd(0, EFD_CLOEXEC);
  ASSERT_GE(efd, 0);
  uint64_t buf = 0;
  CountingCompletion read, cancel;
  ASSERT_TRUE((*ring)->PrepareRead(efd, &buf, sizeof(buf), 0, &read).ok());
  ASSERT_TRUE((*ring)->Submit().ok());
  ASSERT_TRUE((*ring)->PrepareCancel(&read, &cancel).ok());
  while (read.calls == 0 || cancel.calls == 0) {
    ASSERT_TRUE((*ring)->SubmitAndWait(absl::Seconds(10)).ok());
    (*ring)->Reap(nullptr);
  }
  EXPECT_EQ(read.last_res, -ECANCELED);
  EXPECT_EQ(cancel.last_res, 0);
  close(efd);
}

TEST(RingTest, WaitWithATimeoutReturnsWithoutAnEvent) {
  auto ring = Ring::Create();
  ASSERT_TRUE(ring.ok()) << ring.status();
  EXPECT_TRUE((*ring)->SubmitAndWait(absl::Milliseconds(1)).ok());
  EXPECT_EQ((*ring)->Reap(nullptr), 0u);
}

}  // namespace
}  // namespace ringactor::io
