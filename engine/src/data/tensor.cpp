#include "conveyor/tensor.hpp"

#include <algorithm>
#include <new>
#include <numeric>
#include <stdexcept>

#include "memory/aligned_memory.hpp"

namespace conveyor {
namespace {

// Copies the elements of `t` in C order, starting at `axis`, from `src` to `dst`; returns the
// end of what was written. The innermost run of contiguous axes is one memcpy.
std::byte* copy_axes(const Tensor& t, std::size_t axis, const std::byte* src, std::byte* dst,
                     std::size_t tail_bytes, std::size_t tail_axis) {
  if (axis == tail_axis) {
    std::memcpy(dst, src, tail_bytes);
    return dst + tail_bytes;
  }
  for (std::int64_t i = 0; i < t.shape()[axis]; ++i)
    dst = copy_axes(t, axis + 1, src + i * t.strides()[axis], dst, tail_bytes, tail_axis);
  return dst;
}

// Element-wise strided copy of `shape` from `src` to `dst`, axis by axis.
void assign_axes(const Shape& shape, std::size_t axis, std::size_t item, const std::byte* src,
                 const Strides& src_strides, std::byte* dst, const Strides& dst_strides) {
  if (axis == shape.size()) {
    std::memcpy(dst, src, item);
    return;
  }
  for (std::int64_t i = 0; i < shape[axis]; ++i)
    assign_axes(shape, axis + 1, item, src + i * src_strides[axis], src_strides, dst + i * dst_strides[axis],
                dst_strides);
}

}  // namespace

std::string to_string(const Shape& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ",";
  return s + ")";
}

Strides contiguous_strides(const Shape& shape, DType dtype) {
  Strides strides(shape.size());
  std::int64_t step = static_cast<std::int64_t>(itemsize(dtype));
  for (std::size_t i = shape.size(); i-- > 0;) {
    strides[i] = step;
    step *= std::max<std::int64_t>(shape[i], 1);
  }
  return strides;
}

Tensor Tensor::empty(DType dtype, Shape shape) {
  for (auto extent : shape)
    if (extent < 0) throw std::invalid_argument("conveyor: negative extent in shape " + to_string(shape));
  Tensor t;
  t.dtype_ = dtype;
  t.strides_ = contiguous_strides(shape, dtype);
  t.shape_ = std::move(shape);
  t.owner_ = detail::allocate_shared_aligned(t.nbytes());
  t.data_ = static_cast<std::byte*>(t.owner_.get());
  return t;
}

Tensor Tensor::zeros(DType dtype, Shape shape) {
  Tensor t = empty(dtype, std::move(shape));
  std::memset(t.data_, 0, t.nbytes());
  return t;
}

Tensor Tensor::bytes(std::string_view text) {
  Tensor t = empty(DType::bytes, {static_cast<std::int64_t>(text.size())});
  if (!text.empty()) std::memcpy(t.data_, text.data(), text.size());
  return t;
}

Tensor Tensor::from_memory(void* data, DType dtype, Shape shape, Strides strides,
                           std::shared_ptr<void> owner) {
  for (auto extent : shape)
    if (extent < 0) throw std::invalid_argument("conveyor: negative extent in shape " + to_string(shape));
  if (strides.empty()) strides = contiguous_strides(shape, dtype);
  if (strides.size() != shape.size())
    throw std::invalid_argument("conveyor: " + std::to_string(strides.size()) + " strides for shape " +
                                to_string(shape));
  for (auto stride : strides)
    if (stride < 0 || stride % static_cast<std::int64_t>(itemsize(dtype)) != 0)
      throw std::invalid_argument("conveyor: stride " + std::to_string(stride) +
                                  " is negative or not a multiple of the item size of " + std::string(name(dtype)));
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = std::move(shape);
  t.strides_ = std::move(strides);
  t.data_ = static_cast<std::byte*>(data);
  t.owner_ = std::move(owner);
  return t;
}

std::int64_t Tensor::numel() const noexcept {
  return std::accumulate(shape_.begin(), shape_.end(), std::int64_t{1}, std::multiplies<>());
}

bool Tensor::is_contiguous() const noexcept {
  if (numel() == 0) return true;
  std::int64_t expected = static_cast<std::int64_t>(itemsize(dtype_));
  for (std::size_t i = shape_.size(); i-- > 0;) {
    if (shape_[i] != 1 && strides_[i] != expected) return false;
    expected *= shape_[i];
  }
  return true;
}

Tensor Tensor::slice(std::size_t axis, std::int64_t start, std::int64_t stop, std::int64_t step) const {
  if (axis >= ndim()) throw std::out_of_range("conveyor: slice axis " + std::to_string(axis) +
                                              " of a tensor of shape " + to_string(shape_));
  if (start < 0 || start > stop || stop > shape_[axis] || step < 1)
    throw std::out_of_range("conveyor: slice [" + std::to_string(start) + ":" + std::to_string(stop) + ":" +
                            std::to_string(step) + "] out of range for axis " + std::to_string(axis) +
                            " of shape " + to_string(shape_));
  Tensor t = *this;
  t.data_ += start * strides_[axis];
  t.shape_[axis] = (stop - start + step - 1) / step;
  t.strides_[axis] *= step;
  return t;
}

Tensor Tensor::select(std::size_t axis, std::int64_t index) const {
  if (axis >= ndim() || index < 0 || index >= shape_[axis])
    throw std::out_of_range("conveyor: index " + std::to_string(index) + " on axis " + std::to_string(axis) +
                            " out of range for shape " + to_string(shape_));
  Tensor t = *this;
  t.data_ += index * strides_[axis];
  t.shape_.erase(t.shape_.begin() + static_cast<std::ptrdiff_t>(axis));
  t.strides_.erase(t.strides_.begin() + static_cast<std::ptrdiff_t>(axis));
  return t;
}

Tensor Tensor::reshape(Shape shape) const {
  if (!is_contiguous())
    throw std::invalid_argument("conveyor: reshape of a non-contiguous tensor of shape " + to_string(shape_) +
                                "; call contiguous() first");
  if (std::any_of(shape.begin(), shape.end(), [](std::int64_t e) { return e < -1; }) ||
      std::count(shape.begin(), shape.end(), -1) > 1)
    throw std::invalid_argument("conveyor: bad shape " + to_string(shape) + " for reshape");
  auto inferred = std::find(shape.begin(), shape.end(), -1);
  std::int64_t known = 1;
  for (auto extent : shape)
    if (extent != -1) known *= extent;
  if (inferred != shape.end() && known != 0 && numel() % known == 0) *inferred = numel() / known;
  Tensor t = *this;
  t.shape_ = std::move(shape);
  if (t.numel() != numel() || std::count(t.shape_.begin(), t.shape_.end(), -1) > 0)
    throw std::invalid_argument("conveyor: cannot reshape " + to_string(shape_) + " to " + to_string(t.shape_));
  t.strides_ = contiguous_strides(t.shape_, dtype_);
  return t;
}

Tensor Tensor::transpose(std::vector<std::size_t> perm) const {
  if (perm.empty()) {
    perm.resize(ndim());
    std::iota(perm.rbegin(), perm.rend(), std::size_t{0});
  }
  std::vector<std::size_t> sorted = perm;
  std::sort(sorted.begin(), sorted.end());
  for (std::size_t i = 0; i < sorted.size(); ++i)
    if (sorted.size() != ndim() || sorted[i] != i)
      throw std::invalid_argument("conveyor: transpose needs a permutation of " + std::to_string(ndim()) + " axes");
  Tensor t = *this;
  for (std::size_t i = 0; i < perm.size(); ++i) {
    t.shape_[i] = shape_[perm[i]];
    t.strides_[i] = strides_[perm[i]];
  }
  return t;
}

Tensor Tensor::contiguous() const { return is_contiguous() ? *this : clone(); }

Tensor Tensor::clone() const {
  Tensor t = empty(dtype_, shape_);
  copy_to(t.data_);
  return t;
}

void Tensor::copy_to(std::byte* dst) const {
  if (numel() == 0) return;
  // Find the longest run of trailing axes that is contiguous: it is copied with one memcpy.
  std::size_t tail_axis = ndim();
  std::int64_t tail_bytes = static_cast<std::int64_t>(itemsize(dtype_));
  while (tail_axis > 0 && (shape_[tail_axis - 1] == 1 || strides_[tail_axis - 1] == tail_bytes)) {
    --tail_axis;
    tail_bytes *= shape_[tail_axis];
  }
  copy_axes(*this, 0, data_, dst, static_cast<std::size_t>(tail_bytes), tail_axis);
}

void Tensor::assign(const Tensor& src) const {
  if (src.dtype_ != dtype_ || src.shape_ != shape_)
    throw std::invalid_argument("conveyor: cannot assign " + std::string(name(src.dtype_)) + " " +
                                to_string(src.shape_) + " to " + std::string(name(dtype_)) + " " + to_string(shape_));
  if (is_contiguous()) return src.copy_to(data_);
  assign_axes(shape_, 0, itemsize(dtype_), src.data_, src.strides_, data_, strides_);
}

std::string_view Tensor::text() const {
  if ((dtype_ != DType::bytes && dtype_ != DType::u8) || ndim() != 1 || !is_contiguous())
    throw std::invalid_argument("conveyor: text() needs a contiguous 1-D bytes tensor, not " +
                                std::string(name(dtype_)) + " of shape " + to_string(shape_));
  return {reinterpret_cast<const char*>(data_), static_cast<std::size_t>(shape_[0])};
}

void Tensor::check_dtype(DType wanted) const {
  if (wanted != dtype_)
    throw std::invalid_argument("conveyor: tensor holds " + std::string(name(dtype_)) + ", not " +
                                std::string(name(wanted)));
}

void Tensor::check_numel(std::size_t count) const {
  if (static_cast<std::size_t>(numel()) != count)
    throw std::invalid_argument("conveyor: " + std::to_string(count) + " values for shape " + to_string(shape_));
}

}  // namespace conveyor
