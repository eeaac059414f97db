// torchvision's RandomResizedCrop.get_params, drawing from conveyor's deterministic Rng.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

#include "conveyor/ops/geometry.hpp"
#include "kernels/image.hpp"

namespace conveyor::ops {

namespace {

constexpr std::string_view kOp = "choose_crop_window";

void check_params(std::int64_t height, std::int64_t width, const CropParams& params) {
  using internal::fail;
  if (height < 1 || width < 1)
    fail(kOp, "the image is empty: " + std::to_string(height) + "x" + std::to_string(width));
  const Range scale = params.scale;
  if (!(0.0 <= scale.min && scale.min <= scale.max && scale.max <= 1.0))
    fail(kOp, "scale must satisfy 0 <= min <= max <= 1, got (" + std::to_string(scale.min) + ", " +
                  std::to_string(scale.max) + ")");
  const Range ratio = params.ratio;
  if (!(0.0 < ratio.min && ratio.min <= ratio.max && std::isfinite(ratio.max)))
    fail(kOp, "ratio must satisfy 0 < min <= max, got (" + std::to_string(ratio.min) + ", " +
                  std::to_string(ratio.max) + ")");
  if (params.max_attempts < 0) fail(kOp, "max_attempts must be >= 0, got " + std::to_string(params.max_attempts));
}

/// Python's round(): to nearest, ties to even (nearbyint under the default rounding mode).
std::int64_t round_half_even(double value) { return static_cast<std::int64_t>(std::nearbyint(value)); }

double uniform(detail::Rng& rng, double lo, double hi) { return lo + (hi - lo) * rng.uniform(); }

}  // namespace

CropWindow choose_crop_window(std::int64_t height, std::int64_t width, const CropParams& params, detail::Rng& rng) {
  check_params(height, width, params);
  const double area = static_cast<double>(height) * static_cast<double>(width);
  const double log_ratio_min = std::log(params.ratio.min);
  const double log_ratio_max = std::log(params.ratio.max);
  for (int attempt = 0; attempt < params.max_attempts; ++attempt) {
    const double target_area = area * uniform(rng, params.scale.min, params.scale.max);
    const double aspect_ratio = std::exp(uniform(rng, log_ratio_min, log_ratio_max));
    const std::int64_t w = round_half_even(std::sqrt(target_area * aspect_ratio));
    const std::int64_t h = round_half_even(std::sqrt(target_area / aspect_ratio));
    if (0 < w && w <= width && 0 < h && h <= height) {
      const auto top = static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(height - h + 1)));
      const auto left = static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(width - w + 1)));
      return {top, left, h, w, false};
    }
  }
  // The central crop, its aspect ratio clamped into params.ratio. Clamping the sides to at least
  // one pixel (torchvision does not) keeps extreme ratios on thin images from giving an empty crop.
  const double in_ratio = static_cast<double>(width) / static_cast<double>(height);
  std::int64_t w = width;
  std::int64_t h = height;
  if (in_ratio < params.ratio.min) {
    h = std::clamp<std::int64_t>(round_half_even(static_cast<double>(w) / params.ratio.min), 1, height);
  } else if (in_ratio > params.ratio.max) {
    w = std::clamp<std::int64_t>(round_half_even(static_cast<double>(h) * params.ratio.max), 1, width);
  }
  return {(height - h) / 2, (width - w) / 2, h, w, true};
}

}  // namespace conveyor::ops
