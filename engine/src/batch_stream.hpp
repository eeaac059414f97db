#pragma once
// BatchStream: collates batch_size rows into one pooled, contiguous tensor per column.

#include <memory>

#include <oneapi/tbb/task_arena.h>

#include "buffer_pool.hpp"
#include "plan.hpp"
#include "stream.hpp"

namespace conveyor::detail {

/// Pulls up to batch_size rows and copies each straight into its slot of the batch buffer (one
/// copy per row). A short last batch of an epoch is emitted unless drop_remainder. Rows whose
/// shapes or dtypes differ in an unpadded column are an Error naming the column, the batch and
/// both shapes.
class BatchStream final : public Stream {
 public:
  /// Large batches are copied in parallel in `arena`, which must outlive the stream.
  BatchStream(std::unique_ptr<Stream> child, BatchOp op, std::vector<std::string> columns,
              std::size_t pooled_batches, tbb::task_arena& arena, std::shared_ptr<StageCounters> counters);
  void plan(std::optional<std::uint64_t> epochs) override { child_->plan(epochs); }
  void begin_epoch(std::uint64_t epoch) override;
  std::optional<Sample> next() override;
  void cancel() noexcept override { child_->cancel(); }

 private:
  std::vector<Sample> map_batch(std::vector<Sample> rows, std::uint64_t batch) const;
  Tensor collate(const std::vector<Sample>& rows, std::size_t column) const;

  static constexpr std::size_t kParallelCopyBytes = 1 << 20;

  std::unique_ptr<Stream> child_;
  tbb::task_arena& arena_;
  BatchOp op_;
  std::vector<std::string> columns_;
  std::shared_ptr<BufferPool> pool_;
  std::shared_ptr<StageCounters> counters_;
  std::uint64_t epoch_ = 0;
  std::uint64_t batch_number_ = 0;
  bool epoch_over_ = false;
};

}  // namespace conveyor::detail
