// File: io/completion.h
//
// What an io_uring `user_data` points to.

#ifndef RINGACTOR_IO_COMPLETION_H_
#define RINGACTOR_IO_COMPLETION_H_

#include <cstdint>

namespace ringactor::io {

// Completion
//
// Every SQE that ringactor submits carries a `Completion*` in `user_data`; the
// ring that reaps the CQE calls `OnComplete` with the CQE's `res` and `flags`.
// A Completion's address is handed to the kernel, so it can be neither copied
// nor moved, and it must outlive the operation (DESIGN.md invariant 4).
//
// The one exception to "user_data is a Completion*" is a direct word (see
// io/ring.h): those have bit 0 of `user_data` set, which a Completion's address
// never has (alignof >= 8).
//
// Shard-affine: OnComplete runs on the thread that reaps the owning ring.
class Completion {
 public:
  Completion() = default;
  Completion(const Completion&) = delete;
  Completion& operator=(const Completion&) = delete;

  // Called once per CQE posted for this completion (several for multishot).
  // `res` is the kernel's result: >= 0 on success, `-errno` on failure.
  virtual void OnComplete(int32_t res, uint32_t flags) noexcept = 0;

 protected:
  ~Completion() = default;
};

}  // namespace ringactor::io

#endif  // RINGACTOR_IO_COMPLETION_H_
