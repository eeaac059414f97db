#pragma once
/// \file source.hpp
/// Sources: where rows come from. Two kinds, each an interface with only the members it uses:
/// a RandomAccessSource is read by index (`size()`, `read(i, epoch)`), an IterableSource in
/// order (`next()`, optionally `reset()`). Any type with `size()` + `get(i)`, or with `next()`,
/// is adapted to one of them by make_source(), and GeneratorDataset takes it directly.
///
/// \code
///   struct Squares {                                  // random access
///     std::size_t size() const { return 1000; }
///     conveyor::Row get(std::size_t i) const { return {conveyor::Tensor::scalar<float>(i * i)}; }
///   };
///   std::shared_ptr<conveyor::RandomAccessSource> s = conveyor::make_source(Squares{});
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
#include <variant>

#include "conveyor/row.hpp"

namespace conveyor {

/// What the engine may know of how a random-access source reads: hints that let it read
/// faster, never needed for correct rows.
struct SourceHints {
  /// The indices a read_many() call wants, or 0 to let the engine size calls by the measured
  /// cost of a row. When set, every call of an epoch holds this many indices or a multiple of
  /// it (the last may hold fewer), and each starts at a multiple of it in the sampler's order:
  /// a source whose rows depend on the block (one that seeds a generator per block) then gives
  /// the same rows whatever the timing, the worker count or the call size.
  std::size_t block = 0;
  /// True when read_many() lays a call's rows out back to back in a buffer of their own: each
  /// column's rows one after the other, in order, contiguous, under one owner that nothing else
  /// holds or writes. The engine then reads a batch directly over the source (projections and
  /// renames aside) a batch per call, when the batch size is a multiple of `block` and at most
  /// 256, and hands such rows on as the batch instead of copying them (it checks the layout, and
  /// copies rows that do not lie so). False for rows that are views of a source's own data
  /// (consecutive slices of one array), which must not be handed on as one.
  bool rows_laid_out = false;
};

/// A source read by index. Every member may be called from several engine threads at once, so
/// an implementation must be thread-safe.
class RandomAccessSource {
 public:
  virtual ~RandomAccessSource() = default;

  /// Number of rows; read() serves any index below it.
  virtual std::size_t size() const = 0;
  /// The row at `index` in the iterator's epoch `epoch` (0 for its first). A source whose rows
  /// do not depend on the epoch ignores it. May block.
  virtual Row read(std::size_t index, std::uint64_t epoch) const = 0;
  /// Rows for a call of consecutive positions of the sampler's order in epoch `epoch`: rows[i]
  /// for indices[i], or errors[i] (left null otherwise) when that row failed; the others are
  /// still read. `rows` and `errors` have the size of `indices`. `stop` is requested when the
  /// pipeline stops and nobody will read the rows: the call may then return early, rows unread.
  /// The engine reads through this member only. The default calls read() for each index,
  /// checking `stop` between rows; a source with a cost per call (another process, a remote
  /// store) overrides it to read the whole call in one go (one that waits on something can
  /// wake on `stop` with a std::stop_callback).
  virtual void read_many(std::span<const std::uint64_t> indices, std::uint64_t epoch, std::span<Row> rows,
                         std::span<std::exception_ptr> errors, std::stop_token stop) const;
  /// How this source reads best (see SourceHints); none by default.
  virtual SourceHints hints() const noexcept { return {}; }
};

/// A source read in order, by one thread at a time.
class IterableSource {
 public:
  virtual ~IterableSource() = default;

  /// The next row of the current pass, or nullopt when the pass is over. May block.
  virtual std::optional<Row> next() = 0;
  /// Starts a new pass; called before every epoch of every pipeline (the first included). By
  /// default nothing: every epoch continues the same stream.
  virtual void reset() {}
  /// Rows in a pass, when known; unknown by default.
  virtual std::optional<std::size_t> size() const { return std::nullopt; }
  /// An independent reader of the same rows, so that each pipeline (and each branch of a zip or
  /// concat) keeps its own position; every pipeline reads a fork. Null (the default) when the
  /// source cannot make one: then its pipelines share its position. Thread-safe.
  virtual std::shared_ptr<IterableSource> fork() const { return nullptr; }
};

/// A source of either kind, as GeneratorDataset takes it.
using AnySource = std::variant<std::shared_ptr<RandomAccessSource>, std::shared_ptr<IterableSource>>;

/// Any type with `size()` and a thread-safe `get(index) -> Row`.
template <class T>
concept RandomAccessType = requires(const T& t, std::size_t i) {
  { t.size() } -> std::convertible_to<std::size_t>;
  { t.get(i) } -> std::convertible_to<Row>;
};

/// Any type with `next() -> std::optional<Row>`; an optional `reset()` restarts it before each
/// epoch (without one, every epoch continues the same stream), an optional `size()` gives the
/// length of a pass. A copyable one is copied for each pipeline, so pipelines never share a
/// position; a move-only one is shared.
template <class T>
concept IterableType = requires(T& t) {
  { t.next() } -> std::convertible_to<std::optional<Row>>;
};

namespace detail {

template <class T>
class RandomAccessAdapter final : public RandomAccessSource {
 public:
  explicit RandomAccessAdapter(T source) : source_(std::move(source)) {}
  std::size_t size() const override { return static_cast<std::size_t>(source_.size()); }
  Row read(std::size_t index, std::uint64_t) const override { return source_.get(index); }

 private:
  T source_;
};

template <class T>
class IterableAdapter final : public IterableSource {
 public:
  explicit IterableAdapter(T source) : source_(std::move(source)) {}
  std::optional<Row> next() override { return source_.next(); }
  void reset() override {
    if constexpr (requires(T& t) { t.reset(); }) source_.reset();
  }
  std::optional<std::size_t> size() const override {
    if constexpr (requires(const T& t) { { t.size() } -> std::convertible_to<std::size_t>; })
      return static_cast<std::size_t>(source_.size());
    else
      return std::nullopt;
  }
  std::shared_ptr<IterableSource> fork() const override {
    if constexpr (std::is_copy_constructible_v<T>)
      return std::make_shared<IterableAdapter>(source_);  // a copy, at the state it was given in
    else
      return nullptr;
  }

 private:
  T source_;
};

}  // namespace detail

/// Adapts a random-access or iterable type (taken by value) to a RandomAccessSource or an
/// IterableSource. A type that is both is treated as random access.
template <class T>
  requires RandomAccessType<T> || IterableType<T>
auto make_source(T source) {
  if constexpr (RandomAccessType<T>)
    return std::shared_ptr<RandomAccessSource>(std::make_shared<detail::RandomAccessAdapter<T>>(std::move(source)));
  else
    return std::shared_ptr<IterableSource>(std::make_shared<detail::IterableAdapter<T>>(std::move(source)));
}

/// A random-access source of `size` rows whose row i is `row(i)`; `row` must be thread-safe.
std::shared_ptr<RandomAccessSource> function_source(std::size_t size, std::function<Row(std::size_t)> row);

}  // namespace conveyor
