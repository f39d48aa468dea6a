#include "transport/options.h"

#include "absl/strings/str_cat.h"

namespace ringactor::transport {
namespace {

bool IsPowerOfTwo(uint32_t v) { return v != 0 && (v & (v - 1)) == 0; }

absl::Status CheckCapacity(const char* name, uint32_t v, uint32_t max) {
  if (v < 2 || v > max || !IsPowerOfTwo(v)) {
    return absl::InvalidArgumentError(
        absl::StrCat("MeshOptions.", name, " must be a power of two in [2, ",
                     max, "], got ", v));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status MeshOptions::Validate() const {
  if (num_shards < 1 || num_shards > 256) {
    return absl::InvalidArgumentError(absl::StrCat(
        "MeshOptions.num_shards must be in [1, 256], got ", num_shards));
  }
  absl::Status s = CheckCapacity("lane_capacity", lane_capacity, 1u << 20);
  if (!s.ok()) return s;
  s = CheckCapacity("inbox_capacity", inbox_capacity, 1u << 22);
  if (!s.ok()) return s;
  if (idle_spin < absl::ZeroDuration() || idle_spin > absl::Seconds(1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("MeshOptions.idle_spin must be in [0, 1s], got ",
                     absl::FormatDuration(idle_spin)));
  }
  if (word_slots < 1 || word_slots > 65536) {
    return absl::InvalidArgumentError(absl::StrCat(
        "MeshOptions.word_slots must be in [1, 65536], got ", word_slots));
  }
  return absl::OkStatus();
}

}  // namespace ringactor::transport
