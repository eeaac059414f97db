#pragma once
// Execution: one running pipeline. Its driver thread pulls finished rows or batches from the
// compiled streams and pushes them into a bounded output queue, which Iterator::next() pops.

#include <memory>
#include <optional>
#include <thread>

#include <oneapi/tbb/task_arena.h>

#include "conveyor/config.hpp"
#include "conveyor/position.hpp"
#include "conveyor/row.hpp"
#include "conveyor/stats.hpp"
#include "graph/node.hpp"
#include "resume/resume.hpp"
#include "runtime/channel.hpp"
#include "runtime/worker_limit.hpp"
#include "stages/stream.hpp"

namespace conveyor::detail {

class Execution {
 public:
  /// Compiles `root` and starts it at `start` for the epochs before `num_epochs` (< 0: without
  /// end), with the settings of `config`.
  Execution(const Node& root, std::int64_t num_epochs, Position start, const Config& config);
  /// Cancels and joins everything.
  ~Execution();

  /// The next output; with `stop_at_epoch_end`, nullopt also at the end of each epoch.
  std::optional<Batch> next(bool stop_at_epoch_end);
  /// Waits up to `timeout` for an output; the time counts as the output stage's wait for input,
  /// as next()'s does (a reader that waits in slices, as Python's does, waits here).
  bool wait(std::chrono::milliseconds timeout) {
    if (finished_) return true;
    auto start = Clock::now();
    bool ready = output_.wait_for(timeout);
    output_counters_->wait_input_ns += elapsed_ns(start);
    return ready;
  }
  std::uint64_t epoch() const noexcept { return epoch_; }
  /// Where the reader is, with the stages' state after the last output when the pipeline
  /// records it. Reader's thread.
  Position position();
  bool done() const noexcept { return finished_; }
  /// Stops the pipeline: next() returns nullopt from then on. Thread-safe.
  void cancel() noexcept;
  std::vector<StageStats> stats() const;
  const std::vector<std::string>& column_names() const noexcept { return *names_; }

 private:
  // A row or batch, the end of an epoch (end_of_epoch), or a failure (error).
  struct Output {
    Row row;
    std::uint64_t epoch = 0;
    std::exception_ptr error;
    bool end_of_epoch = false;
    Stamp stamp{};
  };
  void drive();

  Config config_;
  std::shared_ptr<const std::vector<std::string>> names_;
  std::optional<std::uint64_t> epochs_;
  std::optional<WorkerLease> workers_;
  tbb::task_arena arena_;
  std::vector<std::shared_ptr<StageCounters>> counters_;
  std::shared_ptr<StageCounters> output_counters_;
  std::unique_ptr<Stream> top_;
  Channel<Output> output_;
  std::thread driver_;
  bool finished_ = false;
  std::uint64_t epoch_ = 0;
  const Position start_;
  Position position_;
  // The stamp of the last output read in position_'s epoch, if any (else position_ is the start's).
  std::optional<Stamp> stamp_;
  std::optional<CutRecorder> recorder_;
};

}  // namespace conveyor::detail
