#pragma once
/// \file tensor.hpp
/// Tensor: a typed, strided view of bytes that shares ownership of them.
///
/// \code
///   auto t = conveyor::Tensor::empty(conveyor::DType::f32, {3, 32, 32});
///   auto red = t[0];                       // a {32, 32} view, no copy
///   red.view<float>().fill(1.0f);          // writes through to t
/// \endcode

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <xtensor/xadapt.hpp>
#include <xtensor/xstrided_view.hpp>

#include "conveyor/dtype.hpp"

namespace conveyor {

/// Extents of a tensor, outermost first.
using Shape = std::vector<std::int64_t>;
/// Steps between neighbours along each axis, in bytes.
using Strides = std::vector<std::int64_t>;

/// "(3, 32, 32)": a shape as NumPy prints it.
std::string to_string(const Shape& shape);

/// A dtype, a shape, byte strides, a data pointer and a shared owner of the bytes.
///
/// A Tensor is a handle: copying one copies the handle, not the bytes, and every view
/// (slice, index, reshape, transpose) shares the owner. The bytes live as long as any handle or
/// view does. Handles are not synchronised: concurrent reads are safe, concurrent writes to the
/// same bytes are the caller's business. Buffers conveyor allocates are 64-byte aligned.
class Tensor {
 public:
  /// An empty handle: no dtype, no data. `defined()` is false.
  Tensor() = default;

  /// A new contiguous tensor with uninitialised contents.
  static Tensor empty(DType dtype, Shape shape);
  /// A new contiguous tensor filled with zeros.
  static Tensor zeros(DType dtype, Shape shape);
  /// A 0-d tensor holding `value`.
  template <class T>
  static Tensor scalar(T value) {
    Tensor t = empty(dtype_of<T>(), {});
    std::memcpy(t.data(), &value, sizeof(T));
    return t;
  }
  /// A new contiguous tensor holding a copy of `values`, laid out as `shape` (1-D when empty).
  template <class T>
  static Tensor copy_of(std::span<const T> values, Shape shape = {}) {
    if (shape.empty()) shape = {static_cast<std::int64_t>(values.size())};
    Tensor t = empty(dtype_of<T>(), std::move(shape));
    t.check_numel(values.size());
    if (!values.empty()) std::memcpy(t.data(), values.data(), values.size_bytes());
    return t;
  }
  /// A 1-D `bytes` tensor holding a copy of `text` (an encoded image, a string).
  static Tensor bytes(std::string_view text);
  /// Wraps memory conveyor does not own, without copying. `owner` keeps the bytes alive (it is
  /// released when the last view goes, on whichever thread drops it); `strides` in bytes, empty
  /// for C-contiguous. Throws std::invalid_argument on a negative extent or stride, or a stride
  /// that is not a multiple of the item size.
  static Tensor from_memory(void* data, DType dtype, Shape shape, Strides strides,
                            std::shared_ptr<void> owner);

  bool defined() const noexcept { return data_ != nullptr || owner_ != nullptr; }
  DType dtype() const noexcept { return dtype_; }
  const Shape& shape() const noexcept { return shape_; }
  const Strides& strides() const noexcept { return strides_; }
  std::size_t ndim() const noexcept { return shape_.size(); }
  /// Number of elements (1 for a scalar).
  std::int64_t numel() const noexcept;
  /// Bytes the elements occupy when laid out contiguously.
  std::size_t nbytes() const noexcept { return static_cast<std::size_t>(numel()) * itemsize(dtype_); }
  std::byte* data() const noexcept { return data_; }
  const std::shared_ptr<void>& owner() const noexcept { return owner_; }
  /// True when elements are laid out in C order with no gaps.
  bool is_contiguous() const noexcept;

  /// Elements `start, start+step, ...` below `stop` along `axis`; a view. Throws
  /// std::out_of_range unless 0 <= start <= stop <= extent and step >= 1.
  Tensor slice(std::size_t axis, std::int64_t start, std::int64_t stop, std::int64_t step = 1) const;
  /// The sub-tensor at `index` along `axis`, with that axis removed; a view.
  Tensor select(std::size_t axis, std::int64_t index) const;
  /// `select(0, index)`.
  Tensor operator[](std::int64_t index) const { return select(0, index); }
  /// The same elements under a new shape (one extent may be -1); a view. Throws
  /// std::invalid_argument for a non-contiguous tensor or a mismatched element count.
  Tensor reshape(Shape shape) const;
  /// Axes permuted by `perm` (reversed when empty); a view.
  Tensor transpose(std::vector<std::size_t> perm = {}) const;
  /// This tensor when already contiguous, else a contiguous copy.
  Tensor contiguous() const;
  /// A contiguous copy with its own buffer.
  Tensor clone() const;
  /// Writes the elements in C order to `dst` (nbytes() bytes); one pass, memcpy where rows are
  /// contiguous.
  void copy_to(std::byte* dst) const;
  /// Copies the elements of `src` into this tensor's memory (which may be a strided view).
  /// Throws std::invalid_argument unless dtypes and shapes match.
  void assign(const Tensor& src) const;

  /// The single element of a one-element tensor. Throws on a dtype mismatch or numel() != 1.
  template <class T>
  T item() const {
    check_dtype(dtype_of<T>());
    check_numel(1);
    T value;
    std::memcpy(&value, data_, sizeof(T));
    return value;
  }
  /// The bytes of a contiguous 1-D `bytes` or `u8` tensor, as text; no copy.
  std::string_view text() const;

  /// An xtensor adaptor over the same memory: no copy, writes go through. Throws
  /// std::invalid_argument naming both dtypes when `T` does not match. The adaptor does not keep
  /// the bytes alive: keep the Tensor while using it.
  template <class T>
  auto view() const {
    check_dtype(dtype_of<T>());
    std::vector<std::size_t> shape(shape_.begin(), shape_.end());
    std::vector<std::ptrdiff_t> strides(strides_.size());
    std::size_t span = numel() == 0 ? 0 : 1;
    for (std::size_t i = 0; i < shape_.size(); ++i) {
      strides[i] = static_cast<std::ptrdiff_t>(strides_[i] / static_cast<std::int64_t>(sizeof(T)));
      if (span != 0) span += static_cast<std::size_t>((shape_[i] - 1) * strides[i]);
    }
    // A flat adaptor over every element the strides reach, seen through the strides: xtensor's
    // strided adaptors need their storage to be exactly numel() long, which a view with gaps
    // is not.
    auto flat = xt::adapt(reinterpret_cast<T*>(data_), span, xt::no_ownership(), std::vector<std::size_t>{span});
    return xt::strided_view(std::move(flat), std::move(shape), std::move(strides), 0, xt::layout_type::dynamic);
  }


 private:
  void check_dtype(DType wanted) const;
  void check_numel(std::size_t count) const;

  DType dtype_ = DType::u8;
  Shape shape_;
  Strides strides_;
  std::byte* data_ = nullptr;
  std::shared_ptr<void> owner_;
};

/// C-contiguous byte strides for `shape`.
Strides contiguous_strides(const Shape& shape, DType dtype);

}  // namespace conveyor
