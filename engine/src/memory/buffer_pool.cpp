#include "memory/buffer_pool.hpp"

#include <algorithm>
#include <iterator>

#include "memory/aligned_memory.hpp"

namespace conveyor::detail {

std::shared_ptr<BufferPool> BufferPool::create(std::size_t max_free) {
  return std::shared_ptr<BufferPool>(new BufferPool(max_free));
}

BufferPool::~BufferPool() {
  for (auto& [size, idle] : idle_) free_aligned(idle.buffer);
}

std::shared_ptr<void> BufferPool::reuse(std::size_t nbytes) {
  void* buffer = nullptr;
  std::size_t size;
  {
    std::lock_guard lock(mutex_);
    auto smallest = idle_.lower_bound(nbytes);
    if (smallest == idle_.end() || smallest->first - nbytes > nbytes) return nullptr;
    const auto latest = std::prev(idle_.upper_bound(smallest->first));
    buffer = latest->second.buffer;
    size = latest->first;
    idle_.erase(latest);
  }
  return own(buffer, size);
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
  void* freed[2] = {buffer, nullptr};  // this one, when the pool keeps none or has no room for its node
  if (max_free_ > 0) {
    std::lock_guard lock(mutex_);
    try {
      idle_.emplace(nbytes, Idle{buffer, returns_++});
      freed[0] = nullptr;
    } catch (const std::bad_alloc&) {
      // No node for it: it is freed below instead of kept.
    }
    if (idle_.size() > max_free_) {
      const auto oldest = std::min_element(idle_.begin(), idle_.end(), [](const auto& a, const auto& b) {
        return a.second.returned < b.second.returned;
      });
      freed[1] = oldest->second.buffer;
      idle_.erase(oldest);
    }
  }
  for (void* f : freed)
    if (f) free_aligned(f);
}

}  // namespace conveyor::detail
