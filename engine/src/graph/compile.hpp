#pragma once
// Turns a Dataset's description into the streams that run it.

#include <memory>
#include <vector>

#include <oneapi/tbb/task_arena.h>

#include "conveyor/config.hpp"
#include "graph/node.hpp"
#include "resume/resume.hpp"
#include "stages/batch.hpp"
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
      : arena_(arena), config_(config), start_(std::move(start)), first_epoch_(start_.epoch) {}

  std::unique_ptr<Stream> compile(const Node& node);

  /// Counters of every stage compiled so far, upstream first.
  const std::vector<std::shared_ptr<StageCounters>>& counters() const noexcept { return counters_; }
  /// The largest worker count of any parallel stage.
  std::size_t max_workers() const noexcept { return max_workers_; }

 private:
  std::shared_ptr<StageCounters> counter(std::string name, std::size_t workers = 1);
  /// The workers a stage asking for `requested` gets.
  std::size_t worker_count(std::optional<std::size_t> requested) const;
  /// worker_count(), noted in max_workers().
  std::size_t workers(std::optional<std::size_t> requested);
  /// The source below batch node `batch` whose chunks are laid out as its batches (errors not
  /// replaced): one directly below it (projections and renames aside) that lays them out itself
  /// (SourceHints::rows_laid_out), or whose fetch stage has several workers to copy them and every
  /// column of which the batch collates as read. Null when there is none. With one worker, the
  /// batch stage's copy runs beside the fetch, not after it.
  const Node* in_place_source(const Node& batch) const;
  void add_row_stage(std::unique_ptr<Stream>& stream, RowStage stage);
  RowStage map_stage(const Node& node, const MapOp& op);
  /// The stamp slot of stateful `node`, and the count it resumes from, if any.
  std::size_t slot(const Node& node) const { return std::min(stamp_slot(node), kStampWords); }
  std::optional<ResumeCount> resume_count(const Node& node) const;


  tbb::task_arena& arena_;
  Config config_;
  Start start_;
  /// The first epoch of the stages being compiled (a repeat's child counts its passes).
  std::uint64_t first_epoch_;
  std::vector<std::shared_ptr<StageCounters>> counters_;
  std::size_t max_workers_ = 1;
  std::size_t maps_ = 0;
  std::uint64_t ops_ = 0;
  std::size_t filters_ = 0;
  /// Map nodes whose last op (a SlotOp) the batch stage above them runs, from when that batch
  /// is compiled until the map is; and the writer the last such map handed to its batch stage.
  std::vector<const Node*> slot_maps_;
  std::optional<SlotWriter> slot_writer_;
  /// Source nodes whose epochs a batch(drop_remainder) above them cuts to whole batches (see
  /// SamplerStream), with the batch size, from when that batch is compiled until the source is.
  std::vector<std::pair<const Node*, std::size_t>> cut_sources_;
  /// Source nodes whose chunks a batch above them takes in place (see in_place_source), with the
  /// batch size, from when that batch is compiled until the source is.
  std::vector<std::pair<const Node*, std::size_t>> in_place_sources_;
  /// What the batch above the source just compiled may take in place, until it is compiled.
  std::optional<TakenInPlace> taken_in_place_;
};

}  // namespace conveyor::detail
