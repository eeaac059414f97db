#include "buffer_pool.hpp"

#include <iterator>

#include "aligned_memory.hpp"

namespace conveyor::detail {

std::shared_ptr<BufferPool> BufferPool::create(std::size_t max_free) {
  return std::shared_ptr<BufferPool>(new BufferPool(max_free));
}

BufferPool::~BufferPool() {
  for (auto& [size, buffer] : idle_) free_aligned(buffer);
}

std::shared_ptr<void> BufferPool::reuse(std::size_t nbytes) {
  void* buffer = nullptr;
  {
    std::lock_guard lock(mutex_);
    // The most recently returned buffer of the size: the likeliest to still be in cache.
    auto it = idle_.upper_bound(nbytes);
    if (it == idle_.begin() || std::prev(it)->first != nbytes) return nullptr;
    buffer = std::prev(it)->second;
    idle_.erase(std::prev(it));
  }
  return own(buffer, nbytes);
}

std::shared_ptr<void> BufferPool::allocate(std::size_t nbytes) { return own(allocate_aligned(nbytes), nbytes); }

std::shared_ptr<void> BufferPool::own(void* buffer, std::size_t nbytes) {
  return std::shared_ptr<void>(buffer, Return{shared_from_this(), nbytes});
}

bool BufferPool::owns(const std::shared_ptr<void>& buffer) const noexcept {
  const Return* returns = std::get_deleter<Return>(buffer);
  return returns && returns->pool.get() == this;
}

void BufferPool::release(void* buffer, std::size_t nbytes) noexcept {
  {
    std::lock_guard lock(mutex_);
    if (idle_.size() < max_free_) {
      idle_.emplace(nbytes, buffer);
      return;
    }
  }
  free_aligned(buffer);
}

}  // namespace conveyor::detail
