#pragma once
// BufferPool: batch buffers, reused. Writing into fresh pages runs at a fraction of memcpy speed
// (page faults), so a batch's buffer goes back to the pool when the consumer lets go of it.

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>

namespace conveyor::detail {

class BufferPool : public std::enable_shared_from_this<BufferPool> {
 public:
  /// Keeps at most `max_free` idle buffers; more are freed.
  static std::shared_ptr<BufferPool> create(std::size_t max_free);
  ~BufferPool();

  /// An idle 64-byte aligned buffer of `nbytes`, or null when there is none. It returns to the
  /// pool (which it keeps alive) when the last owner lets go. Thread-safe.
  std::shared_ptr<void> reuse(std::size_t nbytes);
  /// A new 64-byte aligned buffer of `nbytes` that returns to the pool like those of reuse().
  /// Thread-safe; throws std::bad_alloc.
  std::shared_ptr<void> allocate(std::size_t nbytes);
  /// Whether `buffer` is one of this pool's (from reuse() or allocate()). Thread-safe.
  bool owns(const std::shared_ptr<void>& buffer) const noexcept;

 private:
  // Returns a buffer to its pool: a named type, so that owns() can find it (std::get_deleter).
  struct Return {
    std::shared_ptr<BufferPool> pool;
    std::size_t nbytes;
    void operator()(void* buffer) const noexcept { pool->release(buffer, nbytes); }
  };

  explicit BufferPool(std::size_t max_free) : max_free_(max_free) {}
  std::shared_ptr<void> own(void* buffer, std::size_t nbytes);
  void release(void* buffer, std::size_t nbytes) noexcept;

  std::mutex mutex_;
  std::multimap<std::size_t, void*> idle_;
  std::size_t max_free_;
};

}  // namespace conveyor::detail
