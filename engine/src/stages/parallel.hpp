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
// its place. When a batch takes the rows one for one, the feeder gives each row its Place in
// that batch, and the last stage writes the row there (see BatchAssembly).

#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <stop_token>
#include <thread>
#include <vector>

#include <oneapi/tbb/flow_graph.h>
#include <oneapi/tbb/task_arena.h>

#include "memory/buffer_pool.hpp"
#include "runtime/channel.hpp"
#include "runtime/error_policy.hpp"
#include "stages/batch_assembly.hpp"
#include "stages/stream.hpp"

namespace conveyor::detail {

/// Where a row goes in the batch above: position `position` of `batch`. A stage given a Place
/// for a row makes the row there (BatchAssembly::reserve) or copies it there once made
/// (BatchAssembly::place); without a batch, the row is not placed.
struct Place {
  BatchAssembly* batch = nullptr;
  std::size_t position = 0;
};

/// A row-wise stage: `apply` transforms one sample of an epoch in place (throws on failure,
/// returns false to drop the sample); or, when set instead, `apply_many` transforms the live
/// samples of a chunk at once, setting errors[i] for a sample that failed (and may return early,
/// samples untouched, once `stop` is requested: the pipeline is stopping). Each sample comes with
/// its Place, which only the last stage of a stream that places rows is given. Must be
/// thread-safe: `counters->workers` threads call it at once.
struct RowStage {
  std::shared_ptr<StageCounters> counters;
  /// True when the stage writes a placed row's last bytes straight into its Place (a map whose
  /// last op writes into memory it is given), rather than copying the row there.
  bool writes_in_place = false;
  std::function<bool(Sample&, std::uint64_t epoch, Place place)> apply{};
  std::function<void(std::span<Sample* const>, std::uint64_t epoch, std::span<const Place> places,
                     std::span<std::exception_ptr> errors, std::stop_token stop)>
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
  /// Placed rows go a whole batch per chunk while a batch takes at most this many chunks' target
  /// time (see chunk_rows()).
  static constexpr std::size_t kWholeBatchTasks = 10;
  ~ParallelStream() override;

  /// Appends a stage; only before plan().
  void add_stage(RowStage stage);
  /// Has the last stage place each row of an epoch in the batch of `batch_rows` rows of
  /// `columns` columns it belongs to (counting from the epoch's first row), in buffers from
  /// `pool`: for a batch stage that takes this stream's rows one for one (no stage drops rows).
  /// Chunks then hold a batch (at most kMaxChunkRows rows; unless their size is fixed), and few
  /// batches are in flight: a worker writes its batch alone, in order. Only when the last
  /// stage has several workers or writes its rows in place (a copy by a lone worker would run
  /// after it, not beside it as the batch stage's does): returns whether it does. Only before
  /// plan(), with at least one stage.
  bool place_rows(std::shared_ptr<BufferPool> pool, std::size_t batch_rows, std::size_t columns);

  void plan(std::optional<std::uint64_t> epochs) override;
  void begin_epoch(std::uint64_t epoch) override;
  std::optional<Sample> next() override;
  void cancel() noexcept override;

 private:
  struct Chunk;
  using ChunkPtr = std::shared_ptr<Chunk>;
  using StageNode = tbb::flow::function_node<ChunkPtr, ChunkPtr>;

  void feed(std::optional<std::uint64_t> epochs);
  /// Gives the rows of `chunk` their batches, the first being the epoch's row `placed`; counts
  /// them in `placed`. On the feeder's thread.
  void assign_batches(Chunk& chunk, std::int64_t& placed);
  void run_stage(const RowStage& stage, Chunk& chunk, bool last) const;
  /// Rows for the next chunk: measured_chunk_rows(); when rows are placed and the chunks' size is
  /// not fixed, a whole batch for cheap rows (see kWholeBatchTasks), at most a batch otherwise.
  std::size_t chunk_rows() const;
  /// `rows_per_task`, or rows for ~200 µs of measured work (single rows until warmed_up()).
  std::size_t measured_chunk_rows() const;
  /// Chunks in flight unless `in_flight` says otherwise: 2 per thread of the arena and 2 more.
  std::size_t usual_credits() const;
  /// Whether the first stage has counted enough rows to know their cost.
  bool warmed_up() const;
  static constexpr std::uint64_t kWarmUpRows = 16;

  std::unique_ptr<Stream> head_;
  tbb::task_arena& arena_;
  const std::size_t rows_per_task_;
  std::size_t in_flight_;
  std::vector<RowStage> stages_;
  // Placing rows: the batches' pool, rows and columns (no pool: rows are not placed).
  std::shared_ptr<BufferPool> batch_pool_;
  std::size_t batch_rows_ = 0;
  std::size_t batch_columns_ = 0;
  // Feeder side: the batch the last chunk's rows ended in, and its number in the epoch.
  std::shared_ptr<BatchAssembly> open_batch_;
  std::uint64_t open_number_ = 0;
  bool all_credits_ = false;  // the credits held back for whole-batch chunks were given out

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
  const std::uint64_t first_discard_;  // the feeder's copy of discard_'s start
  std::uint64_t discard_;  // consumer side
  const std::uint64_t discard_epoch_;  // the epoch whose rows discard_ counts
  std::size_t position_ = 0;
  std::uint64_t epoch_ = 0;
  bool epoch_over_ = false;
};

}  // namespace conveyor::detail
