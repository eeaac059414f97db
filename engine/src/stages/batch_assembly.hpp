#pragma once
// BatchAssembly: the batch a run of rows is made into, laid out as the rows are made. Whichever
// stage produces a row's last bytes writes them here (see Place in stages/parallel.hpp), so that
// the batch stage above takes the batch as it lies instead of copying it.

#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>

#include "conveyor/row.hpp"
#include "memory/buffer_pool.hpp"

namespace conveyor::detail {

/// One batch of `rows` rows of `columns` columns: a pooled buffer per column, each row's column
/// at its position, back to back. The first row placed in a column sets that column's dtype and
/// shape; a column whose rows differ from it, whose rows are empty, or whose batch would take
/// kLargestBatch bytes or more (or memory the pool cannot give) is not laid out: its rows stay
/// as they were made and the batch stage copies them. Thread-safe: the rows of one batch are
/// placed by whichever workers make them.
class BatchAssembly {
 public:
  static constexpr std::size_t kLargestBatch = std::size_t{64} << 20;

  /// `pool` must outlive the buffers' last views (they share it).
  BatchAssembly(std::shared_ptr<BufferPool> pool, std::size_t rows, std::size_t columns);

  /// A tensor of `dtype` and `shape` over the place of column `column` of the row at `position`
  /// (< rows), for the row's producer to write into; nullopt when the column is not laid out so.
  std::optional<Tensor> reserve(std::size_t position, std::size_t column, DType dtype, const Shape& shape);
  /// Copies each column of `row` that reserve() takes into its place for `position`, and makes
  /// it a view of it.
  void place(Row& row, std::size_t position);

 private:
  struct Column {
    std::once_flag started;
    DType dtype = DType::u8;
    Shape shape;
    std::size_t bytes = 0;  // a row's
    std::shared_ptr<void> buffer;  // null: the column is not laid out
  };
  void start(Column& column, DType dtype, const Shape& shape) const noexcept;

  std::shared_ptr<BufferPool> pool_;
  std::size_t rows_;
  std::size_t count_;
  std::unique_ptr<Column[]> columns_;
};

}  // namespace conveyor::detail
