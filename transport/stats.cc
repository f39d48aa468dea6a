#include "transport/stats.h"

#include "absl/strings/str_cat.h"

namespace ringactor::transport {

TransportStats& TransportStats::operator+=(const TransportStats& o) {
  enqueued += o.enqueued;
  urgent_sent += o.urgent_sent;
  dequeued += o.dequeued;
  backpressure += o.backpressure;
  doorbells_sent += o.doorbells_sent;
  doorbells_suppressed += o.doorbells_suppressed;
  doorbell_failures += o.doorbell_failures;
  words_sent += o.words_sent;
  words_received += o.words_received;
  word_failures += o.word_failures;
  words_lost += o.words_lost;
  sleeps += o.sleeps;
  idle_yields += o.idle_yields;
  inbox_enqueued += o.inbox_enqueued;
  inbox_backpressure += o.inbox_backpressure;
  foreign_wakes += o.foreign_wakes;
  foreign_wake_failures += o.foreign_wake_failures;
  cq_overflows += o.cq_overflows;
  cq_dropped += o.cq_dropped;
  stale_taskrun_clears += o.stale_taskrun_clears;
  return *this;
}

std::string TransportStats::DebugString() const {
  return absl::StrCat(
      "enqueued=", enqueued, " urgent_sent=", urgent_sent,
      " dequeued=", dequeued, " backpressure=", backpressure,
      " doorbells_sent=", doorbells_sent,
      " doorbells_suppressed=", doorbells_suppressed,
      " doorbell_failures=", doorbell_failures, " words_sent=", words_sent,
      " words_received=", words_received, " word_failures=", word_failures,
      " words_lost=", words_lost, " sleeps=", sleeps,
      " idle_yields=", idle_yields, " inbox_enqueued=", inbox_enqueued,
      " inbox_backpressure=", inbox_backpressure,
      " foreign_wakes=", foreign_wakes,
      " foreign_wake_failures=", foreign_wake_failures,
      " cq_overflows=", cq_overflows, " cq_dropped=", cq_dropped,
      " stale_taskrun_clears=", stale_taskrun_clears);
}

}  // namespace ringactor::transport
