#pragma once
/// \file op.hpp
/// The op interface: what map() applies to a row and filter() asks of one. An op knows rows and
/// the context it meets them in, nothing of the pipeline around it.

#include <cstdint>
#include <functional>

#include "conveyor/row.hpp"

namespace conveyor {

/// A per-row operation of map(): takes the input columns, returns the output columns. Called
/// from several worker threads at once, so it must be thread-safe.
using RowOp = std::function<Row(Row)>;
/// Where one op meets one row. An op that draws random numbers seeds its generator from all four
/// (detail::mix in random.hpp): the same seed then gives the same result whatever the worker
/// count or scheduling, and each epoch gives new draws.
struct OpContext {
  /// The configured seed when the iterator started.
  std::uint64_t seed = 0;
  /// The iterator's epoch, from 0.
  std::uint64_t epoch = 0;
  /// The row's source index.
  std::uint64_t sample = 0;
  /// The op's position among all map ops of the pipeline.
  std::uint64_t op = 0;
};
/// A map op that sees its OpContext; thread-safe like RowOp.
using ContextOp = std::function<Row(Row, const OpContext&)>;
/// A filter predicate over the input columns; must be thread-safe.
using Predicate = std::function<bool(const Row&)>;

}  // namespace conveyor
