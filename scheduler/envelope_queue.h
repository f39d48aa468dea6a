// File: scheduler/envelope_queue.h
//
// EnvelopeQueue: the FIFO behind a shard's per-target backlog. A ring
// buffer that doubles when full, so a backlog that fills and drains over and
// over reuses the same (warm) memory instead of allocating and freeing
// chunks as std::deque does; it gives large buffers back once drained.

#ifndef RINGACTOR_SCHEDULER_ENVELOPE_QUEUE_H_
#define RINGACTOR_SCHEDULER_ENVELOPE_QUEUE_H_

#include <cstddef>
#include <cstdint>
#include <memory>

#include "transport/envelope.h"

namespace ringactor::scheduler {

class EnvelopeQueue {
 public:
  // Capacity kept when the queue drains; larger buffers are released.
  static constexpr size_t kKeptCapacity = 4096;

  EnvelopeQueue() = default;
  EnvelopeQueue(EnvelopeQueue&&) noexcept = default;
  EnvelopeQueue& operator=(EnvelopeQueue&&) noexcept = default;

  bool empty() const { return head_ == tail_; }
  size_t size() const { return static_cast<size_t>(tail_ - head_); }
  size_t capacity() const { return capacity_; }

  transport::Envelope front() const { return buf_[head_ & mask()]; }

  void push_back(transport::Envelope e) {
    if (size() == capacity_) Grow();
    transport::Store(buf_[tail_ & mask()], e);
    ++tail_;
  }

  void pop_front() {
    ++head_;
    if (head_ == tail_ && capacity_ > kKeptCapacity) {
      buf_.reset();
      capacity_ = 0;
      head_ = tail_ = 0;
    }
  }

 private:
  size_t mask() const { return capacity_ - 1; }
  void Grow() {
    const size_t cap = capacity_ == 0 ? 64 : 2 * capacity_;
    auto bigger = std::make_unique<transport::Envelope[]>(cap);
    const size_t n = size();
    for (size_t i = 0; i < n; ++i) bigger[i] = buf_[(head_ + i) & mask()];
    buf_ = std::move(bigger);
    capacity_ = cap;
    head_ = 0;
    tail_ = n;
  }

  std::unique_ptr<transport::Envelope[]> buf_;
  size_t capacity_ = 0;  // 0 or a power of two
  uint64_t head_ = 0;
  uint64_t tail_ = 0;
};

}  // namespace ringactor::scheduler

#endif  // RINGACTOR_SCHEDULER_ENVELOPE_QUEUE_H_
