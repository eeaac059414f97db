// Resizing and flipping: OpenCV on cv::Mat views of conveyor tensors.

#include <string>
#include <string_view>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "conveyor/ops/geometry.hpp"
#include "kernels/image.hpp"
#include "kernels/resize.hpp"

namespace conveyor::ops {

using internal::fail;

namespace {

int cv_interpolation(Interpolation interpolation) {
  switch (interpolation) {
    case Interpolation::nearest: return cv::INTER_NEAREST;
    case Interpolation::linear: return cv::INTER_LINEAR;
    case Interpolation::cubic: return cv::INTER_CUBIC;
    case Interpolation::area: return cv::INTER_AREA;
  }
  fail("resize", "unknown interpolation " + std::to_string(static_cast<int>(interpolation)));
}

/// `img` flipped about `flip_code`'s axis (OpenCV's: 1 mirrors columns, 0 rows).
Tensor flip(std::string_view op, const Tensor& img, int flip_code) {
  internal::image_shape(op, img);
  const Tensor src = internal::packed_rows(img);
  Tensor out = Tensor::empty(img.dtype(), img.shape());
  cv::Mat dst = internal::as_mat(op, out, internal::bits_depth(img.dtype()));
  cv::flip(internal::as_mat(op, src, internal::bits_depth(img.dtype())), dst, flip_code);
  return out;
}

/// flip(op, img, flip_code) when a uniform draw is below `p`, else `img` itself.
Tensor random_flip(std::string_view op, const Tensor& img, double p, int flip_code, detail::Rng& rng) {
  internal::image_shape(op, img);
  if (!(0.0 <= p && p <= 1.0)) fail(op, "p must be in [0, 1], got " + std::to_string(p));
  return rng.uniform() < p ? flip(op, img, flip_code) : img;
}

}  // namespace

Tensor internal::resize_as(std::string_view op, const Tensor& img, std::int64_t h, std::int64_t w,
                          Interpolation interpolation) {
  const auto shape = internal::image_shape(op, img);
  if (h < 1 || w < 1) fail(op, "the output size must be positive, got " + std::to_string(h) + "x" + std::to_string(w));
  const int depth = internal::cv_depth(img.dtype());
  if (depth < 0)
    fail(op, "expected a uint8, uint16, int16, float32 or float64 image, got " + std::string(name(img.dtype())));
  const Tensor src = internal::packed_rows(img);
  Tensor out = Tensor::empty(img.dtype(), internal::image_dims(shape, h, w));
  cv::Mat dst = internal::as_mat(op, out, depth);
  cv::resize(internal::as_mat(op, src, depth), dst, dst.size(), 0, 0, cv_interpolation(interpolation));
  return out;
}

Tensor resize(const Tensor& img, std::int64_t h, std::int64_t w, Interpolation interpolation) {
  return internal::resize_as("resize", img, h, w, interpolation);
}

Tensor resize_shorter(const Tensor& img, std::int64_t size, Interpolation interpolation) {
  const auto shape = internal::image_shape("resize_shorter", img);
  if (size < 1) fail("resize_shorter", "size must be positive, got " + std::to_string(size));
  // MindSpore: the longer side is round(longer * size / shorter), half away from zero; computed
  // exactly in integers.
  const auto scaled = [size](std::int64_t longer, std::int64_t shorter) {
    return (2 * longer * size + shorter) / (2 * shorter);
  };
  if (shape.height < shape.width)
    return internal::resize_as("resize_shorter", img, size, scaled(shape.width, shape.height), interpolation);
  return internal::resize_as("resize_shorter", img, scaled(shape.height, shape.width), size, interpolation);
}

Tensor horizontal_flip(const Tensor& img) { return flip("horizontal_flip", img, 1); }

Tensor vertical_flip(const Tensor& img) { return flip("vertical_flip", img, 0); }

Tensor random_horizontal_flip(const Tensor& img, double p, detail::Rng& rng) {
  return random_flip("random_horizontal_flip", img, p, 1, rng);
}

Tensor random_vertical_flip(const Tensor& img, double p, detail::Rng& rng) {
  return random_flip("random_vertical_flip", img, p, 0, rng);
}

}  // namespace conveyor::ops
