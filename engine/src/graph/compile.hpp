#pragma once
// Turns a Dataset's description into the streams that run it.

#include <memory>
#include <vector>

#include <oneapi/tbb/task_arena.h>

#include "conveyor/config.hpp"
#include "graph/node.hpp"
#include "resume/resume.hpp"
#include "stages/parallel.hpp"

namespace conveyor::detail {

/// The sampler GeneratorDataset's options ask for over a random-access source of `size` rows.
/// Throws std::invalid_argument for options that exclude each other.
std::shared_ptr<const Sampler> make_sampler(const GeneratorOptions& options, std::uint64_t default_seed);

/// Builds streams for a description. Row-wise stages (fetch, map, filter, and project after
/// them) join the parallel stream below them, or start one; everything else is serial.
class Compiler {
 public:
  /// `arena` must outlive the streams and be initialised with max_workers() before they plan.
  /// The pipeline starts as `start` says (see resume/resume.hpp).
  Compiler(tbb::task_arena& arena, const Config& config, Start start = {})
      : arena_(arena), config_(config), start_(std::move(start)) {}

  std::unique_ptr<Stream> compile(const Node& node) { return compile(node, Above{.first_epoch = start_.epoch}); }

  /// Counters of every stage compiled so far, upstream first.
  const std::vector<std::shared_ptr<StageCounters>>& counters() const noexcept { return counters_; }
  /// The largest worker count of any parallel stage.
  std::size_t max_workers() const noexcept { return max_workers_; }

 private:
  /// What the stages above a node ask of the stream compiled for it.
  struct Above {
    /// The first epoch of the stream (a repeat's child counts its passes).
    std::uint64_t first_epoch = 0;
    /// A batch(drop_remainder) of this many rows takes the stream's rows one for one (errors
    /// raised): a random-access source may end its epochs at the last whole batch.
    std::size_t whole_batches = 0;
    /// A batch of this many rows takes the source's rows as they are read (projections and
    /// renames aside) and may be a view of them: a source that lays its rows out itself is read
    /// a batch per call.
    std::size_t batch_rows = 0;
  };

  std::unique_ptr<Stream> compile(const Node& node, const Above& above);
  std::unique_ptr<Stream> source(const Node& node, const SourceOp& op, const Above& above);
  std::unique_ptr<Stream> batch(const Node& node, const BatchOp& op, const Above& above);
  std::shared_ptr<StageCounters> counter(std::string name, std::size_t workers = 1);
  /// The workers a stage asking for `requested` gets.
  std::size_t worker_count(std::optional<std::size_t> requested) const;
  /// worker_count(), noted in max_workers().
  std::size_t workers(std::optional<std::size_t> requested);
  void add_row_stage(std::unique_ptr<Stream>& stream, RowStage stage, std::uint64_t first_epoch);
  RowStage map_stage(const MapOp& op);
  /// The stamp word of stateful `node`, if it has one (stages past kStampWords have none).
  static std::optional<std::size_t> slot(const Node& node) {
    const std::size_t slot = stamp_slot(node);
    return slot < kStampWords ? std::optional(slot) : std::nullopt;
  }
  /// The count stateful `node` resumes from in `first_epoch`, if any.
  std::optional<ResumeCount> resume_count(const Node& node, std::uint64_t first_epoch) const;
  /// What stateful `node` keeps for resuming: its stamp word and resume_count().
  StageResume stage_resume(const Node& node, std::uint64_t first_epoch) const {
    return {slot(node), resume_count(node, first_epoch)};
  }

  tbb::task_arena& arena_;
  Config config_;
  Start start_;
  std::vector<std::shared_ptr<StageCounters>> counters_;
  std::size_t max_workers_ = 1;
  std::size_t maps_ = 0;
  std::uint64_t ops_ = 0;
  std::size_t filters_ = 0;
};

}  // namespace conveyor::detail
