// File: actors/actor_memory.cc
//
// internal::AllocateActor / FreeActor (actors/actor.h).

#include <cstddef>
#include <new>
#include <vector>

#include <sanitizer/asan_interface.h>

#include "absl/base/thread_annotations.h"
#include "actors/actor.h"
#include "scheduler/mutex.h"

namespace ringactor::internal {
namespace {

constexpr std::size_t kClasses = 16;  // blocks of 1..16 lines
constexpr std::size_t kChunkBytes = std::size_t{64} << 10;

// A freed block stays poisoned (ASan) until it is handed out again, so a
// use of a destroyed actor is still reported. The macros are no-ops in
// other builds.
class ActorMemory {
 public:
  void* Allocate(std::size_t bytes) {
    void* p;
    {
      scheduler::MutexLock lock(mu_);
      SizeClass& k = classes_[bytes / kActorLine - 1];
      if (!k.free.empty()) {
        p = k.free.back();
        k.free.pop_back();
      } else {
        if (k.left < bytes) {
          // The tail of the previous chunk (less than one block) is unused.
          k.next = static_cast<char*>(
              ::operator new(kChunkBytes, std::align_val_t{kActorLine}));
          k.left = kChunkBytes;
          ASAN_POISON_MEMORY_REGION(k.next, kChunkBytes);
        }
        p = k.next;
        k.next += bytes;
        k.left -= bytes;
      }
    }
    ASAN_UNPOISON_MEMORY_REGION(p, bytes);
    return p;
  }
  void Free(void* p, std::size_t bytes) {
    ASAN_POISON_MEMORY_REGION(p, bytes);
    scheduler::MutexLock lock(mu_);
    classes_[bytes / kActorLine - 1].free.push_back(p);
  }

 private:
  struct SizeClass {
    std::vector<void*> free;  // freed blocks, reused last-in first-out
    char* next = nullptr;     // the current chunk's unused part
    std::size_t left = 0;
  };
  scheduler::Mutex mu_;
  SizeClass classes_[kClasses] ABSL_GUARDED_BY(mu_);
};

// Never destroyed: an actor may be freed while statics are destroyed.
ActorMemory& Memory() {
  static ActorMemory* m = new ActorMemory;
  return *m;
}

}  // namespace

void* AllocateActor(std::size_t bytes) {
  if (bytes > kClasses * kActorLine) {
    return ::operator new(bytes, std::align_val_t{kActorLine});
  }
  return Memory().Allocate(bytes);
}

void FreeActor(void* p, std::size_t bytes) noexcept {
  if (p == nullptr) return;
  if (bytes > kClasses * kActorLine) {
    ::operator delete(p, std::align_val_t{kActorLine});
    return;
  }
  Memory().Free(p, bytes);
}

}  // namespace ringactor::internal
