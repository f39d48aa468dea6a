// File: transport/options.h

#ifndef RINGACTOR_TRANSPORT_OPTIONS_H_
#define RINGACTOR_TRANSPORT_OPTIONS_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace ringactor::transport {

// How a thread that owns no ring wakes a sleeping shard.
enum class ForeignWake {
  // IORING_REGISTER_SEND_MSG_RING when the kernel has it (6.13+), else eventfd.
  kAuto,
  // One io_uring_register call posts a word straight into the shard's CQ: no
  // fd to keep armed, no re-arm SQE after each wake.
  kSendMsgRing,
  // A write(2) to an eventfd whose read the shard keeps armed on its ring.
  kEventfd,
};

// MeshOptions
//
// Sizing and idle policy of a transport mesh. `Validate()` explains the first
// bad field as InvalidArgument.
struct MeshOptions {
  // Shards in the mesh, [1, 256].
  uint32_t num_shards = 2;
  // Envelopes per (source, target) lane; a power of two in [2, 1 << 20].
  uint32_t lane_capacity = 1024;
  // Envelopes in each shard's foreign inbox; a power of two in [2, 1 << 22].
  uint32_t inbox_capacity = 4096;
  // How long an idle shard polls before it sleeps in the kernel, [0, 1 s].
  // Waking a sleeping vCPU costs 20-28 us per direction here (the
  // hypervisor's HLT exit); 2 us of spin fell into sleep/wake cycles under
  // ping-pong while 10 us never slept. See README "Choosing idle_spin".
  absl::Duration idle_spin = absl::Microseconds(50);
  ForeignWake foreign_wake = ForeignWake::kAuto;
  // Direct words in flight per shard before SendWord answers
  // ResourceExhausted, [1, 65536].
  uint32_t word_slots = 256;

  absl::Status Validate() const;
};

}  // namespace ringactor::transport

#endif  // RINGACTOR_TRANSPORT_OPTIONS_H_
