// File: transport/shard_id.h

#ifndef RINGACTOR_TRANSPORT_SHARD_ID_H_
#define RINGACTOR_TRANSPORT_SHARD_ID_H_

#include <cstdint>
#include <limits>
#include <ostream>

namespace ringactor::transport {

// ShardId
//
// Names one shard (thread + ring) of a mesh. A strong type so that shard
// numbers, actor ids and counts cannot be mixed up. Thread-compatible.
class ShardId {
 public:
  constexpr explicit ShardId(uint32_t value) : value_(value) {}
  constexpr uint32_t value() const { return value_; }

  friend constexpr bool operator==(ShardId a, ShardId b) {
    return a.value_ == b.value_;
  }
  friend constexpr bool operator!=(ShardId a, ShardId b) {
    return a.value_ != b.value_;
  }
  template <typename H>
  friend H AbslHashValue(H h, ShardId id) {
    return H::combine(std::move(h), id.value_);
  }
  friend std::ostream& operator<<(std::ostream& os, ShardId id) {
    return os << "shard " << id.value_;
  }

 private:
  uint32_t value_;
};

// The source reported for envelopes that came through a foreign inbox.
inline constexpr ShardId kForeignShard{std::numeric_limits<uint32_t>::max()};

}  // namespace ringactor::transport

#endif  // RINGACTOR_TRANSPORT_SHARD_ID_H_
