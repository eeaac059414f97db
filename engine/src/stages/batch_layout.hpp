#pragma once
// BatchLayout: the rows of a chunk copied, as they are read, to where the chunk's batch keeps
// them, so that the batch stage above takes the batch in place instead of copying it.

#include <cstddef>
#include <memory>
#include <optional>
#include <vector>

#include "conveyor/row.hpp"
#include "memory/buffer_pool.hpp"

namespace conveyor::detail {

/// Lays out the rows of one chunk of `rows` rows as a batch of them: one pooled buffer per column,
/// each row's column at its position in the chunk, back to back. The first row placed sets each
/// column's dtype and shape; a column whose rows differ from it, that is empty, or whose batch
/// would take kLargestBatch bytes or more (or memory the pool cannot give) is left as read: the
/// batch stage copies it as usual. Not thread-safe (one chunk, one thread).
class BatchLayout {
 public:
  static constexpr std::size_t kLargestBatch = std::size_t{64} << 20;

  /// `pool` must outlive the buffers' last views (it is shared by them).
  BatchLayout(std::shared_ptr<BufferPool> pool, std::size_t rows) : pool_(std::move(pool)), rows_(rows) {}

  /// Copies `row`'s columns that fit the layout into their place for chunk position `position`
  /// (< rows) and makes them views of it. Throws nothing the copy does not.
  void place(Row& row, std::size_t position);

 private:
  struct Column {
    DType dtype;
    Shape shape;
    std::size_t bytes;  // a row's
    std::shared_ptr<void> buffer;  // null: the column is left as read
  };
  void start(const Row& first);

  std::shared_ptr<BufferPool> pool_;
  std::size_t rows_;
  std::optional<std::vector<Column>> columns_;
};

}  // namespace conveyor::detail
