#pragma once
// BatchStream: collates batch_size rows into one pooled, contiguous tensor per column.

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <oneapi/tbb/task_arena.h>

#include "graph/node.hpp"
#include "memory/buffer_pool.hpp"
#include "stages/stream.hpp"

namespace conveyor::detail {

/// Pulls up to batch_size rows and makes one tensor per column of them. A short last batch of an
/// epoch is emitted unless drop_remainder. Rows whose shapes or dtypes differ in an unpadded
/// column are an Error naming the column, the batch and both shapes. An unpadded column whose
/// rows already lie back to back, in order, under one owner that nothing else can see is that
/// memory: a buffer of `pool`, where the stages below placed them (see BatchAssembly), or, with
/// `laid_out_source`, the buffer of a source that lays its rows out itself
/// (SourceHints::rows_laid_out) directly below. Any other column is copied, each row once, into
/// a buffer of `pool`. A batch carries its last row's stamp, with its number in the epoch + 1 in
/// its own word (see StageResume); resumed, the stage numbers batches from the resumed count.
class BatchStream final : public Stream {
 public:
  /// Large batches are copied in parallel in `arena`, which must outlive the stream.
  BatchStream(std::unique_ptr<Stream> child, BatchOp op, std::vector<std::string> columns,
              std::shared_ptr<BufferPool> pool, tbb::task_arena& arena, std::shared_ptr<StageCounters> counters,
              bool laid_out_source = false, StageResume resume = {});
  void plan(std::optional<std::uint64_t> epochs) override { child_->plan(epochs); }
  void begin_epoch(std::uint64_t epoch) override;
  std::optional<Sample> next() override;
  void cancel() noexcept override { child_->cancel(); }

 private:
  std::vector<Sample> map_batch(std::vector<Sample> rows, std::uint64_t batch) const;
  Tensor collate(const std::vector<Sample>& rows, std::size_t column) const;
  /// The batch of `rows`' `column` (of one dtype and shape) when its rows already lie as the
  /// batch (see the class comment): a view of their memory. Nullopt otherwise.
  std::optional<Tensor> lying_in_place(const std::vector<Sample>& rows, std::size_t column) const;
  /// A pooled, contiguous batch of `rows` rows of `row_shape`; throws a std::bad_alloc saying
  /// what it needed when its size overflows, is more than the memory available (cgroup limits
  /// included) or is refused.
  Tensor allocate(DType dtype, const Shape& row_shape, std::size_t rows) const;
  /// Runs fill(i) for every row i, on the arena's workers when the batch is `nbytes` >= 1 MiB.
  void for_each_row(std::size_t rows, std::size_t nbytes, const std::function<void(std::size_t)>& fill) const;

  static constexpr std::size_t kParallelCopyBytes = 1 << 20;
  /// New batch buffers of this size or more are checked against the memory available.
  static constexpr std::size_t kCheckedBytes = 64 << 20;

  std::unique_ptr<Stream> child_;
  tbb::task_arena& arena_;
  BatchOp op_;
  std::vector<std::string> columns_;
  std::shared_ptr<BufferPool> pool_;
  std::shared_ptr<StageCounters> counters_;
  bool laid_out_source_;
  StageResume resume_;
  std::uint64_t epoch_ = 0;
  std::uint64_t batch_number_ = 0;
  bool epoch_over_ = false;
};

}  // namespace conveyor::detail
