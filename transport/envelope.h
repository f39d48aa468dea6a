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
// Pass it by value (it travels in two registers) and write it into queues
// with Store() below.
struct Envelope {
  uint64_t tag = 0;
  uint64_t value = 0;
};
static_assert(sizeof(Envelope) == 16);
static_assert(std::is_trivially_copyable_v<Envelope>);

// Stores `e` into `slot` one word at a time. A plain `slot = e` of a by-value
// envelope made GCC spill its two registers to the stack and reload them as
// one 16-byte load (for a 16-byte store), which store forwarding cannot
// serve: a stall of ~15 cycles on every send, and most of Shard::Send's time
// in a profile of //bench:actors tell.
inline void Store(Envelope& slot, Envelope e) {
  // GCC merged the two stores into one 16-byte store, and to feed it
  // spilled `e` to the stack and reloaded it as one vector: the very
  // store-forwarding stall this function exists to avoid. Passing one word
  // through an empty asm makes it an opaque register value, so the slot is
  // written from registers (no spill, no reload).
  uint64_t value = e.value;
  asm("" : "+r"(value));
  slot.tag = e.tag;
  slot.value = value;
}

}  // namespace ringactor::transport

#endif  // RINGACTOR_TRANSPORT_ENVELOPE_H_
