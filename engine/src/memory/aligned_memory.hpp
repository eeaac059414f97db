#pragma once
// 64-byte aligned raw buffers: the alignment conveyor promises for the memory it owns.
//
// They come from oneTBB's scalable allocator: a row's tensors are allocated on a source worker
// and freed on the batch thread, and glibc's malloc serializes such cross-thread frees on the
// allocating arena's lock (in the native workload of conveyor-bench, a fifth of the CPU went to
// malloc and free). Sanitizer builds keep operator new, which ASan and TSan can see.

#include <algorithm>
#include <cstddef>
#include <memory>
#include <new>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define CONVEYOR_SYSTEM_ALLOCATOR 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define CONVEYOR_SYSTEM_ALLOCATOR 1
#endif
#endif

#ifndef CONVEYOR_SYSTEM_ALLOCATOR
#include <oneapi/tbb/scalable_allocator.h>
#endif

namespace conveyor::detail {

inline constexpr std::size_t kAlignment = 64;

/// At least max(nbytes, 1) bytes, 64-byte aligned; release with free_aligned. Thread-safe; the
/// buffer may be freed on any thread. Throws std::bad_alloc.
inline void* allocate_aligned(std::size_t nbytes) {
  nbytes = std::max<std::size_t>(nbytes, 1);
#ifdef CONVEYOR_SYSTEM_ALLOCATOR
  return ::operator new(nbytes, std::align_val_t{kAlignment});
#else
  void* buffer = scalable_aligned_malloc(nbytes, kAlignment);
  if (buffer == nullptr) throw std::bad_alloc();
  return buffer;
#endif
}

inline void free_aligned(void* p) noexcept {
#ifdef CONVEYOR_SYSTEM_ALLOCATOR
  ::operator delete(p, std::align_val_t{kAlignment});
#else
  scalable_aligned_free(p);
#endif
}

/// Owns a buffer of allocate_aligned(nbytes); its control block comes from the same allocator.
inline std::shared_ptr<void> allocate_shared_aligned(std::size_t nbytes) {
#ifdef CONVEYOR_SYSTEM_ALLOCATOR
  return std::shared_ptr<void>(allocate_aligned(nbytes), free_aligned);
#else
  return std::shared_ptr<void>(allocate_aligned(nbytes), free_aligned, tbb::scalable_allocator<char>{});
#endif
}

}  // namespace conveyor::detail
