#include "transport/mesh.h"

#include "absl/strings/str_cat.h"

namespace ringactor::transport {

absl::StatusOr<std::unique_ptr<Mesh>> Mesh::Create(const MeshOptions& options) {
  absl::Status valid = options.Validate();
  if (!valid.ok()) return valid;
  return std::unique_ptr<Mesh>(new Mesh(options));
}

Mesh::Mesh(const MeshOptions& options) : options_(options) {
  const uint32_t n = options_.num_shards;
  lanes_.reserve(static_cast<size_t>(n) * n);
  for (uint32_t i = 0; i < n * n; ++i) {
    lanes_.push_back(std::make_unique<Lane>(options_.lane_capacity));
  }
  endpoints_.reserve(n);
  for (uint32_t i = 0; i < n; ++i) {
    endpoints_.push_back(std::make_unique<Endpoint>(*this, ShardId(i)));
  }
  for (const auto& ep : endpoints_) {
    for (uint32_t i = 0; i < n; ++i) ep->out_[i].peer = endpoints_[i].get();
  }
}

Mesh::~Mesh() = default;

absl::Status Mesh::CheckShard(ShardId id) const {
  if (id.value() >= options_.num_shards) {
    return absl::InvalidArgumentError(absl::StrCat(
        "no shard ", id.value(), " in a mesh of ", options_.num_shards));
  }
  return absl::OkStatus();
}

absl::Status Mesh::Inject(ShardId to, Envelope e) {
  absl::Status s = CheckShard(to);
  if (!s.ok()) return s;
  Endpoint& ep = endpoint(to);
  if (!ep.inbox_.TryPush(e)) {
    ep.foreign_stats_.inbox_backpressure.fetch_add(1,
                                                   std::memory_order_relaxed);
    return absl::ResourceExhaustedError(
        absl::StrCat("foreign inbox of shard ", to.value(), " is full (",
                     ep.inbox_.capacity(), " envelopes)"));
  }
  ep.foreign_stats_.inbox_enqueued.fetch_add(1, std::memory_order_relaxed);
  // Queued, the envelope is the shard's whatever the wake does: an error
  // here must not make the caller free what the shard will read. A wake
  // that did not go out is counted, and passes to the next producer.
  ep.WakeFromForeign().IgnoreError();
  return absl::OkStatus();
}

absl::Status Mesh::Wake(ShardId to) {
  absl::Status s = CheckShard(to);
  if (!s.ok()) return s;
  return endpoint(to).RequestWake();
}

TransportStats Mesh::Stats(ShardId id) const {
  return endpoints_[id.value()]->Stats();
}

TransportStats Mesh::TotalStats() const {
  TransportStats total;
  for (const auto& ep : endpoints_) total += ep->Stats();
  return total;
}

}  // namespace ringactor::transport
