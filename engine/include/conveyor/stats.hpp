#pragma once
/// \file stats.hpp
/// Per-stage counters of a running pipeline, to find its bottleneck.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace conveyor {

/// What one stage did so far. Times are summed over the stage's workers, so a stage's share of
/// the wall clock is busy / workers; the slowest stage has the largest such share, and its
/// neighbours spend time waiting on it.
struct StageStats {
  /// "source", "map[0]", "batch", "output", ...
  std::string name;
  /// Workers that run the stage at once (1 for serial stages).
  std::size_t workers = 1;
  /// Rows (or batches, for batch-level stages) the stage produced.
  std::uint64_t rows = 0;
  /// Samples that failed in this stage and were skipped or replaced (Config::error_samples_mode).
  std::uint64_t errors = 0;
  /// Time spent doing the stage's own work.
  std::chrono::nanoseconds busy{0};
  /// Time spent waiting for input from upstream.
  std::chrono::nanoseconds wait_input{0};
  /// Time spent waiting for room downstream.
  std::chrono::nanoseconds wait_output{0};
};

}  // namespace conveyor
