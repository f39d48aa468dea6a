// File: io/ring.h
//
// `Ring`: one io_uring, owned by one thread. The only io_uring type the rest
// of ringactor sees; <liburing.h> stays inside io/*.cc.

#ifndef RINGACTOR_IO_RING_H_
#define RINGACTOR_IO_RING_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "io/completion.h"

struct io_uring;
struct io_uring_sqe;

namespace ringactor::io {

// Options for `Ring::Create`. Invalid values yield InvalidArgument.
struct RingOptions {
  // Submission queue entries; a power of two in [2, 32768].
  uint32_t sq_entries = 256;
  // Completion queue entries; a power of two in [sq_entries, 1 << 20]. Size it
  // for doorbells + I/O depth + multishot bursts (DESIGN.md, "CQ sizing").
  uint32_t cq_entries = 8192;
  // Ask for IORING_SETUP_SINGLE_ISSUER | DEFER_TASKRUN (falls back to
  // COOP_TASKRUN, then to plain flags, when the kernel rejects them).
  bool single_issuer = true;
  // Register the ring fd so io_uring_enter skips the fd lookup.
  bool register_ring_fd = true;
};

// What the kernel actually granted.
struct RingFeatures {
  bool single_issuer = false;
  bool defer_taskrun = false;
  bool coop_taskrun = false;
  bool taskrun_flag = false;
  bool registered_ring_fd = false;
  // IORING_FEAT_NODROP: an overflowing CQ is buffered by the kernel.
  bool nodrop = false;
  // IORING_REGISTER_SEND_MSG_RING (kernel 6.13+): a thread with no ring can
  // post a direct word into this ring.
  bool send_msg_ring_without_ring = false;
};

// WordSink
//
// Receives direct words: a tag and a 64-bit value carried inside a MSG_RING
// CQE, with no lane behind them.
class WordSink {
 public:
  virtual void OnWord(uint32_t tag, uint64_t value) noexcept = 0;

 protected:
  ~WordSink() = default;
};

// Ring
//
// Owns one io_uring instance, created on the calling thread, which becomes its
// owner (SINGLE_ISSUER binds the creating thread). Prepare* queue SQEs;
// nothing reaches the kernel until Submit()/SubmitAndWait(), so a loop turn
// costs one io_uring_enter however many operations it queued.
//
// `user_data` is always a `Completion*`, except for direct words, which carry
// `(value << 1) | 1` in user_data and `(tag << 1) | (value >> 63)` in res.
//
// Shard-affine: call every method except `fd()`, `features()` and
// `SendWordFromAnyThread()` only on the owning thread.
class Ring {
 public:
  // Largest tag a direct word can carry.
  static constexpr uint32_t kMaxWordTag = (1u << 30) - 1;

  // Ring::Create()
  //
  // Creates a ring owned by the calling thread. Fails with a message that says
  // why io_uring is unusable: Unimplemented (ENOSYS: kernel without io_uring or
  // a seccomp filter), PermissionDenied (EPERM: the `kernel.io_uring_disabled`
  // sysctl or a seccomp filter), ResourceExhausted (ENOMEM: locked-memory
  // limit), InvalidArgument (bad options).
  static absl::StatusOr<std::unique_ptr<Ring>> Create(
      const RingOptions& options = {});

  ~Ring();
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;

  // The ring's file descriptor: the target of MSG_RING from other rings.
  int fd() const { return fd_; }
  const RingFeatures& features() const { return features_; }
  bool OnOwnerThread() const {
    return std::this_thread::get_id() == owner_;
  }

  // -- Preparing operations (queued; submitted by the next Submit*) --------
  // Each fails with ResourceExhausted if the SQ stays full after flushing it.

  absl::Status PrepareNop(Completion* c);
  // Posts a direct word into the ring `target_fd`. `c` gets this ring's CQE
  // for the send: with `skip_success` only a failure (`-errno`) is posted
  // (IOSQE_CQE_SKIP_SUCCESS), which makes a doorbell cost one SQE and no CQE.
  absl::Status PrepareSendWord(int target_fd, uint32_t tag, uint64_t value,
                               Completion* c, bool skip_success);
  absl::Status PrepareRead(int fd, void* buf, uint32_t len, uint64_t offset,
                           Completion* c);
  // Cancels the operation whose user_data is `target`; `c` gets the cancel
  // result, `target` its own (-ECANCELED) CQE.
  absl::Status PrepareCancel(Completion* target, Completion* c);

  // -- Submitting and waiting ----------------------------------------------

  // Number of SQEs prepared and not yet submitted.
  uint32_t pending_sqes() const;
  // Submits every prepared SQE without waiting.
  absl::Status Submit();
  // Submits and blocks until a CQE (or deferred task work) is ready or
  // `timeout` passes (absl::InfiniteDuration() waits without limit). A timeout
  // or a signal is not an error.
  absl::Status SubmitAndWait(absl::Duration timeout);
  // True when CQEs are ready, deferred task work is pending or the CQ
  // overflowed: a cheap check (no syscall) for a spinning loop. The task
  // work half is the kernel's IORING_SQ_TASKRUN flag, which can outlive its
  // work (see Reap); Reap clears such a stale flag, so this never stays
  // true for nothing.
  bool HasPendingWork() const;
  // With DEFER_TASKRUN, completions posted to this ring by other rings
  // (MSG_RING direct words) wait as task work until the owner enters the
  // kernel; the TASKRUN flag does not announce them. A busy or spinning
  // owner calls this now and then (one io_uring_enter) so they arrive.
  // No-op without DEFER_TASKRUN.
  void RunDeferredWork();

  // Reap()
  //
  // Runs pending task work if needed, then dispatches up to `max` CQEs in one
  // batch: Completion::OnComplete for operations, `words->OnWord` for direct
  // words (dropped, and counted, if `words` is null). Callbacks may prepare
  // new SQEs but must not call Reap. Returns the number dispatched.
  //
  // The kernel can leave IORING_SQ_TASKRUN set with no task work queued:
  // io_req_local_work_add links the work, then sets the flag, and the
  // owner's run (which clears the flag, then takes the list) can fall in
  // between. Nothing clears it until more work comes, and a loop that trusts
  // HasPendingWork never sleeps again (seen: a shard at 100% CPU after a
  // burst, entering the kernel ~900,000 times a second for nothing). So when
  // the enter that the flag asked for finds neither task work nor a CQE,
  // Reap clears the flag itself (an atomic AND on the shared word, the
  // kernel's own operation) and enters once more, for work linked between
  // that enter and the clear. Counted in stale_taskrun_clears().
  size_t Reap(WordSink* words, size_t max = SIZE_MAX);

  // -- Stats ---------------------------------------------------------------

  // Times the CQ overflowed into the kernel's backlog (nothing is lost with
  // IORING_FEAT_NODROP; the backlog is flushed by the next Reap).
  uint64_t cq_overflow_events() const { return cq_overflow_events_; }
  // CQEs the kernel had to drop (its koverflow counter); 0 with NODROP unless
  // the kernel ran out of memory.
  uint64_t cq_dropped() const;
  uint64_t words_received() const { return words_received_; }
  // Times Reap found IORING_SQ_TASKRUN set with nothing behind it, and
  // cleared it.
  uint64_t stale_taskrun_clears() const { return stale_taskrun_clears_; }

  // Sets IORING_SQ_TASKRUN with no work behind it, as the kernel race above
  // leaves it. For tests. Thread-safe (an atomic OR on the shared word).
  void SetTaskRunFlagForTest();

  // SendWordFromAnyThread()
  //
  // Posts a direct word into ring `target_fd` from a thread that owns no ring
  // (IORING_REGISTER_SEND_MSG_RING). Unimplemented where the kernel lacks it;
  // check `features().send_msg_ring_without_ring` first. Thread-safe.
  static absl::Status SendWordFromAnyThread(int target_fd, uint32_t tag,
                                            uint64_t value);

 private:
  Ring() = default;
  io_uring_sqe* NextSqe();
  void FlushOverflow();
  void ClearStaleTaskRun();

  struct RingDeleter {
    void operator()(io_uring* ring) const;
  };
  std::unique_ptr<io_uring, RingDeleter> ring_;
  int fd_ = -1;
  std::thread::id owner_;
  RingFeatures features_;
  uint64_t cq_overflow_events_ = 0;
  uint64_t words_received_ = 0;
  uint64_t words_dropped_ = 0;
  uint64_t stale_taskrun_clears_ = 0;
};

}  // namespace ringactor::io

#endif  // RINGACTOR_IO_RING_H_
