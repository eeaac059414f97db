#pragma once
// What the kernels share: op-prefixed errors, the (H, W[, C]) reading of a tensor, and cv::Mat
// views over conveyor's own buffers.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <opencv2/core.hpp>

#include "conveyor/dtype.hpp"
#include "conveyor/tensor.hpp"

namespace conveyor::ops::internal {

/// Throws std::invalid_argument("conveyor: <op>: <message>").
[[noreturn]] void fail(std::string_view op, const std::string& message);

/// Throws std::out_of_range("conveyor: <op>: <message>").
[[noreturn]] void fail_range(std::string_view op, const std::string& message);

/// An image's extents; `rank` is 2 for (H, W) and 3 for (H, W, C) (channels is then C, else 1).
struct ImageShape {
  std::int64_t height;
  std::int64_t width;
  std::int64_t channels;
  std::size_t rank;
};

/// The extents of `img`. Throws unless it is a defined rank-2 or rank-3 tensor with every
/// extent >= 1 and a dtype other than bytes.
ImageShape image_shape(std::string_view op, const Tensor& img);

/// (h, w) or (h, w, channels), following `like.rank`.
Shape image_dims(const ImageShape& like, std::int64_t h, std::int64_t w);

/// OpenCV's depth (CV_8U, ...) for filtering `dtype` (resize): uint8, uint16, int16, float32 and
/// float64 have one; -1 for the others.
int cv_depth(DType dtype) noexcept;

/// An OpenCV depth of the same element size as `dtype`, for ops that only move elements (flips,
/// splits): they copy such elements bit for bit whatever the dtype.
int bits_depth(DType dtype) noexcept;

/// `img` when each of its rows holds its pixels packed (what a cv::Mat needs), else a
/// contiguous copy.
Tensor packed_rows(const Tensor& img);

/// A cv::Mat over `img`'s memory (no copy) seeing elements as `depth` and the last axis of a
/// rank-3 tensor as channels. `img` must have packed rows (see packed_rows()); the Mat does not
/// keep the bytes alive. Throws, naming `op`, when OpenCV cannot hold the extents (more than
/// CV_CN_MAX channels, more than INT_MAX rows or columns).
cv::Mat as_mat(std::string_view op, const Tensor& img, int depth);

}  // namespace conveyor::ops::internal
