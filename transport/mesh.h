// File: transport/mesh.h

#ifndef RINGACTOR_TRANSPORT_MESH_H_
#define RINGACTOR_TRANSPORT_MESH_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "transport/endpoint.h"
#include "transport/envelope.h"
#include "transport/lane.h"
#include "transport/options.h"
#include "transport/shard_id.h"
#include "transport/stats.h"

namespace ringactor::transport {

// Mesh
//
// The shared memory that connects N shards: one Lane for every (source,
// target) pair, one Endpoint per shard. The mesh owns no threads: each
// shard's thread creates its io::Ring, calls `endpoint(id).Attach(ring)`, and
// runs its loop (Poll / Flush / Park) until it Detaches.
//
// Shutdown order matters: stop every producer, then Detach the endpoints,
// then destroy the mesh (after every shard thread has left its endpoint).
//
// Thread-safe: endpoint(), Inject(), Wake(), Stats(), TotalStats().
class Mesh {
 public:
  static absl::StatusOr<std::unique_ptr<Mesh>> Create(
      const MeshOptions& options);
  ~Mesh();
  Mesh(const Mesh&) = delete;
  Mesh& operator=(const Mesh&) = delete;

  const MeshOptions& options() const { return options_; }
  uint32_t num_shards() const { return options_.num_shards; }

  // The endpoint of shard `id` (id.value() < num_shards()).
  Endpoint& endpoint(ShardId id) { return *endpoints_[id.value()]; }

  // Mesh::Inject()
  //
  // Enqueues `e` into shard `to`'s foreign inbox from any thread, waking the
  // shard if it sleeps. InvalidArgument for an unknown shard;
  // ResourceExhausted when the inbox is full (nothing was enqueued). Once
  // enqueued, `e` belongs to the shard and the answer is OK, even if the
  // kernel refused the wake-up: that is counted (foreign_wake_failures) and
  // the next send or Wake() to the shard rings it.
  // (A shard's own urgent sends use Endpoint::SendUrgent.)
  absl::Status Inject(ShardId to, Envelope e);

  // Mesh::Wake()
  //
  // Wakes shard `to` from any thread, e.g. to make it notice a stop flag set
  // before the call: if it is not asleep, its next Park() returns at once
  // (the request counts as work until its next Poll). InvalidArgument for an
  // unknown shard.
  absl::Status Wake(ShardId to);

  TransportStats Stats(ShardId id) const;
  TransportStats TotalStats() const;

 private:
  friend class Endpoint;
  explicit Mesh(const MeshOptions& options);
  Lane& lane(uint32_t from, uint32_t to) {
    return *lanes_[from * options_.num_shards + to];
  }
  absl::Status CheckShard(ShardId id) const;

  const MeshOptions options_;
  std::vector<std::unique_ptr<Lane>> lanes_;  // [from * n + to]
  std::vector<std::unique_ptr<Endpoint>> endpoints_;
};

}  // namespace ringactor::transport

#endif  // RINGACTOR_TRANSPORT_MESH_H_
