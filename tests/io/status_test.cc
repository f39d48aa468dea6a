#include "io/status.h"

#include <cerrno>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"

namespace ringactor::io {
namespace {

TEST(ErrnoToStatusTest, ZeroIsOk) { EXPECT_TRUE(ErrnoToStatus(0, "x").ok()); }

TEST(ErrnoToStatusTest, NegativeAndPositiveErrnoAgree) {
  EXPECT_EQ(ErrnoToStatus(-ENOENT, "open").code(),
            ErrnoToStatus(ENOENT, "open").code());
}

TEST(ErrnoToStatusTest, CanonicalCodes) {
  EXPECT_EQ(ErrnoToStatus(ENOSYS, "c").code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(ErrnoToStatus(EPERM, "c").code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ErrnoToStatus(EINVAL, "c").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrnoToStatus(ENOMEM, "c").code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(ErrnoToStatus(ECANCELED, "c").code(),
            absl::StatusCode::kCancelled);
  EXPECT_EQ(ErrnoToStatus(ETIME, "c").code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(ErrnoToStatus(ENOENT, "c").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ErrnoToStatus(EIO, "c").code(), absl::StatusCode::kInternal);
}

TEST(ErrnoToStatusTest, MessageCarriesContextAndErrno) {
  const absl::Status s = ErrnoToStatus(-EBADF, "io_uring_enter");
  EXPECT_NE(s.message().find("io_uring_enter"), absl::string_view::npos);
  EXPECT_NE(s.message().find("errno 9"), absl::string_view::npos);
}

absl::StatusOr<int> Half(int v) {
  if (v % 2 != 0) return absl::InvalidArgumentError("odd");
  return v / 2;
}

absl::Status Quarter(int v, int* out) {
  ASSIGN_OR_RETURN(int half, Half(v));
  ASSIGN_OR_RETURN(*out, Half(half));
  RETURN_IF_ERROR(absl::OkStatus());
  return absl::OkStatus();
}

TEST(StatusMacrosTest, PropagateErrorsAndValues) {
  int out = 0;
  EXPECT_TRUE(Quarter(8, &out).ok());
  EXPECT_EQ(out, 2);
  EXPECT_EQ(Quarter(6, &out).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ringactor::io
