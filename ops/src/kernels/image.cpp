#include "kernels/image.hpp"

#include <limits>
#include <stdexcept>

namespace conveyor::ops::internal {

void fail(std::string_view op, const std::string& message) {
  throw std::invalid_argument("conveyor: " + std::string(op) + ": " + message);
}

void fail_range(std::string_view op, const std::string& message) {
  throw std::out_of_range("conveyor: " + std::string(op) + ": " + message);
}

ImageShape image_shape(std::string_view op, const Tensor& img) {
  if (!img.defined()) fail(op, "the image is an undefined tensor");
  if (img.ndim() != 2 && img.ndim() != 3)
    fail(op, "expected an (H, W) or (H, W, C) image, got shape " + to_string(img.shape()));
  if (img.dtype() == DType::bytes) fail(op, "expected a numeric image, got a bytes tensor (decode it first)");
  for (std::int64_t extent : img.shape())
    if (extent < 1) fail(op, "the image is empty: shape " + to_string(img.shape()));
  return {img.shape()[0], img.shape()[1], img.ndim() == 3 ? img.shape()[2] : 1, img.ndim()};
}

Shape image_dims(const ImageShape& like, std::int64_t h, std::int64_t w) {
  if (like.rank == 2) return {h, w};
  return {h, w, like.channels};
}

int cv_depth(DType dtype) noexcept {
  switch (dtype) {
    case DType::u8: return CV_8U;
    case DType::u16: return CV_16U;
    case DType::i16: return CV_16S;
    case DType::f32: return CV_32F;
    case DType::f64: return CV_64F;
    default: return -1;
  }
}

int bits_depth(DType dtype) noexcept {
  switch (itemsize(dtype)) {
    case 1: return CV_8U;
    case 2: return CV_16U;
    case 4: return CV_32S;
    default: return CV_64F;
  }
}

namespace {

std::int64_t channels_of(const Tensor& img) { return img.ndim() == 3 ? img.shape()[2] : 1; }

std::int64_t row_bytes(const Tensor& img) {
  return img.shape()[1] * channels_of(img) * static_cast<std::int64_t>(itemsize(img.dtype()));
}

bool has_packed_rows(const Tensor& img) {
  const auto item = static_cast<std::int64_t>(itemsize(img.dtype()));
  const bool packed_channels = img.ndim() == 2 || img.shape()[2] == 1 || img.strides()[2] == item;
  const bool packed_pixels = img.shape()[1] == 1 || img.strides()[1] == channels_of(img) * item;
  return packed_channels && packed_pixels && (img.shape()[0] == 1 || img.strides()[0] >= row_bytes(img));
}

}  // namespace

Tensor packed_rows(const Tensor& img) { return has_packed_rows(img) ? img : img.contiguous(); }

cv::Mat as_mat(std::string_view op, const Tensor& img, int depth) {
  if (channels_of(img) > CV_CN_MAX)
    fail(op, "OpenCV handles at most " + std::to_string(CV_CN_MAX) + " channels, the image has " +
                 std::to_string(channels_of(img)));
  if (img.shape()[0] > std::numeric_limits<int>::max() || img.shape()[1] > std::numeric_limits<int>::max())
    fail(op, "OpenCV handles at most INT_MAX rows and columns, the image is " + to_string(img.shape()));
  // A single-row image may carry any stride along its first axis; OpenCV wants one at least a row long.
  const auto step = static_cast<std::size_t>(img.shape()[0] == 1 ? row_bytes(img) : img.strides()[0]);
  return {static_cast<int>(img.shape()[0]), static_cast<int>(img.shape()[1]),
          CV_MAKETYPE(depth, static_cast<int>(channels_of(img))), img.data(), step};
}

}  // namespace conveyor::ops::internal
