#pragma once
// 64-byte aligned raw buffers: the alignment conveyor promises for the memory it owns.

#include <algorithm>
#include <cstddef>
#include <new>

namespace conveyor::detail {

inline constexpr std::size_t kAlignment = 64;

/// At least max(nbytes, 1) bytes, 64-byte aligned; release with free_aligned.
inline void* allocate_aligned(std::size_t nbytes) {
  return ::operator new(std::max<std::size_t>(nbytes, 1), std::align_val_t{kAlignment});
}

inline void free_aligned(void* p) noexcept { ::operator delete(p, std::align_val_t{kAlignment}); }

}  // namespace conveyor::detail
