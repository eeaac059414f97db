#include "stages/batch.hpp"

#include <algorithm>
#include <cstring>
#include <new>
#include <utility>

#include <oneapi/tbb/parallel_for.h>

#include "conveyor/error.hpp"
#include "conveyor/memory.hpp"
#include "data/columns_phrase.hpp"

namespace conveyor::detail {
namespace {

template <class T>
void fill_with(const Tensor& t, double value) {
  std::fill_n(reinterpret_cast<T*>(t.data()), t.numel(), static_cast<T>(value));
}

// Sets every element of contiguous `t` to `value`, converted to its dtype.
void fill(const Tensor& t, double value) {
  switch (t.dtype()) {
    case DType::boolean: return fill_with<bool>(t, value);
    case DType::u8: case DType::bytes: return fill_with<std::uint8_t>(t, value);
    case DType::i8: return fill_with<std::int8_t>(t, value);
    case DType::u16: return fill_with<std::uint16_t>(t, value);
    case DType::i16: return fill_with<std::int16_t>(t, value);
    case DType::u32: return fill_with<std::uint32_t>(t, value);
    case DType::i32: return fill_with<std::int32_t>(t, value);
    case DType::u64: return fill_with<std::uint64_t>(t, value);
    case DType::i64: return fill_with<std::int64_t>(t, value);
    case DType::f32: return fill_with<float>(t, value);
    case DType::f64: return fill_with<double>(t, value);
    case DType::f16:
      if (value != 0) throw std::invalid_argument("padding float16 with a non-zero value is not supported");
      return fill_with<std::uint16_t>(t, 0);
  }
}

// A batch that cannot be allocated, saying what it needed. A std::bad_alloc, so that the Python
// bindings raise MemoryError for it.
class BatchAllocationError : public std::bad_alloc {
 public:
  explicit BatchAllocationError(std::string message) : message_(std::move(message)) {}
  const char* what() const noexcept override { return message_.c_str(); }

 private:
  std::string message_;
};

// The shape every row of a padded column is padded to.
Shape padded_shape(const std::vector<Sample>& rows, std::size_t column, const PadInfo& pad) {
  Shape shape = pad.shape.empty() ? Shape(rows[0].row[column].ndim(), -1) : pad.shape;
  for (const Sample& s : rows) {
    const Shape& own = s.row[column].shape();
    if (own.size() != shape.size())
      throw std::runtime_error("rows of rank " + std::to_string(own.size()) + " cannot be padded to " +
                               to_string(pad.shape));
  }
  for (std::size_t axis = 0; axis < shape.size(); ++axis) {
    if (shape[axis] != -1) continue;
    shape[axis] = 0;
    for (const Sample& s : rows) shape[axis] = std::max(shape[axis], s.row[column].shape()[axis]);
  }
  return shape;
}

}  // namespace

BatchStream::BatchStream(std::unique_ptr<Stream> child, BatchOp op, std::vector<std::string> columns,
                         std::shared_ptr<BufferPool> pool, tbb::task_arena& arena,
                         std::shared_ptr<StageCounters> counters, bool laid_out_source, StageResume resume)
    : child_(std::move(child)),
      arena_(arena),
      op_(std::move(op)),
      columns_(std::move(columns)),
      pool_(std::move(pool)),
      counters_(std::move(counters)),
      laid_out_source_(laid_out_source),
      resume_(std::move(resume)) {}

void BatchStream::begin_epoch(std::uint64_t epoch) {
  child_->begin_epoch(epoch);
  epoch_ = epoch;
  batch_number_ = resume_.start(epoch);
  epoch_over_ = false;
}

std::optional<Sample> BatchStream::next() {
  StageClock clock(*counters_);
  std::vector<Sample> rows;
  rows.reserve(op_.batch_size);
  clock.pulling([&] {
    while (!epoch_over_ && rows.size() < op_.batch_size) {
      if (auto sample = child_->next())
        rows.push_back(std::move(*sample));
      else
        epoch_over_ = true;
    }
  });
  if (rows.empty() || (op_.drop_remainder && rows.size() < op_.batch_size)) return std::nullopt;

  Sample batch;
  batch.index = batch_number_++;
  batch.stamp = rows.back().stamp;
  resume_.stamp(batch.stamp, batch_number_);
  if (op_.per_batch_map) rows = map_batch(std::move(rows), batch.index);
  batch.row.reserve(columns_.size());
  for (std::size_t c = 0; c < columns_.size(); ++c) batch.row.push_back(collate(rows, c));
  ++counters_->rows;
  return batch;
}

std::vector<Sample> BatchStream::map_batch(std::vector<Sample> rows, std::uint64_t batch) const {
  try {
    std::vector<Row> in;
    in.reserve(rows.size());
    for (Sample& s : rows) in.push_back(std::move(s.row));
    std::vector<Row> out = op_.per_batch_map(std::move(in), BatchInfo{batch, epoch_});
    if (out.empty()) throw std::runtime_error("returned no rows");
    rows.resize(out.size());
    for (std::size_t i = 0; i < out.size(); ++i) {
      if (out[i].size() != columns_.size())
        throw std::runtime_error("returned a row of " + columns_phrase(out[i].size()) + "; expected " +
                                 std::to_string(columns_.size()));
      rows[i].row = std::move(out[i]);
    }
    return rows;
  } catch (...) {
    throw wrap_current_exception("per_batch_map", batch, ErrorUnit::batch);
  }
}

Tensor BatchStream::collate(const std::vector<Sample>& rows, std::size_t column) const {
  auto pad = std::find_if(op_.pads.begin(), op_.pads.end(), [&](const ColumnPad& p) { return p.column == column; });
  const Tensor& first = rows[0].row[column];
  try {
    Shape shape = pad == op_.pads.end() ? first.shape() : padded_shape(rows, column, pad->pad);
    for (const Sample& s : rows) {
      const Tensor& t = s.row[column];
      if (t.dtype() != first.dtype())
        throw std::runtime_error("column '" + columns_[column] + "' mixes " + std::string(name(first.dtype())) +
                                 " (sample " + std::to_string(rows[0].index) + ") and " +
                                 std::string(name(t.dtype())) + " (sample " + std::to_string(s.index) + ")");
      if (pad == op_.pads.end() && t.shape() != shape)
        throw std::runtime_error("column '" + columns_[column] + "' has shape " + to_string(shape) + " in sample " +
                                 std::to_string(rows[0].index) + " but " + to_string(t.shape()) + " in sample " +
                                 std::to_string(s.index) + "; give pad_info to pad it");
    }
    if (pad == op_.pads.end())
      if (auto batch = lying_in_place(rows, column)) return std::move(*batch);
    Tensor out = allocate(first.dtype(), shape, rows.size());
    if (pad == op_.pads.end()) {
      const std::size_t row_bytes = out.nbytes() / rows.size();
      for_each_row(rows.size(), out.nbytes(),
                   [&](std::size_t i) { rows[i].row[column].copy_to(out.data() + i * row_bytes); });
    } else {
      fill(out, pad->pad.value);
      for (std::size_t i = 0; i < rows.size(); ++i) {
        const Tensor& t = rows[i].row[column];
        Tensor slot = out[static_cast<std::int64_t>(i)];
        for (std::size_t axis = 0; axis < t.ndim(); ++axis) {
          if (t.shape()[axis] > shape[axis])
            throw std::runtime_error("column '" + columns_[column] + "' of sample " + std::to_string(rows[i].index) +
                                     " has shape " + to_string(t.shape()) + ", larger than the pad shape " +
                                     to_string(shape));
          slot = slot.slice(axis, 0, t.shape()[axis]);
        }
        slot.assign(t);
      }
    }
    return out;
  } catch (...) {
    throw wrap_current_exception("batch", batch_number_ - 1, ErrorUnit::batch);
  }
}

std::optional<Tensor> BatchStream::lying_in_place(const std::vector<Sample>& rows, std::size_t column) const {
  const Tensor& first = rows[0].row[column];
  const std::size_t row_bytes = first.nbytes();
  if (!first.owner() || row_bytes == 0) return std::nullopt;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const Tensor& t = rows[i].row[column];
    if (t.owner() != first.owner() || !t.is_contiguous() || t.data() != first.data() + i * row_bytes)
      return std::nullopt;
  }
  if (!pool_->owns(first.owner()) && !laid_out_source_) return std::nullopt;
  Shape shape{static_cast<std::int64_t>(rows.size())};
  shape.insert(shape.end(), first.shape().begin(), first.shape().end());
  return Tensor::from_memory(first.data(), first.dtype(), std::move(shape), {}, first.owner());
}

Tensor BatchStream::allocate(DType dtype, const Shape& row_shape, std::size_t rows) const {
  Shape shape{static_cast<std::int64_t>(rows)};
  shape.insert(shape.end(), row_shape.begin(), row_shape.end());
  auto what = [&] {
    return "a batch of " + std::to_string(rows) + " rows of " + std::string(name(dtype)) + " " + to_string(row_shape);
  };
  // Rows may be views much larger than their memory (a broadcast scalar), so the product can
  // overflow: a wrapped size would allocate too little and the copy would write past it.
  std::size_t nbytes = itemsize(dtype);
  bool overflow = false;
  for (auto extent : shape) overflow |= __builtin_mul_overflow(nbytes, static_cast<std::size_t>(extent), &nbytes);
  if (std::find(shape.begin(), shape.end(), 0) != shape.end()) {
    nbytes = 0;
    overflow = false;
  }
  if (overflow) throw BatchAllocationError(what() + " needs more bytes than memory can address");
  auto needs = [&] { return what() + " needs " + std::to_string(nbytes) + " bytes"; };
  std::shared_ptr<void> owner = pool_->reuse(nbytes);
  if (!owner) {
    // Checked before allocating rather than left to the allocator, whose failure depends on the
    // overcommit policy (and which sanitizers turn into an abort), and which a container's
    // memory limit does not stop: the OOM killer does, later. Reading the limits costs a few
    // system calls, nothing beside copying a large batch.
    if (nbytes >= kCheckedBytes) {
      const MemoryRoom room = available_memory();
      if (room.bytes && nbytes > *room.bytes)
        throw BatchAllocationError(needs() + ", more than the memory available; " + room.words);
    }
    try {
      owner = pool_->allocate(nbytes);
    } catch (const std::bad_alloc&) {
      throw BatchAllocationError(needs() + ", which could not be allocated; " + available_memory().words);
    }
  }
  return Tensor::from_memory(owner.get(), dtype, std::move(shape), {}, owner);
}

void BatchStream::for_each_row(std::size_t rows, std::size_t nbytes, const std::function<void(std::size_t)>& fill) const {
  // Large batches are filled by the arena's workers too: one thread's memcpy is far from the
  // memory bandwidth, and the workers are idle while the batch stage is the bottleneck.
  if (nbytes < kParallelCopyBytes) {
    for (std::size_t i = 0; i < rows; ++i) fill(i);
    return;
  }
  arena_.execute([&] {
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, rows), [&](const tbb::blocked_range<std::size_t>& r) {
      for (std::size_t i = r.begin(); i < r.end(); ++i) fill(i);
    });
  });
}

}  // namespace conveyor::detail
