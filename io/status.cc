#include "io/status.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace ringactor::io {

absl::Status ErrnoToStatus(int err, absl::string_view context) {
  err = std::abs(err);
  if (err == 0) return absl::OkStatus();
  const std::string message =
      absl::StrCat(context, ": ", std::strerror(err), " (errno ", err, ")");
  switch (err) {
    case EINVAL:
    case EBADF:
    case EFAULT:
    case ENOTSOCK:
    case EISDIR:
    case ENOTDIR:
      return absl::InvalidArgumentError(message);
    case ENOENT:
    case ENXIO:
    case ESRCH:
      return absl::NotFoundError(message);
    case EEXIST:
      return absl::AlreadyExistsError(message);
    case EPERM:
    case EACCES:
      return absl::PermissionDeniedError(message);
    case ENOMEM:
    case ENOSPC:
    case EMFILE:
    case ENFILE:
    case EOVERFLOW:
    case ENOBUFS:
      return absl::ResourceExhaustedError(message);
    case EAGAIN:
    case EBUSY:
    case EBADFD:
    case ECONNREFUSED:
    case ECONNRESET:
    case EPIPE:
      return absl::UnavailableError(message);
    case ETIME:
    case ETIMEDOUT:
      return absl::DeadlineExceededError(message);
    case ECANCELED:
    case EINTR:
      return absl::CancelledError(message);
    case ENOSYS:
    case EOPNOTSUPP:
      return absl::UnimplementedError(message);
    default:
      return absl::InternalError(message);
  }
}

}  // namespace ringactor::io
