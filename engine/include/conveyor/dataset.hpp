#pragma once
/// \file dataset.hpp
/// Dataset: an immutable description of a pipeline (source → shuffle → map → batch → repeat ...).
/// Each method returns a new Dataset and leaves this one as it was; nothing runs until
/// `iterate()`. Datasets are cheap to copy (they share their description) and safe to use from
/// several threads.
///
/// \code
///   auto ds = conveyor::GeneratorDataset(Squares{}, {"index", "square"}, {.shuffle = true, .seed = 7})
///                 .map([](conveyor::Row row) { return row; }, {"square"})
///                 .batch(64, /*drop_remainder=*/true);
///   for (const conveyor::Batch& b : ds.iterate(/*num_epochs=*/2)) use(b["square"]);
/// \endcode

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "conveyor/config.hpp"
#include "conveyor/dataset_options.hpp"
#include "conveyor/iterator.hpp"
#include "conveyor/op.hpp"
#include "conveyor/position.hpp"
#include "conveyor/row.hpp"
#include "conveyor/source.hpp"

namespace conveyor {

namespace detail {
struct Node;
}

/// A pipeline description. See the file comment.
class Dataset {
 public:
  explicit Dataset(std::shared_ptr<const detail::Node> node);

  /// A streaming shuffle: keeps `buffer_size` rows and emits a random one of them each time,
  /// seeded by (config seed, epoch). Throws std::invalid_argument when buffer_size < 2.
  Dataset shuffle(std::size_t buffer_size) const;
  /// Applies `ops` in order to `input_columns` (default: the first column). Their output replaces
  /// the input columns, at the position of the first one, under `output_columns` (default: the
  /// input names). Runs on `num_parallel_workers` threads; order is kept.
  Dataset map(std::vector<ContextOp> ops, std::vector<std::string> input_columns = {},
              std::vector<std::string> output_columns = {},
              std::optional<std::size_t> num_parallel_workers = std::nullopt) const;
  /// map() with ops that need no context.
  Dataset map(std::vector<RowOp> ops, std::vector<std::string> input_columns = {},
              std::vector<std::string> output_columns = {},
              std::optional<std::size_t> num_parallel_workers = std::nullopt) const;
  /// map() with one op.
  Dataset map(RowOp op, std::vector<std::string> input_columns = {}, std::vector<std::string> output_columns = {},
              std::optional<std::size_t> num_parallel_workers = std::nullopt) const;
  /// Keeps the rows for which `predicate(input_columns)` (default: all columns) is true.
  Dataset filter(Predicate predicate, std::vector<std::string> input_columns = {},
                 std::optional<std::size_t> num_parallel_workers = std::nullopt) const;
  /// Stacks `batch_size` rows into one tensor per column. At the end of an epoch a short batch is
  /// emitted, or dropped when `drop_remainder`.
  Dataset batch(std::size_t batch_size, bool drop_remainder = false, BatchOptions options = {}) const;
  /// Runs the pipeline above `count` times per epoch (-1: forever).
  Dataset repeat(std::int64_t count = -1) const;
  /// The first `count` rows of each epoch.
  Dataset take(std::size_t count) const;
  /// Each epoch without its first `count` rows.
  Dataset skip(std::size_t count) const;
  /// Keeps `columns`, in that order.
  Dataset project(std::vector<std::string> columns) const;
  /// Renames columns `from[i]` to `to[i]`.
  Dataset rename(std::vector<std::string> from, std::vector<std::string> to) const;
  /// Rows side by side: the columns of this dataset, then of each other one (names must be
  /// unique); ends with the shortest.
  Dataset zip(std::vector<Dataset> others) const;
  /// This dataset's rows, then each other one's (same column names).
  Dataset concat(std::vector<Dataset> others) const;

  /// Output columns, in order.
  const std::vector<std::string>& column_names() const;
  /// Rows (or batches) per epoch, when known without running the pipeline; unset after a filter,
  /// over an iterable source of unknown length, and when endless().
  std::optional<std::size_t> get_dataset_size() const;
  /// True when an epoch never ends (a repeat forever over rows that are there).
  bool endless() const;
  /// Shapes of the first output (runs the pipeline for one output).
  std::vector<Shape> output_shapes() const;
  /// Dtypes of the first output (runs the pipeline for one output).
  std::vector<DType> output_types() const;

  /// Starts the pipeline for `num_epochs` epochs (-1: until the iterator is destroyed). The
  /// returned iterator owns the running pipeline. Throws std::invalid_argument for options that
  /// cannot work together.
  Iterator iterate(std::int64_t num_epochs = 1) const;
  /// Starts the pipeline at `start` (see position.hpp): its first output is the one an
  /// uninterrupted run gives after `start.outputs` outputs of epoch `start.epoch`, and epochs
  /// are numbered as in that run (`num_epochs` counts from epoch 0; a start at or after the last
  /// epoch gives no output). A random-access source jumps straight to the position's row; an
  /// iterable one is read from its start and the rows before the position dropped.
  ///
  /// A mid-epoch position from Iterator::position() carries its stages' state (a Cut): then
  /// filters, take, skip, repeat, per_batch_map and one shuffle buffer are resumed too, the
  /// buffer's rows read again (by index from a random-access source, each in the whole chunk of
  /// the sampler's order it was read in when the source hints a SourceHints::block; an iterable
  /// one is read from its start up to the position, keeping them). Pipelines that record no
  /// Cut, and so cannot resume mid-epoch: zip or concat; a shuffle buffer over anything but
  /// map, project and rename stages and a source (not over a filter, another shuffle buffer, a
  /// batch, take, skip or repeat); more than 4 take, batch, shuffle and repeat stages. A
  /// mid-epoch position without a Cut is located from its outputs, which only map, project,
  /// rename and batch stages allow. Throws std::invalid_argument naming the stage that stands in
  /// the way, or when the Cut does not fit the pipeline.
  Iterator iterate(std::int64_t num_epochs, Position start) const;
  /// iterate() with the settings of `config` in place of conveyor::config() (a pipeline of its
  /// own prefetch depth, say). Throws as check(config) does.
  Iterator iterate(std::int64_t num_epochs, Position start, const Config& config) const;
  /// A text naming the pipeline's stages and their parameters, equal for pipelines built the
  /// same way: lets a saved Position be checked against the pipeline it is loaded into. Python
  /// functions and native op arguments are not part of it.
  std::string signature() const;

  /// The description (for bindings and tests).
  const std::shared_ptr<const detail::Node>& node() const noexcept { return node_; }

 private:
  std::shared_ptr<const detail::Node> node_;
};

/// A dataset over `source` (of either kind), whose rows have `column_names`. Throws
/// std::invalid_argument for a null source, no column names, or options that exclude each other.
Dataset GeneratorDataset(AnySource source, std::vector<std::string> column_names, GeneratorOptions options = {});

/// A dataset over any random-access or iterable type (see source.hpp), taken by value.
template <class T>
  requires RandomAccessType<T> || IterableType<T>
Dataset GeneratorDataset(T source, std::vector<std::string> column_names, GeneratorOptions options = {}) {
  return GeneratorDataset(make_source(std::move(source)), std::move(column_names), std::move(options));
}

}  // namespace conveyor
