// File: scheduler/intrusive_fifo.h

#ifndef RINGACTOR_SCHEDULER_INTRUSIVE_FIFO_H_
#define RINGACTOR_SCHEDULER_INTRUSIVE_FIFO_H_

namespace ringactor::scheduler {

// A singly linked FIFO kept as a (head, tail) pair, its nodes linked through
// their member `Next` (e.g. &Runnable::next_run_): queuing allocates
// nothing. The run queue and actors' mailboxes use it. Thread-compatible.

// Appends `node`.
template <auto Next, typename T>
void FifoPush(T*& head, T*& tail, T* node) {
  node->*Next = nullptr;
  if (tail == nullptr) {
    head = node;
  } else {
    tail->*Next = node;
  }
  tail = node;
}

// Removes and returns the first node; the FIFO must not be empty.
template <auto Next, typename T>
T* FifoPop(T*& head, T*& tail) {
  T* node = head;
  head = node->*Next;
  if (head == nullptr) tail = nullptr;
  return node;
}

}  // namespace ringactor::scheduler

#endif  // RINGACTOR_SCHEDULER_INTRUSIVE_FIFO_H_
