// File: scheduler/task.cc

#include "scheduler/task.h"

#include <cstddef>
#include <new>

namespace ringactor::scheduler::internal {
namespace {

// Blocks in 64-byte size classes up to 2 KiB are recycled through a
// per-thread free list (see CachedAlloc in task.h).
constexpr std::size_t kClassBytes = 64;
constexpr std::size_t kClasses = 32;
constexpr std::size_t kMaxCachedPerClass = 1 << 16;

struct FreeBlock {
  FreeBlock* next;
};

class FrameCache {
 public:
  ~FrameCache() {
    for (FreeBlock*& head : heads_) {
      while (head != nullptr) {
        FreeBlock* next = head->next;
        ::operator delete(head);
        head = next;
      }
    }
  }
  void* Allocate(std::size_t cls) {
    FreeBlock* b = heads_[cls];
    if (b == nullptr) return ::operator new((cls + 1) * kClassBytes);
    heads_[cls] = b->next;
    --counts_[cls];
    return b;
  }
  void Free(void* p, std::size_t cls) {
    if (counts_[cls] >= kMaxCachedPerClass) {
      ::operator delete(p);
      return;
    }
    auto* b = static_cast<FreeBlock*>(p);
    b->next = heads_[cls];
    heads_[cls] = b;
    ++counts_[cls];
  }

 private:
  FreeBlock* heads_[kClasses] = {};
  std::size_t counts_[kClasses] = {};
};

thread_local FrameCache frame_cache;

}  // namespace

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
// Sanitizers see every block's lifetime: no recycling.
void* CachedAlloc(std::size_t size) { return ::operator new(size); }
void CachedFree(void* p, std::size_t) noexcept { ::operator delete(p); }
#else
void* CachedAlloc(std::size_t size) {
  const std::size_t cls = (size - 1) / kClassBytes;
  if (cls >= kClasses) return ::operator new(size);
  return frame_cache.Allocate(cls);
}

void CachedFree(void* p, std::size_t size) noexcept {
  const std::size_t cls = (size - 1) / kClassBytes;
  if (cls >= kClasses) {
    ::operator delete(p);
    return;
  }
  frame_cache.Free(p, cls);
}
#endif

}  // namespace ringactor::scheduler::internal
