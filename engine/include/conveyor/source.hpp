#pragma once
/// \file source.hpp
/// Sources: where rows come from. Random access (`size()` + `get(i)`), iterable (`next()`), or a
/// function of the index; all behind one type-erased `Source`.
///
/// \code
///   struct Squares {                                  // random access
///     std::size_t size() const { return 1000; }
///     conveyor::Row get(std::size_t i) const { return {conveyor::Tensor::scalar<float>(i * i)}; }
///   };
///   std::shared_ptr<conveyor::Source> s = conveyor::make_source(Squares{});
/// \endcode

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stop_token>
#include <type_traits>
#include <utility>

#include "conveyor/row.hpp"

namespace conveyor {

/// The interface the engine reads rows through.
class Source {
 public:
  virtual ~Source() = default;

  /// Number of rows when known (always for random access; optional for iterables).
  virtual std::optional<std::size_t> size() const = 0;
  /// True when get() serves any index below size().
  virtual bool random_access() const noexcept = 0;

  /// The row at `index` (< size()). The engine calls it from several worker threads at once,
  /// so it must be thread-safe. Only for random-access sources.
  virtual Row get(std::size_t index) const = 0;
  /// The row at `index` in the iterator's epoch `epoch` (0 for its first): what the engine
  /// calls, with get()'s contract. Returns get(index); a source whose rows depend on the epoch
  /// (one that seeds per-epoch randomness, say) overrides it.
  virtual Row fetch(std::size_t index, std::uint64_t epoch) const {
    static_cast<void>(epoch);
    return get(index);
  }
  /// Rows for a chunk of consecutive positions of the sampler's order in epoch `epoch`:
  /// rows[i] for indices[i], or errors[i] (left null otherwise) when that row failed; the others
  /// are still read. The engine calls this, from several threads at once, never fetch()
  /// directly. Calls fetch() for each index; a source with a cost per call (another process, a
  /// remote store) overrides it to read the chunk in one go, and sets fetch_block() to the rows
  /// it wants a call: under a batch the fetch stage lays out (see batches_in_place()), a chunk
  /// is read in calls of fetch_block() rows, or 16. `rows` and `errors` have the size of
  /// `indices`. `stop` is requested when the pipeline stops and nobody will read the chunk:
  /// the call may then return early, rows unread (the default checks between rows; an override
  /// that waits on something can wake on it with a std::stop_callback).
  virtual void fetch_many(std::span<const std::uint64_t> indices, std::uint64_t epoch, std::span<Row> rows,
                          std::span<std::exception_ptr> errors, std::stop_token stop) const;
  /// The chunk size fetch_many() wants, or 0 (the default) to let the engine size chunks by the
  /// measured cost of a row. When set, every chunk of an epoch holds this many indices, or a
  /// multiple of it (a batch read in place, see batches_in_place()); the last may hold fewer,
  /// and each starts at a multiple of it: a source whose rows depend on the block (one that
  /// seeds a generator per block) then gives the same rows whatever the timing, the worker count
  /// or the chunk size.
  virtual std::size_t fetch_block() const noexcept { return 0; }
  /// True when fetch_many() may lay a chunk's rows out back to back in a buffer of their own:
  /// each column's rows one after the other, in order, contiguous, under one owner that nothing
  /// else holds. A batch of exactly such rows is then that buffer, not a copy of it (the batch
  /// stage checks the layout and copies rows that do not lie so), and a batch directly over the
  /// source (projections and renames aside) has its chunks read a batch at a time when its size
  /// is a multiple of fetch_block() and at most 256 rows. (A source that does not lay them out
  /// is read a batch per chunk too when its stage has several workers, in calls of fetch_block()
  /// rows, or 16, whose rows the engine copies into the batch at once.) False by default: rows
  /// that are views of a source's own data (consecutive slices of one array) would give batches
  /// that alias it.
  virtual bool batches_in_place() const noexcept { return false; }

  /// Starts a new pass over an iterable source; called before every epoch of every pipeline
  /// (the first included), from one thread at a time.
  virtual void reset() = 0;
  /// The next row of the current pass, or nullopt when the pass is over. Called from one
  /// thread at a time; may block. Only for iterable sources.
  virtual std::optional<Row> next() = 0;

  /// For an iterable source: an independent reader of the same rows, so that each pipeline (and
  /// each branch of a zip or concat) keeps its own position; every pipeline reads a fork. Null
  /// when the source cannot make one: then its pipelines share its position. Thread-safe.
  virtual std::shared_ptr<Source> fork() const { return nullptr; }
};

/// Any type with `size()` and a thread-safe `get(index) -> Row`.
template <class T>
concept RandomAccessSource = requires(const T& t, std::size_t i) {
  { t.size() } -> std::convertible_to<std::size_t>;
  { t.get(i) } -> std::convertible_to<Row>;
};

/// Any type with `next() -> std::optional<Row>`; an optional `reset()` restarts it before each
/// epoch (without one, every epoch continues the same stream), an optional `size()` gives the
/// length of a pass. A copyable one is copied for each pipeline, so pipelines never share a
/// position; a move-only one is shared.
template <class T>
concept IterableSource = requires(T& t) {
  { t.next() } -> std::convertible_to<std::optional<Row>>;
};

namespace detail {

template <class T>
class RandomAccessAdapter final : public Source {
 public:
  explicit RandomAccessAdapter(T source) : source_(std::move(source)) {}
  std::optional<std::size_t> size() const override { return static_cast<std::size_t>(source_.size()); }
  bool random_access() const noexcept override { return true; }
  Row get(std::size_t index) const override { return source_.get(index); }
  void reset() override {}
  std::optional<Row> next() override { throw std::logic_error("conveyor: next() on a random-access source"); }

 private:
  T source_;
};

template <class T>
class IterableAdapter final : public Source {
 public:
  explicit IterableAdapter(T source) : source_(std::move(source)) {}
  std::optional<std::size_t> size() const override {
    if constexpr (requires(const T& t) { { t.size() } -> std::convertible_to<std::size_t>; })
      return static_cast<std::size_t>(source_.size());
    else
      return std::nullopt;
  }
  bool random_access() const noexcept override { return false; }
  Row get(std::size_t) const override { throw std::logic_error("conveyor: get() on an iterable source"); }
  void reset() override {
    if constexpr (requires(T& t) { t.reset(); }) source_.reset();
  }
  std::optional<Row> next() override { return source_.next(); }
  std::shared_ptr<Source> fork() const override {
    if constexpr (std::is_copy_constructible_v<T>)
      return std::make_shared<IterableAdapter>(source_);  // a copy, at the state it was given in
    else
      return nullptr;
  }

 private:
  T source_;
};

}  // namespace detail

/// Adapts a random-access or iterable type (taken by value) to a Source. A type that is both is
/// treated as random access.
template <class T>
  requires RandomAccessSource<T> || IterableSource<T>
std::shared_ptr<Source> make_source(T source) {
  if constexpr (RandomAccessSource<T>)
    return std::make_shared<detail::RandomAccessAdapter<T>>(std::move(source));
  else
    return std::make_shared<detail::IterableAdapter<T>>(std::move(source));
}

/// A random-access source of `size` rows whose row i is `row(i)`; `row` must be thread-safe.
std::shared_ptr<Source> function_source(std::size_t size, std::function<Row(std::size_t)> row);

}  // namespace conveyor
