// File: scheduler/timer.cc

#include "scheduler/timer.h"

#include <utility>

#include "scheduler/shard.h"

namespace ringactor::scheduler {

Timer::~Timer() { Disarm(); }

void Timer::Arm(int64_t deadline_ns) {
  Disarm();
  deadline_ns_ = deadline_ns;
  Shard::Current()->timers().Insert(this);
}

void Timer::Disarm() {
  if (heap_ != nullptr) heap_->Remove(this);
}

TimerHeap::~TimerHeap() { Clear(); }

bool TimerHeap::Less(size_t a, size_t b) const {
  const Timer* x = heap_[a];
  const Timer* y = heap_[b];
  if (x->deadline_ns_ != y->deadline_ns_) {
    return x->deadline_ns_ < y->deadline_ns_;
  }
  return x->seq_ < y->seq_;
}

void TimerHeap::Swap(size_t a, size_t b) {
  std::swap(heap_[a], heap_[b]);
  heap_[a]->heap_index_ = a;
  heap_[b]->heap_index_ = b;
}

void TimerHeap::SiftUp(size_t i) {
  while (i > 0) {
    const size_t parent = (i - 1) / 2;
    if (!Less(i, parent)) break;
    Swap(i, parent);
    i = parent;
  }
}

void TimerHeap::SiftDown(size_t i) {
  const size_t n = heap_.size();
  while (true) {
    const size_t l = 2 * i + 1;
    if (l >= n) break;
    size_t m = l;
    if (l + 1 < n && Less(l + 1, l)) m = l + 1;
    if (!Less(m, i)) break;
    Swap(i, m);
    i = m;
  }
}

void TimerHeap::Insert(Timer* t) {
  t->heap_ = this;
  t->seq_ = next_seq_++;
  t->heap_index_ = heap_.size();
  heap_.push_back(t);
  SiftUp(t->heap_index_);
}

void TimerHeap::Remove(Timer* t) {
  const size_t i = t->heap_index_;
  const size_t last = heap_.size() - 1;
  if (i != last) {
    Swap(i, last);
  }
  heap_.pop_back();
  t->heap_ = nullptr;
  t->heap_index_ = Timer::kNotArmed;
  if (i < heap_.size()) {
    SiftDown(i);
    SiftUp(i);
  }
}

size_t TimerHeap::FireDue(int64_t now_ns) {
  size_t fired = 0;
  const uint64_t limit = next_seq_;  // timers armed while firing wait
  while (!heap_.empty() && heap_[0]->deadline_ns_ <= now_ns &&
         heap_[0]->seq_ < limit) {
    Timer* t = heap_[0];
    Remove(t);
    t->OnFire();
    ++fired;
  }
  return fired;
}

void TimerHeap::Clear() {
  for (Timer* t : heap_) {
    t->heap_ = nullptr;
    t->heap_index_ = Timer::kNotArmed;
  }
  heap_.clear();
}

}  // namespace ringactor::scheduler
