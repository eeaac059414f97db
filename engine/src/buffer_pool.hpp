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

  /// A 64-byte aligned buffer of `nbytes`, reused when an idle one of that size exists. It
  /// returns to the pool (which it keeps alive) when the last owner lets go. Thread-safe.
  std::shared_ptr<void> acquire(std::size_t nbytes);

 private:
  explicit BufferPool(std::size_t max_free) : max_free_(max_free) {}
  void release(void* buffer, std::size_t nbytes) noexcept;

  std::mutex mutex_;
  std::multimap<std::size_t, void*> idle_;
  std::size_t max_free_;
};

}  // namespace conveyor::detail
