#pragma once
// BufferPool: batch buffers, reused. Writing into fresh pages runs at a fraction of memcpy speed
// (page faults), so a batch's buffer goes back to the pool when the consumer lets go of it.

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>

namespace conveyor::detail {

class BufferPool : public std::enable_shared_from_this<BufferPool> {
 public:
  /// Keeps at most `max_free` idle buffers: a buffer returning to a full pool takes the place of
  /// the one that has been idle longest, which is freed (batch sizes change: padded batches,
  /// the last of an epoch, another pipeline stage's layout). A buffer returning when the pool
  /// cannot allocate its bookkeeping is freed instead of kept.
  static std::shared_ptr<BufferPool> create(std::size_t max_free);
  ~BufferPool();

  /// An idle 64-byte aligned buffer of at least `nbytes` and at most twice that (the smallest
  /// such; of equals, the one returned last, likeliest to be in cache), or null when there is
  /// none. It returns to the pool (which it keeps alive) when the last owner lets go.
  /// Thread-safe.
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

  // An idle buffer, and when it came back (a count of returns).
  struct Idle {
    void* buffer;
    std::uint64_t returned;
  };

  std::mutex mutex_;
  std::multimap<std::size_t, Idle> idle_;  // by size; equal sizes in the order they came back
  std::uint64_t returns_ = 0;
  std::size_t max_free_;
};

}  // namespace conveyor::detail
