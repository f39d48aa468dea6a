// File: scheduler/timer.h
//
// One timer structure per shard: an indexed min-heap of intrusive Timers.
// The shard fires due timers at the top of each loop turn and, when idle,
// sleeps in io_uring_enter with the earliest deadline as its wait timeout
// (EXT_ARG), so timers cost no thread and no extra SQE.

#ifndef RINGACTOR_SCHEDULER_TIMER_H_
#define RINGACTOR_SCHEDULER_TIMER_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "scheduler/clock.h"

namespace ringactor::scheduler {

// Timer
//
// Something that wants `OnFire()` at `deadline()` on the shard it was armed
// on. Destroying an armed timer disarms it. Shard-affine.
class Timer {
 public:
  Timer() = default;
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;
  virtual ~Timer();

  bool armed() const { return heap_index_ != kNotArmed; }
  int64_t deadline() const { return deadline_ns_; }

  // Arms (or re-arms) on the calling shard's timer heap.
  void Arm(int64_t deadline_ns);
  void Disarm();

 protected:
  virtual void OnFire() noexcept = 0;

 private:
  friend class TimerHeap;
  static constexpr size_t kNotArmed = ~size_t{0};
  class TimerHeap* heap_ = nullptr;
  size_t heap_index_ = kNotArmed;
  int64_t deadline_ns_ = kNoDeadline;
  uint64_t seq_ = 0;  // FIFO among equal deadlines
};

// TimerHeap
//
// Shard-affine.
class TimerHeap {
 public:
  ~TimerHeap();
  void Insert(Timer* t);
  void Remove(Timer* t);
  bool empty() const { return heap_.empty(); }
  size_t size() const { return heap_.size(); }
  // Earliest deadline, or kNoDeadline.
  int64_t NextDeadline() const {
    return heap_.empty() ? kNoDeadline : heap_[0]->deadline_ns_;
  }
  // Fires every timer due at `now_ns` (each at most once per call; a timer
  // re-armed by its OnFire for a time <= now waits for the next call).
  size_t FireDue(int64_t now_ns);
  // Disarms every timer without firing it (shutdown).
  void Clear();

 private:
  bool Less(size_t a, size_t b) const;
  void Swap(size_t a, size_t b);
  void SiftUp(size_t i);
  void SiftDown(size_t i);

  std::vector<Timer*> heap_;
  uint64_t next_seq_ = 0;
};

}  // namespace ringactor::scheduler

#endif  // RINGACTOR_SCHEDULER_TIMER_H_
