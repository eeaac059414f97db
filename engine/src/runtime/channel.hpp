#pragma once
// Blocking hand-over points between the engine's threads, each abortable so that teardown never
// waits on a thread blocked here. Hand-written rather than tbb::concurrent_bounded_queue because
// its abort() wakes only the current waiters: a pop that starts after the abort blocks again, a
// window that would turn cancellation into a hang.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>

namespace conveyor::detail {

/// A FIFO of at most `capacity` items. Thread-safe; push and pop block.
template <class T>
class Channel {
 public:
  explicit Channel(std::size_t capacity) : capacity_(capacity) {}

  /// Waits for room, then appends. False (and `value` dropped) once closed or aborted.
  bool push(T value) {
    std::unique_lock lock(mutex_);
    room_.wait(lock, [&] { return items_.size() < capacity_ || closed_ || aborted_; });
    if (closed_ || aborted_) return false;
    items_.push_back(std::move(value));
    ready_.notify_one();
    return true;
  }
  /// Waits for an item. Nullopt once aborted, or once closed and drained.
  std::optional<T> pop() {
    std::unique_lock lock(mutex_);
    ready_.wait(lock, [&] { return !items_.empty() || closed_ || aborted_; });
    if (aborted_ || items_.empty()) return std::nullopt;
    T value = std::move(items_.front());
    items_.pop_front();
    room_.notify_one();
    return value;
  }
  /// Waits up to `timeout` until pop() would not block.
  template <class Duration>
  bool wait_for(Duration timeout) {
    std::unique_lock lock(mutex_);
    return ready_.wait_for(lock, timeout, [&] { return !items_.empty() || closed_ || aborted_; });
  }
  /// No more pushes; pops drain what is there.
  void close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    ready_.notify_all();
    room_.notify_all();
  }
  /// Every waiting and future push and pop returns at once; items are dropped.
  void abort() {
    std::deque<T> dropped;
    {
      std::lock_guard lock(mutex_);
      aborted_ = true;
      dropped.swap(items_);
      ready_.notify_all();
      room_.notify_all();
    }
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::condition_variable room_;
  std::deque<T> items_;
  std::size_t capacity_;
  bool closed_ = false;
  bool aborted_ = false;
};

/// A counting semaphore that can be closed. Thread-safe.
class Semaphore {
 public:
  explicit Semaphore(std::size_t count) : count_(count) {}
  /// Waits for a unit; false once closed.
  bool acquire() {
    std::unique_lock lock(mutex_);
    available_.wait(lock, [&] { return count_ > 0 || closed_; });
    if (closed_) return false;
    --count_;
    return true;
  }
  /// Returns `units` units.
  void release(std::size_t units = 1) {
    std::lock_guard lock(mutex_);
    count_ += units;
    available_.notify_all();
  }
  /// Every waiting and future acquire returns false.
  void close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    available_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable available_;
  std::size_t count_;
  bool closed_ = false;
};

}  // namespace conveyor::detail
