// File: scheduler/task.h
//
// Task<T>: the coroutine type of ringactor. A Task is lazy: it starts when it
// is awaited (and, if it suspended, resumes its awaiter by symmetric
// transfer when it finishes) or when a shard starts it as a root
// (Shard::Start). Every
// awaitable ringactor provides resumes its coroutine from the loop of the
// shard it suspended on, so a Task never changes thread.

#ifndef RINGACTOR_SCHEDULER_TASK_H_
#define RINGACTOR_SCHEDULER_TASK_H_

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

namespace ringactor::scheduler {

template <typename T = void>
class Task;
class Shard;

namespace internal {

// Where a root task reports (see Shard::Start). Called once: from
// final_suspend with `finished` true (the result is in the promise), or at
// shutdown with `finished` false for a root still suspended. Either way it
// must destroy `frame`.
using RootDoneFn = void (*)(void* ctx, std::coroutine_handle<> frame,
                            bool finished);

// A per-thread cache of small blocks in 64-byte size classes (up to 2 KiB;
// larger sizes go to the global allocator). Coroutine frames and actor
// messages use it, so steady-state traffic does not call malloc. Blocks are
// cache-line aligned (carved from 64 KiB slabs) and share no line with each
// other. A block may be freed on another thread: it joins that thread's
// cache; a thread's surplus goes to a shared depot, where threads that run
// dry take it. The memory is kept for reuse for the life of the process
// (bounded by its peak use). Under ASan and TSan these are plain operator
// new/delete.
//
// The cache's fast path, inline: a pop or a push on this thread's list for
// the block's size class. Everything else (an empty list, a full one, the
// first use on a thread, sizes above 2 KiB) is in task.cc.
struct BlockLists {
  static constexpr std::size_t kClassBytes = 64;
  static constexpr std::size_t kClasses = 32;
  static constexpr std::uint32_t kMaxPerClass = std::uint32_t{1} << 16;
  void* heads[kClasses];            // each free block starts with `next`
  std::uint32_t counts[kClasses];
  bool registered;  // this thread's lists go to the depot when it exits

  // The list for class `cls` must not be empty.
  void* Pop(std::size_t cls) {
    void* b = heads[cls];
    heads[cls] = *static_cast<void**>(b);
    --counts[cls];
    return b;
  }
  void Push(std::size_t cls, void* b) {
    *static_cast<void**>(b) = heads[cls];
    heads[cls] = b;
    ++counts[cls];
  }
};
inline constinit thread_local BlockLists tl_block_lists{};
void* CachedAllocSlow(std::size_t size);
void CachedFreeSlow(void* p, std::size_t size) noexcept;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline void* CachedAlloc(std::size_t size) { return CachedAllocSlow(size); }
inline void CachedFree(void* p, std::size_t size) noexcept {
  CachedFreeSlow(p, size);
}
#else
inline void* CachedAlloc(std::size_t size) {
  const std::size_t cls = (size - 1) / BlockLists::kClassBytes;
  BlockLists& l = tl_block_lists;
  if (cls < BlockLists::kClasses && l.heads[cls] != nullptr) return l.Pop(cls);
  return CachedAllocSlow(size);
}
inline void CachedFree(void* p, std::size_t size) noexcept {
  const std::size_t cls = (size - 1) / BlockLists::kClassBytes;
  BlockLists& l = tl_block_lists;
  if (cls < BlockLists::kClasses && l.registered &&
      l.counts[cls] < BlockLists::kMaxPerClass) {
    l.Push(cls, p);
    return;
  }
  CachedFreeSlow(p, size);
}
#endif

class PromiseBase;
// Defined by the shard: unlinks a finished root and reports it.
void FinishRoot(PromiseBase& p, std::coroutine_handle<> frame) noexcept;

class PromiseBase {
 public:
  // Frames come from a per-thread free list of size classes, so a handler
  // coroutine costs no malloc once its shard is warm (invariant 7).
  static void* operator new(std::size_t size) { return CachedAlloc(size); }
  static void operator delete(void* p, std::size_t size) noexcept {
    CachedFree(p, size);
  }

  std::suspend_always initial_suspend() noexcept { return {}; }

  struct FinalAwaiter {
    bool await_ready() noexcept { return false; }
    template <typename P>
    std::coroutine_handle<> await_suspend(
        std::coroutine_handle<P> h) noexcept {
      PromiseBase& p = h.promise();
      if (p.continuation_) return p.continuation_;
      if (p.is_root_) FinishRoot(p, h);
      return std::noop_coroutine();
    }
    void await_resume() noexcept {}
  };
  FinalAwaiter final_suspend() noexcept { return {}; }

  void unhandled_exception() noexcept { exception_ = std::current_exception(); }

  void set_continuation(std::coroutine_handle<> c) { continuation_ = c; }
  const std::exception_ptr& exception() const { return exception_; }
  void RethrowIfFailed() const {
    if (exception_) std::rethrow_exception(exception_);
  }

 private:
  friend class ringactor::scheduler::Shard;
  friend void FinishRoot(PromiseBase&, std::coroutine_handle<>) noexcept;
  std::coroutine_handle<> continuation_;
  std::exception_ptr exception_;
  // Set while this frame is a root started by Shard::Start.
  bool is_root_ = false;
  RootDoneFn root_done_ = nullptr;
  void* root_ctx_ = nullptr;
  PromiseBase* root_prev_ = nullptr;
  PromiseBase* root_next_ = nullptr;
  std::coroutine_handle<> root_frame_;
};

template <typename T>
class Promise : public PromiseBase {
 public:
  Task<T> get_return_object() noexcept;
  template <typename U>
  void return_value(U&& v) noexcept(std::is_nothrow_constructible_v<T, U&&>) {
    value_.emplace(std::forward<U>(v));
  }
  T TakeResult() {
    RethrowIfFailed();
    return std::move(*value_);
  }

 private:
  std::optional<T> value_;
};

template <>
class Promise<void> : public PromiseBase {
 public:
  Task<void> get_return_object() noexcept;
  void return_void() noexcept {}
  void TakeResult() { RethrowIfFailed(); }
};

}  // namespace internal

// Task<T>
//
// Owns its coroutine frame (move-only). `co_await task` runs it to completion
// and yields its value, or rethrows what it threw. Destroying a suspended
// Task destroys its frame and, recursively, the frames it awaits: every
// ringactor awaitable unregisters itself when destroyed.
//
// Shard-affine: create, await and destroy a Task on one shard.
template <typename T>
class [[nodiscard]] Task {
 public:
  using promise_type = internal::Promise<T>;
  using value_type = T;

  Task() = default;
  explicit Task(std::coroutine_handle<promise_type> h) : handle_(h) {}
  Task(Task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      Reset();
      handle_ = std::exchange(other.handle_, {});
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() { Reset(); }

  bool valid() const { return static_cast<bool>(handle_); }

  // Gives up ownership of the frame (for Shard::Start).
  std::coroutine_handle<promise_type> Release() {
    return std::exchange(handle_, {});
  }

  // Awaiting runs the task at once, on this stack (await_ready). If it
  // finishes without suspending, the awaiter just goes on; only a task
  // that suspended gets the awaiter as its continuation, resumed by
  // symmetric transfer when it finishes. Symmetric transfer is a tail call
  // only when the compiler makes it one: GCC does not at -O0 or under
  // ASan, so a loop that awaited 10,000 tasks that finish at once (a Tell
  // with retry, say) nested 10,000 frames and overflowed the stack
  // (SchedulerTest.AwaitingManyTasksThatFinishAtOnceKeepsTheStackFlat).
  // A task resumes only from its shard's loop (see above), so nothing can
  // resume it between await_ready and await_suspend.
  auto operator co_await() && noexcept {
    struct Awaiter {
      std::coroutine_handle<promise_type> h;
      bool await_ready() noexcept {
        if (!h || h.done()) return true;
        h.resume();
        return h.done();
      }
      void await_suspend(std::coroutine_handle<> awaiting) noexcept {
        h.promise().set_continuation(awaiting);
      }
      T await_resume() { return h.promise().TakeResult(); }
    };
    return Awaiter{handle_};
  }

 private:
  void Reset() {
    if (handle_) handle_.destroy();
    handle_ = {};
  }
  std::coroutine_handle<promise_type> handle_;
};

namespace internal {
template <typename T>
Task<T> Promise<T>::get_return_object() noexcept {
  return Task<T>(std::coroutine_handle<Promise<T>>::from_promise(*this));
}
inline Task<void> Promise<void>::get_return_object() noexcept {
  return Task<void>(std::coroutine_handle<Promise<void>>::from_promise(*this));
}
}  // namespace internal

template <typename T>
struct IsTask : std::false_type {};
template <typename T>
struct IsTask<Task<T>> : std::true_type {};

}  // namespace ringactor::scheduler

#endif  // RINGACTOR_SCHEDULER_TASK_H_
