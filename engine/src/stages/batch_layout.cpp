#include "stages/batch_layout.hpp"

#include <new>

namespace conveyor::detail {

void BatchLayout::start(const Row& first) {
  columns_.emplace();
  for (const Tensor& column : first) {
    Column& c = columns_->emplace_back(Column{column.dtype(), column.shape(), column.nbytes(), nullptr});
    std::size_t batch_bytes;
    if (c.bytes == 0 || __builtin_mul_overflow(c.bytes, rows_, &batch_bytes) || batch_bytes >= kLargestBatch) continue;
    try {
      c.buffer = pool_->reuse(batch_bytes);
      if (!c.buffer) c.buffer = pool_->allocate(batch_bytes);
    } catch (const std::bad_alloc&) {
      // Left to the batch stage, which says what it needed and what was available.
    }
  }
}

void BatchLayout::place(Row& row, std::size_t position) {
  if (!columns_) start(row);
  for (std::size_t i = 0; i < row.size() && i < columns_->size(); ++i) {
    const Column& c = (*columns_)[i];
    Tensor& column = row[i];
    if (!c.buffer || column.dtype() != c.dtype || column.shape() != c.shape) continue;
    std::byte* place = static_cast<std::byte*>(c.buffer.get()) + position * c.bytes;
    column.copy_to(place);
    column = Tensor::from_memory(place, c.dtype, c.shape, {}, c.buffer);
  }
}

}  // namespace conveyor::detail
