// File: io/status.h
//
// The one place where kernel error numbers become `absl::Status`, plus the
// project-local RETURN_IF_ERROR / ASSIGN_OR_RETURN macros (Debian's abseil
// 20220623 predates absl/status/status_macros.h).

#ifndef RINGACTOR_IO_STATUS_H_
#define RINGACTOR_IO_STATUS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace ringactor::io {

// ErrnoToStatus()
//
// Maps a positive errno (or a negative `-errno` as io_uring returns it) to the
// canonical status code, with `context` and strerror in the message.
// `ErrnoToStatus(0, ...)` is OK.
absl::Status ErrnoToStatus(int err, absl::string_view context);

}  // namespace ringactor::io

#define RINGACTOR_STATUS_CONCAT_INNER_(a, b) a##b
#define RINGACTOR_STATUS_CONCAT_(a, b) RINGACTOR_STATUS_CONCAT_INNER_(a, b)

// RETURN_IF_ERROR(expr): returns the status of `expr` from the enclosing
// function when it is not OK.
#define RETURN_IF_ERROR(expr)                                    \
  do {                                                           \
    ::absl::Status ringactor_status_ = (expr);                   \
    if (!ringactor_status_.ok()) return ringactor_status_;       \
  } while (0)

// ASSIGN_OR_RETURN(lhs, expr): evaluates the StatusOr `expr`; returns its
// status when not OK, otherwise moves the value into `lhs`.
#define ASSIGN_OR_RETURN(lhs, expr)                                           \
  ASSIGN_OR_RETURN_IMPL_(                                                     \
      RINGACTOR_STATUS_CONCAT_(ringactor_statusor_, __LINE__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                           \
  if (!tmp.ok()) return tmp.status();          \
  lhs = std::move(tmp).value()

#endif  // RINGACTOR_IO_STATUS_H_
