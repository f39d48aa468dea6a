#include "io/ring.h"

#include <liburing.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "io/status.h"

namespace ringactor::io {
namespace {

// Not in Debian 12's headers: added in kernel 6.13.
constexpr unsigned kRegisterSendMsgRing = 31;
// Tag used once by Create() to probe kRegisterSendMsgRing; never delivered.
constexpr uint32_t kProbeTag = Ring::kMaxWordTag;

constexpr bool IsPowerOfTwo(uint32_t v) { return v != 0 && (v & (v - 1)) == 0; }

// A direct word: user_data = (value << 1) | 1, res = (tag << 1) | (value >> 63).
uint64_t EncodeWordUserData(uint64_t value) { return (value << 1) | 1u; }
uint32_t EncodeWordRes(uint32_t tag, uint64_t value) {
  return (tag << 1) | static_cast<uint32_t>(value >> 63);
}
bool IsWord(uint64_t user_data) { return (user_data & 1u) != 0; }
uint32_t DecodeWordTag(int32_t res) { return static_cast<uint32_t>(res) >> 1; }
uint64_t DecodeWordValue(uint64_t user_data, int32_t res) {
  return (user_data >> 1) | (static_cast<uint64_t>(res & 1) << 63);
}

void PrepWordSqe(io_uring_sqe* sqe, int target_fd, uint32_t tag,
                 uint64_t value) {
  // liburing 2.3's io_uring_prep_msg_ring takes a 32-bit len and 64-bit data,
  // which is exactly what we need; set the fields ourselves to be explicit.
  std::memset(sqe, 0, sizeof(*sqe));
  sqe->opcode = IORING_OP_MSG_RING;
  sqe->fd = target_fd;
  sqe->addr = IORING_MSG_DATA;
  sqe->len = EncodeWordRes(tag, value);
  sqe->off = EncodeWordUserData(value);
}

std::string IoUringDisabledSysctl() {
  std::ifstream in("/proc/sys/kernel/io_uring_disabled");
  std::string v;
  if (in >> v) return v;
  return "";
}

absl::Status SetupError(int err) {
  err = -err;
  if (err == ENOSYS) {
    return ErrnoToStatus(
        err,
        "io_uring_setup: this kernel has no io_uring, or a seccomp filter "
        "(container runtime) blocks it");
  }
  if (err == EPERM) {
    const std::string sysctl = IoUringDisabledSysctl();
    return ErrnoToStatus(
        err, absl::StrCat("io_uring_setup: not permitted (sysctl "
                          "kernel.io_uring_disabled=",
                          sysctl.empty() ? "?" : sysctl,
                          "; 1 needs CAP_SYS_ADMIN or the io_uring_group, 2 "
                          "disables io_uring; a seccomp filter can also "
                          "deny it)"));
  }
  if (err == ENOMEM) {
    return ErrnoToStatus(err,
                         "io_uring_setup: out of memory or over the "
                         "locked-memory limit (ulimit -l)");
  }
  return ErrnoToStatus(err, "io_uring_setup");
}

}  // namespace

void Ring::RingDeleter::operator()(io_uring* ring) const {
  io_uring_queue_exit(ring);
  delete ring;
}

absl::StatusOr<std::unique_ptr<Ring>> Ring::Create(const RingOptions& options) {
  if (!IsPowerOfTwo(options.sq_entries) || options.sq_entries < 2 ||
      options.sq_entries > 32768) {
    return absl::InvalidArgumentError(absl::StrCat(
        "RingOptions.sq_entries must be a power of two in [2, 32768], got ",
        options.sq_entries));
  }
  if (!IsPowerOfTwo(options.cq_entries) ||
      options.cq_entries < options.sq_entries ||
      options.cq_entries > (1u << 20)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "RingOptions.cq_entries must be a power of two in [sq_entries, "
        "1048576], got ",
        options.cq_entries));
  }

  // Most to least capable; the kernel answers EINVAL to flags it lacks.
  const unsigned base = IORING_SETUP_CQSIZE;
  std::vector<unsigned> attempts;
  if (options.single_issuer) {
    attempts.push_back(base | IORING_SETUP_SUBMIT_ALL |
                       IORING_SETUP_SINGLE_ISSUER |
                       IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_TASKRUN_FLAG);
    attempts.push_back(base | IORING_SETUP_SUBMIT_ALL |
                       IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN |
                       IORING_SETUP_TASKRUN_FLAG);
  }
  attempts.push_back(base | IORING_SETUP_COOP_TASKRUN |
                     IORING_SETUP_TASKRUN_FLAG);
  attempts.push_back(base);

  std::unique_ptr<Ring> ring(new Ring());
  auto raw = std::make_unique<io_uring>();
  io_uring_params params;
  int err = -EINVAL;
  for (unsigned flags : attempts) {
    std::memset(raw.get(), 0, sizeof(io_uring));
    std::memset(&params, 0, sizeof(params));
    params.flags = flags;
    params.cq_entries = options.cq_entries;
    err = io_uring_queue_init_params(options.sq_entries, raw.get(), &params);
    if (err != -EINVAL) break;
  }
  if (err < 0) return SetupError(err);
  ring->ring_.reset(raw.release());
  ring->fd_ = ring->ring_->ring_fd;
  ring->owner_ = std::this_thread::get_id();

  RingFeatures& f = ring->features_;
  f.single_issuer = (params.flags & IORING_SETUP_SINGLE_ISSUER) != 0;
  f.defer_taskrun = (params.flags & IORING_SETUP_DEFER_TASKRUN) != 0;
  f.coop_taskrun = (params.flags & IORING_SETUP_COOP_TASKRUN) != 0;
  f.taskrun_flag = (params.flags & IORING_SETUP_TASKRUN_FLAG) != 0;
  f.nodrop = (params.features & IORING_FEAT_NODROP) != 0;
  if (options.register_ring_fd) {
    f.registered_ring_fd = io_uring_register_ring_fd(ring->ring_.get()) == 1;
  }
  // Probe the ringless MSG_RING by posting a word to ourselves; Reap drops it.
  f.send_msg_ring_without_ring =
      SendWordFromAnyThread(ring->fd_, kProbeTag, 0).ok();
  if (f.send_msg_ring_without_ring) ring->Reap(nullptr);
  return ring;
}

Ring::~Ring() = default;

io_uring_sqe* Ring::NextSqe() {
  io_uring_sqe* sqe = io_uring_get_sqe(ring_.get());
  if (sqe == nullptr) {
    // SQ full: flush it to the kernel and try once more.
    io_uring_submit(ring_.get());
    sqe = io_uring_get_sqe(ring_.get());
  }
  return sqe;
}

absl::Status Ring::PrepareNop(Completion* c) {
  io_uring_sqe* sqe = NextSqe();
  if (sqe == nullptr) return absl::ResourceExhaustedError("io_uring SQ full");
  io_uring_prep_nop(sqe);
  io_uring_sqe_set_data(sqe, c);
  return absl::OkStatus();
}

absl::Status Ring::PrepareSendWord(int target_fd, uint32_t tag, uint64_t value,
                                   Completion* c, bool skip_success) {
  if (tag > kMaxWordTag) {
    return absl::InvalidArgumentError(
        absl::StrCat("direct word tag ", tag, " exceeds ", kMaxWordTag));
  }
  io_uring_sqe* sqe = NextSqe();
  if (sqe == nullptr) return absl::ResourceExhaustedError("io_uring SQ full");
  PrepWordSqe(sqe, target_fd, tag, value);
  if (skip_success) sqe->flags = IOSQE_CQE_SKIP_SUCCESS;
  io_uring_sqe_set_data(sqe, c);
  return absl::OkStatus();
}

absl::Status Ring::PrepareRead(int fd, void* buf, uint32_t len,
                               uint64_t offset, Completion* c) {
  io_uring_sqe* sqe = NextSqe();
  if (sqe == nullptr) return absl::ResourceExhaustedError("io_uring SQ full");
  io_uring_prep_read(sqe, fd, buf, len, offset);
  io_uring_sqe_set_data(sqe, c);
  return absl::OkStatus();
}

absl::Status Ring::PrepareCancel(Completion* target, Completion* c) {
  io_uring_sqe* sqe = NextSqe();
  if (sqe == nullptr) return absl::ResourceExhaustedError("io_uring SQ full");
  io_uring_prep_cancel64(sqe, reinterpret_cast<uint64_t>(target), 0);
  io_uring_sqe_set_data(sqe, c);
  return absl::OkStatus();
}

uint32_t Ring::pending_sqes() const { return io_uring_sq_ready(ring_.get()); }

absl::Status Ring::Submit() {
  if (!OnOwnerThread()) {
    return absl::FailedPreconditionError(
        "Ring::Submit called off the ring's owning thread");
  }
  if (io_uring_sq_ready(ring_.get()) == 0) return absl::OkStatus();
  // Entering anyway: also run deferred task work (incoming direct words).
  const int ret = features_.defer_taskrun
                      ? io_uring_submit_and_get_events(ring_.get())
                      : io_uring_submit(ring_.get());
  if (ret < 0 && ret != -EINTR && ret != -EBUSY && ret != -EAGAIN) {
    return ErrnoToStatus(ret, "io_uring_submit");
  }
  return absl::OkStatus();
}

absl::Status Ring::SubmitAndWait(absl::Duration timeout) {
  if (!OnOwnerThread()) {
    return absl::FailedPreconditionError(
        "Ring::SubmitAndWait called off the ring's owning thread");
  }
  int ret;
  if (timeout == absl::InfiniteDuration()) {
    ret = io_uring_submit_and_wait(ring_.get(), 1);
  } else {
    if (timeout < absl::ZeroDuration()) timeout = absl::ZeroDuration();
    const int64_t ns = absl::ToInt64Nanoseconds(timeout);
    __kernel_timespec ts;
    ts.tv_sec = ns / 1000000000;
    ts.tv_nsec = ns % 1000000000;
    io_uring_cqe* cqe = nullptr;
    ret = io_uring_submit_and_wait_timeout(ring_.get(), &cqe, 1, &ts, nullptr);
  }
  if (ret < 0 && ret != -ETIME && ret != -EINTR && ret != -EBUSY &&
      ret != -EAGAIN) {
    return ErrnoToStatus(ret, "io_uring_enter(GETEVENTS)");
  }
  return absl::OkStatus();
}

bool Ring::HasPendingWork() const {
  io_uring* r = ring_.get();
  if (io_uring_cq_ready(r) != 0) return true;
  return (IO_URING_READ_ONCE(*r->sq.kflags) &
          (IORING_SQ_TASKRUN | IORING_SQ_CQ_OVERFLOW)) != 0;
}

void Ring::RunDeferredWork() {
  if (features_.defer_taskrun) io_uring_get_events(ring_.get());
}

void Ring::FlushOverflow() {
  // The kernel moves its backlog into the CQ (and runs deferred task work)
  // when we enter with GETEVENTS.
  io_uring_get_events(ring_.get());
}

void Ring::ClearStaleTaskRun() {
  // The enter just made ran whatever task work was queued, and a run clears
  // the flag before it takes the list: still set with no CQE means either
  // the stale flag (see Reap) or work linked since. Clear it, then enter
  // again: work linked before that enter's look is run by it; work linked
  // after sets the flag after it (the kernel links, then sets), so after
  // the clear too, and the next Reap sees it.
  std::atomic_ref<unsigned> flags(*ring_->sq.kflags);
  if ((flags.load(std::memory_order_seq_cst) & IORING_SQ_TASKRUN) == 0) return;
  flags.fetch_and(~unsigned{IORING_SQ_TASKRUN}, std::memory_order_seq_cst);
  ++stale_taskrun_clears_;
  io_uring_get_events(ring_.get());
}

void Ring::SetTaskRunFlagForTest() {
  std::atomic_ref<unsigned>(*ring_->sq.kflags)
      .fetch_or(IORING_SQ_TASKRUN, std::memory_order_seq_cst);
}

size_t Ring::Reap(WordSink* words, size_t max) {
  io_uring* r = ring_.get();
  const unsigned kflags = IO_URING_READ_ONCE(*r->sq.kflags);
  if (kflags & IORING_SQ_CQ_OVERFLOW) ++cq_overflow_events_;
  if (kflags & (IORING_SQ_TASKRUN | IORING_SQ_CQ_OVERFLOW)) {
    FlushOverflow();
    if ((kflags & IORING_SQ_TASKRUN) && io_uring_cq_ready(r) == 0) {
      ClearStaleTaskRun();
    }
  }

  size_t done = 0;
  while (done < max) {
    unsigned head;
    io_uring_cqe* cqe;
    unsigned batch = 0;
    io_uring_for_each_cqe(r, head, cqe) {
      if (done + batch == max) break;
      ++batch;
      const uint64_t user_data = cqe->user_data;
      const int32_t res = cqe->res;
      const uint32_t flags = cqe->flags;
      if (IsWord(user_data)) {
        const uint32_t tag = DecodeWordTag(res);
        if (tag == kProbeTag) continue;
        ++words_received_;
        if (words != nullptr) {
          words->OnWord(tag, DecodeWordValue(user_data, res));
        } else {
          ++words_dropped_;
        }
      } else if (user_data != 0) {
        reinterpret_cast<Completion*>(user_data)->OnComplete(res, flags);
      }
    }
    if (batch == 0) break;
    io_uring_cq_advance(r, batch);
    done += batch;
    // The CQ had overflowed: now that there is room, pull the backlog in.
    if (IO_URING_READ_ONCE(*r->sq.kflags) & IORING_SQ_CQ_OVERFLOW) {
      ++cq_overflow_events_;
      FlushOverflow();
    }
  }
  return done;
}

uint64_t Ring::cq_dropped() const {
  return IO_URING_READ_ONCE(*ring_->cq.koverflow);
}

absl::Status Ring::SendWordFromAnyThread(int target_fd, uint32_t tag,
                                         uint64_t value) {
  if (tag > kMaxWordTag) {
    return absl::InvalidArgumentError(
        absl::StrCat("direct word tag ", tag, " exceeds ", kMaxWordTag));
  }
  io_uring_sqe sqe;
  PrepWordSqe(&sqe, target_fd, tag, value);
  const long ret = syscall(__NR_io_uring_register, -1, kRegisterSendMsgRing,
                           &sqe, 1);
  if (ret < 0) {
    const int err = errno;
    if (err == EINVAL) {
      // Kernels before 6.13 do not know the opcode.
      return ErrnoToStatus(
          ENOSYS, "IORING_REGISTER_SEND_MSG_RING (needs Linux 6.13+)");
    }
    return ErrnoToStatus(err, "IORING_REGISTER_SEND_MSG_RING");
  }
  return absl::OkStatus();
}

}  // namespace ringactor::io
