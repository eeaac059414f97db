#pragma once
// The description a Dataset holds: a tree of nodes, one per method the user chained, each with
// its output column names resolved (and checked) when it was built.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "conveyor/dataset_options.hpp"
#include "conveyor/op.hpp"
#include "conveyor/source.hpp"

namespace conveyor::detail {

/// Exactly one of `random_access` and `iterable` is set.
struct SourceOp {
  std::shared_ptr<RandomAccessSource> random_access;
  std::shared_ptr<IterableSource> iterable;
  GeneratorOptions options;
};
/// Output column j is input column `from[j]` (from_output false) or op output `from[j]`.
struct ColumnSource {
  bool from_output;
  std::size_t index;
};
struct MapOp {
  std::vector<ContextOp> ops;
  std::vector<std::size_t> inputs;
  std::size_t output_count;
  std::vector<ColumnSource> layout;
  std::optional<std::size_t> workers;
};
struct FilterOp {
  Predicate predicate;
  std::vector<std::size_t> inputs;
  std::optional<std::size_t> workers;
};
struct ProjectOp {
  std::vector<std::size_t> columns;
};
struct RenameOp {};
struct ShuffleOp {
  std::size_t buffer_size;
};
/// Padding of column `column`.
struct ColumnPad {
  std::size_t column;
  PadInfo pad;
};
struct BatchOp {
  std::size_t batch_size;
  bool drop_remainder;
  std::function<std::vector<Row>(std::vector<Row>, const BatchInfo&)> per_batch_map;
  std::vector<ColumnPad> pads;
};
struct RepeatOp {
  std::int64_t count;
};
struct TakeOp {
  std::size_t count;
};
struct SkipOp {
  std::size_t count;
};
struct ZipOp {};
struct ConcatOp {};

using Op = std::variant<SourceOp, MapOp, FilterOp, ProjectOp, RenameOp, ShuffleOp, BatchOp, RepeatOp, TakeOp,
                        SkipOp, ZipOp, ConcatOp>;

struct Node {
  Op op;
  std::vector<std::shared_ptr<const Node>> children;
  std::vector<std::string> columns;
};

}  // namespace conveyor::detail
