// File: transport/envelope.h

#ifndef RINGACTOR_TRANSPORT_ENVELOPE_H_
#define RINGACTOR_TRANSPORT_ENVELOPE_H_

#include <cstdint>
#include <type_traits>

namespace ringactor::transport {

// Envelope
//
// The unit a lane or inbox carries: 16 bytes, trivially copyable. The
// transport never interprets it; the layers above put a receiver and a
// pointer to a message object in it (messages move as objects, never
// serialized, inside a process). Thread-compatible.
//
// Pass it by value: it travels in two registers. Through a const& the
// caller stored its two words separately and the callee reloaded them as one
// 16-byte load, which store forwarding cannot serve (a profile of
// //bench:actors tell put most of Shard::Send on that load).
struct Envelope {
  uint64_t tag = 0;
  uint64_t value = 0;
};
static_assert(sizeof(Envelope) == 16);
static_assert(std::is_trivially_copyable_v<Envelope>);

}  // namespace ringactor::transport

#endif  // RINGACTOR_TRANSPORT_ENVELOPE_H_
