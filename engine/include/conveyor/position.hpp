#pragma once
/// \file position.hpp
/// Position: where a pipeline is, or where a resumed one starts.

#include <array>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

namespace conveyor {

/// What a shuffle buffer holds at a position. A plain value.
struct ShuffleState {
  /// The source positions of its rows (in the epoch's sampler order, or rows of an iterable's
  /// pass, from 0), in buffer order: a resumed pipeline reads them again, by index for a
  /// random-access source (in the whole chunks it read them in, for a SourceHints::block).
  std::vector<std::uint64_t> rows;
  /// Its generator's state (see detail::Rng::state).
  std::array<std::uint64_t, 4> rng{};

  bool operator==(const ShuffleState& other) const = default;
};

/// Where a pipeline's stages stand after an output in the middle of an epoch: what a resumed
/// pipeline restores so that it needs to read neither the rows before the position nor the
/// outputs before it. A plain value.
struct Cut {
  /// Rows of the source's current pass read through the output (its sampler positions for a
  /// random-access source): the resumed source starts after them.
  std::uint64_t rows = 0;
  /// One count per take, batch, shuffle buffer and repeat stage, upstream first: the rows (or
  /// batches) each emitted in its current pass through the output, or, for a repeat, the
  /// passes it completed.
  std::vector<std::uint64_t> counts;
  /// The shuffle buffer's contents, when the pipeline has one.
  std::optional<ShuffleState> shuffle;

  bool operator==(const Cut& other) const = default;
};

/// A point in a pipeline's output: epoch `epoch` (from 0), after its first `outputs` outputs
/// (rows, or batches after a batch stage), with the stages' state there when known. A plain
/// value; copy freely.
///
/// `Iterator::position()` says where a reader is; `Dataset::iterate(num_epochs, position)` starts
/// a pipeline there. Since samplers, shuffles and random ops are functions of (seed, epoch,
/// index), a pipeline started at a position gives exactly the outputs an uninterrupted one gives
/// after it.
struct Position {
  Position() = default;
  Position(std::uint64_t at_epoch, std::uint64_t after_outputs, std::optional<Cut> state = std::nullopt)
      : epoch(at_epoch), outputs(after_outputs), cut(std::move(state)) {}

  std::uint64_t epoch = 0;
  std::uint64_t outputs = 0;
  /// Set by Iterator::position() in the middle of an epoch (outputs > 0) for pipelines that
  /// record it (see Dataset::iterate). Unset, a mid-epoch position is located from `outputs`
  /// alone, which only pipelines of map, project, rename and batch stages allow.
  std::optional<Cut> cut;

  bool operator==(const Position& other) const = default;
};

}  // namespace conveyor
