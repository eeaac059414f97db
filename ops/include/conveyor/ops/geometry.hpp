#pragma once
/// \file geometry.hpp
/// Resizing, cropping, flipping and padding images, with MindSpore's argument semantics.
///
/// An image is an (H, W) or (H, W, C) tensor, any layout (views are fine); outputs keep the
/// input's rank and dtype unless stated. Every function is pure and thread-safe (the random ones
/// advance only the `rng` they are given, which must not be shared between threads); outputs
/// are new contiguous tensors the caller owns. Failures throw std::invalid_argument (bad
/// arguments) or std::out_of_range (a window outside the image) whose message starts
/// "conveyor: <op>: ".

#include <array>
#include <cstdint>

#include "conveyor/detail/random.hpp"
#include "conveyor/ops/range.hpp"
#include "conveyor/tensor.hpp"

namespace conveyor::ops {

/// Resampling filters, as OpenCV's INTER_NEAREST, INTER_LINEAR, INTER_CUBIC and INTER_AREA.
enum class Interpolation { nearest, linear, cubic, area };

/// A rectangle of an image: rows [top, top + height), columns [left, left + width).
struct CropWindow {
  std::int64_t top;
  std::int64_t left;
  std::int64_t height;
  std::int64_t width;
  /// True when no random attempt fitted and this is RandomResizedCrop's central fallback.
  bool fallback;
};

/// RandomResizedCrop's arguments: the window's area as a fraction of the image's (`scale`), its
/// aspect ratio width/height (`ratio`, drawn log-uniformly), and how many draws to try before
/// falling back to a central crop.
struct CropParams {
  Range scale{0.08, 1.0};
  Range ratio{3.0 / 4.0, 4.0 / 3.0};
  int max_attempts = 10;
};

/// Resizes `img` to (h, w). Supported dtypes: uint8, uint16, int16, float32, float64. Throws
/// std::invalid_argument for another dtype, an empty image or a non-positive size.
Tensor resize(const Tensor& img, std::int64_t h, std::int64_t w, Interpolation interpolation);

/// MindSpore's Resize(size) with one int: the shorter side becomes `size`, the other keeps the
/// aspect ratio (rounded half away from zero). Otherwise as resize().
Tensor resize_shorter(const Tensor& img, std::int64_t size, Interpolation interpolation);

/// Rows [top, top+h) and columns [left, left+w) of `img`, copied. Any dtype. Throws
/// std::out_of_range when the window leaves the image, std::invalid_argument when h or w < 1.
Tensor crop(const Tensor& img, std::int64_t top, std::int64_t left, std::int64_t h, std::int64_t w);

/// The central (h, w) window of `img` (top = (H - h) / 2, rounded down, as MindSpore). Where the
/// window is larger than the image the image is zero-padded first, the odd pixel going to the
/// top or left. Any dtype.
Tensor center_crop(const Tensor& img, std::int64_t h, std::int64_t w);

/// MindSpore's / torchvision's RandomCrop: pads by `padding` {top, bottom, left, right} with
/// `fill`, then, when `pad_if_needed`, pads each side of a dimension still smaller than the crop
/// by the shortfall, then crops (h, w) at a uniformly drawn position (the row first). Throws
/// std::invalid_argument when the (padded) image is still smaller than the crop.
Tensor random_crop(const Tensor& img, std::int64_t h, std::int64_t w, std::array<std::int64_t, 4> padding,
                   bool pad_if_needed, std::uint8_t fill, detail::Rng& rng);

/// torchvision's RandomResizedCrop.get_params for a `height` x `width` image: up to
/// `params.max_attempts` draws of area (uniform in scale * H * W) and log-uniform aspect ratio,
/// w = round(sqrt(area * ratio)), h = round(sqrt(area / ratio)) (half to even, as Python),
/// accepted when 0 < w <= W and 0 < h <= H and placed uniformly (row first); otherwise the
/// central crop with the aspect ratio clamped to `params.ratio`. Pure apart from advancing `rng`.
/// Throws std::invalid_argument for an empty image or bad params (scale outside [0, 1] or
/// reversed, ratio not positive or reversed, negative attempts).
CropWindow choose_crop_window(std::int64_t height, std::int64_t width, const CropParams& params, detail::Rng& rng);

/// RandomResizedCrop: crops the window choose_crop_window() draws and resizes it to
/// (out_h, out_w). Dtypes as resize().
Tensor random_resized_crop(const Tensor& img, std::int64_t out_h, std::int64_t out_w, const CropParams& params,
                           Interpolation interpolation, detail::Rng& rng);

/// `img` mirrored left to right. Any dtype.
Tensor horizontal_flip(const Tensor& img);

/// `img` mirrored top to bottom. Any dtype.
Tensor vertical_flip(const Tensor& img);

/// horizontal_flip(img) with probability `p` (one rng.uniform() draw, flipping when it is < p);
/// otherwise `img` itself, no copy, sharing its buffer. Throws std::invalid_argument unless
/// 0 <= p <= 1.
Tensor random_horizontal_flip(const Tensor& img, double p, detail::Rng& rng);

/// vertical_flip(img) with probability `p`; otherwise `img` itself. As random_horizontal_flip().
Tensor random_vertical_flip(const Tensor& img, double p, detail::Rng& rng);

/// `img` with `top`, `bottom`, `left` and `right` rows/columns of `fill_value` (converted to the
/// dtype as type_cast() converts) around it. Any dtype but bytes. Throws std::invalid_argument
/// for a negative amount.
Tensor pad(const Tensor& img, std::int64_t top, std::int64_t bottom, std::int64_t left, std::int64_t right,
           double fill_value);

}  // namespace conveyor::ops
