#pragma once
/// \file color.hpp
/// Pixel-value ops: normalisation, rescaling and random colour adjustment.
///
/// Every function is pure and thread-safe (random ones advance only the `rng` they are given);
/// outputs are new contiguous tensors the caller owns. Failures throw std::invalid_argument
/// whose message starts "conveyor: <op>: ".

#include <vector>

#include "conveyor/detail/random.hpp"
#include "conveyor/ops/range.hpp"
#include "conveyor/slot_op.hpp"
#include "conveyor/tensor.hpp"

namespace conveyor::ops {

/// MindSpore's Normalize: float32 (x - mean[c]) / std[c] for every pixel of an (H, W, C) (or
/// (H, W), one channel) uint8 or float32 image; mean and std in pixel units (0..255 for uint8),
/// one value per channel. Throws std::invalid_argument on a count mismatch or a std <= 0.
Tensor normalize(const Tensor& img, const std::vector<float>& mean, const std::vector<float>& std);

/// normalize() and hwc2chw() in one pass: reads (H, W, C) and writes float32 (C, H, W) directly
/// (an (H, W) image gives (H, W)). Same arguments and errors as normalize().
Tensor normalize_hwc2chw(const Tensor& img, const std::vector<float>& mean, const std::vector<float>& std);

/// normalize_hwc2chw() as a map op that a batch() right after it runs in place: each image is
/// normalised straight into its slot of the batch buffer (see conveyor/slot_op.hpp).
SlotOp normalize_hwc2chw_op(const std::vector<float>& mean, const std::vector<float>& std);

/// MindSpore's Rescale: float32 x * rescale + shift, element-wise, same shape. Any numeric dtype.
Tensor rescale(const Tensor& t, float rescale, float shift);

/// MindSpore's RandomColorAdjust / torchvision's ColorJitter without hue, on an (H, W, 3) or
/// (H, W, 1) uint8 RGB image. Draws the order of the three adjustments (a shuffle of three),
/// then a brightness, a contrast and a saturation factor, each uniform in its range, and
/// applies them in that order: brightness blends with black, contrast with the mean of the
/// image's greyscale, saturation with the greyscale (a no-op on one channel). Each step rounds
/// to nearest and clamps to [0, 255]. A range of {1, 1} leaves that adjustment out (its factor
/// is still drawn, so the rng advances the same whatever the ranges). Throws
/// std::invalid_argument for a range with min > max or min < 0, or a non-image.
Tensor random_color_adjust(const Tensor& img, Range brightness, Range contrast, Range saturation,
                           detail::Rng& rng);

}  // namespace conveyor::ops
