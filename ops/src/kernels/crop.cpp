// Cropping and padding: slices of tensor views, copied once. No OpenCV needed.

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "conveyor/ops/geometry.hpp"
#include "kernels/image.hpp"
#include "kernels/numeric.hpp"
#include "kernels/resize.hpp"

namespace conveyor::ops {

using internal::fail;

namespace {

std::string size_text(std::int64_t h, std::int64_t w) { return std::to_string(h) + "x" + std::to_string(w); }

void check_crop_size(std::string_view op, std::int64_t h, std::int64_t w) {
  if (h < 1 || w < 1) fail(op, "the crop size must be positive, got " + size_text(h, w));
}

/// The window's pixels as a view of `img` (no copy).
Tensor window_of(const Tensor& img, std::int64_t top, std::int64_t left, std::int64_t h, std::int64_t w) {
  return img.slice(0, top, top + h).slice(1, left, left + w);
}

Tensor pad_as(std::string_view op, const Tensor& img, std::array<std::int64_t, 4> amounts, double fill_value) {
  const auto shape = internal::image_shape(op, img);
  const auto [top, bottom, left, right] = amounts;
  if (top < 0 || bottom < 0 || left < 0 || right < 0)
    fail(op, "padding must not be negative, got top " + std::to_string(top) + ", bottom " + std::to_string(bottom) +
                 ", left " + std::to_string(left) + ", right " + std::to_string(right));
  Tensor out = Tensor::empty(img.dtype(), internal::image_dims(shape, shape.height + top + bottom,
                                                             shape.width + left + right));
  internal::fill_contiguous(op, out, fill_value);
  window_of(out, top, left, shape.height, shape.width).assign(img);
  return out;
}

}  // namespace

Tensor crop(const Tensor& img, std::int64_t top, std::int64_t left, std::int64_t h, std::int64_t w) {
  const auto shape = internal::image_shape("crop", img);
  check_crop_size("crop", h, w);
  if (top < 0 || left < 0 || top + h > shape.height || left + w > shape.width)
    internal::fail_range("crop", "the window " + size_text(h, w) + " at (top " + std::to_string(top) + ", left " +
                                   std::to_string(left) + ") leaves the " + size_text(shape.height, shape.width) +
                                   " image");
  return window_of(img, top, left, h, w).clone();
}

Tensor pad(const Tensor& img, std::int64_t top, std::int64_t bottom, std::int64_t left, std::int64_t right,
           double fill_value) {
  return pad_as("pad", img, {top, bottom, left, right}, fill_value);
}

Tensor center_crop(const Tensor& img, std::int64_t h, std::int64_t w) {
  const auto shape = internal::image_shape("center_crop", img);
  check_crop_size("center_crop", h, w);
  // MindSpore's CenterCrop: pad where the crop is larger (the odd pixel on the top or left), then
  // take the window at ((H - h) / 2, (W - w) / 2), rounded down.
  const std::int64_t pad_h = std::max<std::int64_t>(0, h - shape.height);
  const std::int64_t pad_w = std::max<std::int64_t>(0, w - shape.width);
  const Tensor src = pad_h > 0 || pad_w > 0
                         ? pad_as("center_crop", img, {pad_h - pad_h / 2, pad_h / 2, pad_w - pad_w / 2, pad_w / 2}, 0.0)
                         : img;
  return window_of(src, (src.shape()[0] - h) / 2, (src.shape()[1] - w) / 2, h, w).clone();
}

Tensor random_crop(const Tensor& img, std::int64_t h, std::int64_t w, std::array<std::int64_t, 4> padding,
                   bool pad_if_needed, std::uint8_t fill, detail::Rng& rng) {
  const auto shape = internal::image_shape("random_crop", img);
  check_crop_size("random_crop", h, w);
  auto [top, bottom, left, right] = padding;
  // pad_if_needed pads both sides of a dimension by its whole shortfall, as torchvision and
  // MindSpore do.
  const std::int64_t short_h = h - (shape.height + top + bottom);
  const std::int64_t short_w = w - (shape.width + left + right);
  if (pad_if_needed && short_h > 0) {
    top += short_h;
    bottom += short_h;
  }
  if (pad_if_needed && short_w > 0) {
    left += short_w;
    right += short_w;
  }
  const bool padded = top != 0 || bottom != 0 || left != 0 || right != 0;
  const Tensor src = padded ? pad_as("random_crop", img, {top, bottom, left, right}, fill) : img;
  const std::int64_t height = src.shape()[0];
  const std::int64_t width = src.shape()[1];
  if (height < h || width < w)
    fail("random_crop", "the crop " + size_text(h, w) + " is larger than the padded image " + size_text(height, width) +
                            " (set pad_if_needed to pad it)");
  if (height == h && width == w) return padded ? src : img.clone();  // torchvision draws nothing here
  const auto y = static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(height - h + 1)));
  const auto x = static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(width - w + 1)));
  return window_of(src, y, x, h, w).clone();
}

Tensor random_resized_crop(const Tensor& img, std::int64_t out_h, std::int64_t out_w, const CropParams& params,
                           Interpolation interpolation, detail::Rng& rng) {
  const auto shape = internal::image_shape("random_resized_crop", img);
  const CropWindow window = choose_crop_window(shape.height, shape.width, params, rng);
  return internal::resize_as("random_resized_crop", window_of(img, window.top, window.left, window.height, window.width),
                           out_h, out_w, interpolation);
}

}  // namespace conveyor::ops
