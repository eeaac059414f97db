#include "stages/batch_assembly.hpp"

#include <new>

namespace conveyor::detail {

BatchAssembly::BatchAssembly(std::shared_ptr<BufferPool> pool, std::size_t rows, std::size_t columns)
    : pool_(std::move(pool)), rows_(rows), count_(columns), columns_(std::make_unique<Column[]>(columns)) {}

void BatchAssembly::start(Column& column, DType dtype, const Shape& shape) const noexcept {
  // Nothing may escape: an exception out of std::call_once's callable can leave the flag stuck.
  try {
    column.shape = shape;
  } catch (...) {
    return;  // not laid out: the batch stage copies the column
  }
  column.dtype = dtype;
  // A row may be a view far larger than its memory (a broadcast scalar): the product can overflow.
  bool overflow = false;
  column.bytes = itemsize(dtype);
  for (auto extent : shape)
    overflow |= __builtin_mul_overflow(column.bytes, static_cast<std::size_t>(extent), &column.bytes);
  std::size_t batch_bytes;
  if (overflow || column.bytes == 0 || __builtin_mul_overflow(column.bytes, rows_, &batch_bytes) ||
      batch_bytes >= kLargestBatch)
    return;
  try {
    column.buffer = pool_->reuse(batch_bytes);
    if (!column.buffer) column.buffer = pool_->allocate(batch_bytes);
  } catch (...) {
    // Left to the batch stage, which says what it needed and what was available.
  }
}

std::optional<Tensor> BatchAssembly::reserve(std::size_t position, std::size_t column, DType dtype,
                                             const Shape& shape) {
  if (column >= count_ || position >= rows_) return std::nullopt;
  Column& c = columns_[column];
  std::call_once(c.started, [&] { start(c, dtype, shape); });
  if (!c.buffer || dtype != c.dtype || shape != c.shape) return std::nullopt;
  std::byte* place = static_cast<std::byte*>(c.buffer.get()) + position * c.bytes;
  return Tensor::from_memory(place, dtype, shape, {}, c.buffer);
}

void BatchAssembly::place(Row& row, std::size_t position) {
  for (std::size_t i = 0; i < row.size(); ++i) {
    Tensor& column = row[i];
    auto place = reserve(position, i, column.dtype(), column.shape());
    if (!place || place->data() == column.data()) continue;  // not laid out, or made in place
    column.copy_to(place->data());
    column = std::move(*place);
  }
}

}  // namespace conveyor::detail
