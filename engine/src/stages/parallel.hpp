#pragma once
// ParallelStream: row-wise stages run by a oneTBB flow graph, in order.
//
//   feeder thread: head.next() in chunks ─▶ stage 0 (N workers) ─▶ ... ─▶ sequencer ─▶ done queue
//                  (waits for a credit per chunk)                            next() pops, returns credit
//
// Chunks carry several rows so the graph's per-message cost is amortised. The credits
// bound the chunks in flight (backpressure); the sequencer restores the head's order whatever
// the worker counts. The feeder runs ahead into later epochs, so there is no bubble at an
// epoch's end. A failing row travels on in its chunk as an error and is thrown by next() in
// its place.

#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <stop_token>
#include <thread>
#include <vector>

#include <oneapi/tbb/flow_graph.h>
#include <oneapi/tbb/task_arena.h>

#include "runtime/channel.hpp"
#include "runtime/error_policy.hpp"
#include "stages/stream.hpp"

namespace conveyor::detail {

/// A row-wise stage: `apply` transforms one sample of an epoch in place (throws on failure,
/// returns false to drop the sample); or, when set instead, `apply_many` transforms the live
/// samples of a chunk at once, setting errors[i] for a sample that failed (and may return early,
/// samples untouched, once `stop` is requested: the pipeline is stopping). Must be thread-safe:
/// `counters->workers` threads call it at once.
struct RowStage {
  std::shared_ptr<StageCounters> counters;
  std::function<bool(Sample&, std::uint64_t epoch)> apply{};
  std::function<void(std::span<Sample* const>, std::uint64_t epoch, std::span<std::exception_ptr> errors,
                     std::stop_token stop)>
      apply_many{};
};

class ParallelStream final : public Stream {
 public:
  /// Reads `head` on its own thread; graphs run in `arena`, which must outlive this stream and be
  /// initialised before plan(). At most 2 × the arena's concurrency + 2 chunks are in flight, of
  /// `rows_per_task` rows each (0: sized from the measured cost of a row, at most kMaxChunkRows).
  /// A sample that fails in a stage is raised, skipped or replaced as `errors` says. The feeder
  /// starts at epoch `first_epoch` (a resumed pipeline's first); the first `discard` rows it
  /// processes are dropped (a resumed chunk is read whole, so that a source seeding per chunk
  /// gives the same rows). `in_flight`, when set, bounds the chunks in flight instead (chunks
  /// of a whole batch each).
  ParallelStream(std::unique_ptr<Stream> head, tbb::task_arena& arena, std::size_t rows_per_task,
                 ErrorSamplesMode errors, std::uint64_t first_epoch = 0, std::uint64_t discard = 0,
                 std::size_t in_flight = 0);

  static constexpr std::size_t kMaxChunkRows = 256;
  ~ParallelStream() override;

  /// Appends a stage; only before plan().
  void add_stage(RowStage stage);

  void plan(std::optional<std::uint64_t> epochs) override;
  void begin_epoch(std::uint64_t epoch) override;
  std::optional<Sample> next() override;
  void cancel() noexcept override;

 private:
  struct Chunk;
  using ChunkPtr = std::shared_ptr<Chunk>;
  using StageNode = tbb::flow::function_node<ChunkPtr, ChunkPtr>;

  void feed(std::optional<std::uint64_t> epochs);
  void run_stage(const RowStage& stage, Chunk& chunk) const;
  std::size_t chunk_rows() const;

  std::unique_ptr<Stream> head_;
  tbb::task_arena& arena_;
  const std::size_t rows_per_task_;
  const std::size_t in_flight_;
  std::vector<RowStage> stages_;

  std::unique_ptr<tbb::flow::graph> graph_;
  std::vector<std::unique_ptr<StageNode>> nodes_;
  std::unique_ptr<tbb::flow::sequencer_node<ChunkPtr>> sequencer_;
  std::unique_ptr<tbb::flow::function_node<ChunkPtr>> sink_;

  Semaphore credits_;
  Channel<ChunkPtr> done_;
  // Requested by cancel(): stages drop their work, and one that waits wakes (RowStage::apply_many).
  std::stop_source stop_;
  // The epoch the consumer is in: the feeder and the stages drop work on earlier ones.
  std::atomic<std::uint64_t> wanted_epoch_{0};
  std::thread feeder_;

  // Consumer side, touched only by the thread calling next().
  ChunkPtr current_;
  ErrorPolicy policy_;
  std::uint64_t discard_;  // consumer side
  std::uint64_t discard_epoch_;  // the epoch whose rows discard_ counts
  std::size_t position_ = 0;
  std::uint64_t epoch_ = 0;
  bool epoch_over_ = false;
};

}  // namespace conveyor::detail
