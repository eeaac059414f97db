#pragma once
/// \file config.hpp
/// Process-wide defaults, like mindspore.dataset.config: what a pipeline uses where its own
/// options leave a value unset. They are read when an iterator is created, so changing them
/// never affects a running pipeline; Dataset::iterate can also be given a Config of its own.
/// This is conveyor's only process-wide state.

#include <cstddef>
#include <cstdint>

namespace conveyor {

/// What a pipeline does with a sample that fails in a row stage (the source's read(), a map, a
/// filter): MindSpore's error_samples_mode.
enum class ErrorSamplesMode {
  /// The iterator throws the sample's error (the default).
  raise,
  /// The sample is dropped.
  skip,
  /// The sample is replaced by a copy of the last good one before it in the epoch's order (or,
  /// for failures at an epoch's start, the first good one after them); an epoch without any
  /// good sample throws.
  replace,
};

/// The most rows_per_task may be: a task's rows are all held at once, several tasks a stage.
inline constexpr std::size_t kMaxRowsPerTask = 65536;

/// Default values for pipelines.
struct Config {
  /// Seed for shuffles and samplers that were given none (MindSpore's default, 5489).
  std::uint64_t seed = 5489;
  /// Batches (or rows, without a batch stage) prepared ahead of the consumer.
  std::size_t prefetch_size = 8;
  /// Workers per parallel stage (source fetch, map); 0 means the CPUs this process may use.
  std::size_t num_parallel_workers = 0;
  /// Rows handed to a worker in one task, at most kMaxRowsPerTask. 0 sizes tasks from the
  /// measured cost of a row so that each takes about 200 µs (1 to 256 rows): enough to amortise
  /// the graph's per-message cost (about 1 µs) while keeping workers balanced.
  std::size_t rows_per_task = 0;
  /// Failed samples: raised, skipped or replaced. A skipped or replaced one is counted in its
  /// stage's StageStats::errors, and the first of each iterator is written to stderr. Errors
  /// of whole batches (per_batch_map, collation) and of the sampler are always raised.
  ErrorSamplesMode error_samples_mode = ErrorSamplesMode::raise;
};

/// The current defaults. Thread-safe.
Config config();
/// Throws std::invalid_argument for settings no pipeline runs with: a zero prefetch_size or a
/// rows_per_task over kMaxRowsPerTask.
void check(const Config& config);
/// Replaces the defaults. Thread-safe; throws as check() does.
void set_config(const Config& config);

}  // namespace conveyor
