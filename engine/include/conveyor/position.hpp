#pragma once
/// \file position.hpp
/// Position: where a pipeline is, or where a resumed one starts.

#include <cstdint>

namespace conveyor {

/// A point in a pipeline's output: epoch `epoch` (from 0), after its first `outputs` outputs
/// (rows, or batches after a batch stage). A plain value; copy freely.
///
/// `Iterator::position()` says where a reader is; `Dataset::iterate(num_epochs, position)` starts
/// a pipeline there. Since samplers, shuffles and random ops are functions of (seed, epoch,
/// index), a pipeline started at a position gives exactly the outputs an uninterrupted one gives
/// after it.
struct Position {
  std::uint64_t epoch = 0;
  std::uint64_t outputs = 0;

  bool operator==(const Position& other) const = default;
};

}  // namespace conveyor
