#pragma once
/// \file iterator.hpp
/// Iterator: a running pipeline, read one batch at a time.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "conveyor/position.hpp"
#include "conveyor/row.hpp"
#include "conveyor/stats.hpp"

namespace conveyor {

namespace detail {
class Execution;
}

/// Owns a running pipeline: its flow graphs, task arena and threads. Move-only. Destroying it
/// (at any point, mid-epoch included) cancels the pipeline and joins its threads; it returns
/// promptly once running user code (a source's get, a map op) has returned.
///
/// One thread reads an iterator at a time; stats() may be called from any thread.
class Iterator {
 public:
  explicit Iterator(std::unique_ptr<detail::Execution> execution);
  Iterator(Iterator&&) noexcept;
  Iterator& operator=(Iterator&&) noexcept;
  ~Iterator();

  /// The next output, in the sampler's order, or nullopt after the last epoch. Blocks until one
  /// is ready. A failure anywhere in the pipeline is thrown here, in order, as a conveyor::Error
  /// naming the stage and sample; after it (and after the end) next() returns nullopt.
  std::optional<Batch> next();

  /// As next(), but also nullopt at the end of each epoch (then the next call starts the next
  /// epoch), so that a caller can tell epochs apart even when one is empty; done() tells the
  /// end of an epoch from the end of all.
  std::optional<Batch> next_in_epoch();
  /// True once the last epoch has been read (or a failure thrown, or cancel() called and seen).
  bool done() const;

  /// Stops the pipeline now; a next() waiting on another thread returns nullopt, and so does
  /// every later one. Thread-safe: the one call that may come from another thread than the
  /// reader's. The destructor still joins the threads.
  void cancel() noexcept;

  /// Waits up to `timeout` for next() to have something (an output, an error or the end);
  /// true when next() will not block. Lets a caller that must stay responsive (Python, to
  /// Ctrl-C) wait in slices.
  bool wait(std::chrono::milliseconds timeout);

  /// The epoch (from 0) of the last output next() returned.
  std::uint64_t epoch() const;
  /// Where the reader is: the epoch and the outputs of it read so far, or the next epoch and 0
  /// once the end of an epoch has been read (next_in_epoch() returned nullopt, or next() went
  /// past it), and in the middle of an epoch the stages' state after the last output (its Cut;
  /// unset for pipelines that record none, see Dataset::iterate). Dataset::iterate(num_epochs,
  /// position()) continues from here. Computing a shuffle buffer's contents costs up to one
  /// step per row read since the last call. Reader's thread.
  Position position() const;

  /// Counters of every stage so far (see stats.hpp), upstream first.
  std::vector<StageStats> stats() const;
  /// Output column names, in order.
  const std::vector<std::string>& column_names() const;

  /// Input iterator over the remaining outputs, for range-for.
  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = Batch;
    using difference_type = std::ptrdiff_t;
    using pointer = const Batch*;
    using reference = const Batch&;

    iterator() = default;
    explicit iterator(Iterator* owner) : owner_(owner) { ++*this; }
    reference operator*() const { return *current_; }
    pointer operator->() const { return &*current_; }
    iterator& operator++() {
      current_ = owner_->next();
      if (!current_) owner_ = nullptr;
      return *this;
    }
    void operator++(int) { ++*this; }
    bool operator==(const iterator& other) const { return owner_ == other.owner_; }

   private:
    Iterator* owner_ = nullptr;
    std::optional<Batch> current_;
  };
  /// Starts reading; each call continues where the last one stopped.
  iterator begin() { return iterator(this); }
  iterator end() { return iterator(); }

 private:
  std::unique_ptr<detail::Execution> execution_;
};

}  // namespace conveyor
