#pragma once
// Test images for the ops suites: deterministic pixels, cv::Mat views for reference results,
// encoded files, and comparisons.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "conveyor/detail/random.hpp"
#include "conveyor/tensor.hpp"

namespace conveyor::ops::testing {

/// An (h, w, c) uint8 image of independent uniform noise, fixed by `seed`.
inline Tensor noise_image(std::int64_t h, std::int64_t w, std::int64_t c, std::uint64_t seed = 1) {
  Tensor t = Tensor::empty(DType::u8, {h, w, c});
  detail::Rng rng(seed);
  auto* p = reinterpret_cast<std::uint8_t*>(t.data());
  for (std::int64_t i = 0; i < t.numel(); ++i) p[i] = static_cast<std::uint8_t>(rng.below(256));
  return t;
}

/// An (h, w, c) uint8 image of slow waves (periods of 200 pixels and more): what JPEG compresses
/// well, and what every resampling filter renders alike down to a few dozen pixels across.
inline Tensor smooth_image(std::int64_t h, std::int64_t w, std::int64_t c) {
  Tensor t = Tensor::empty(DType::u8, {h, w, c});
  auto* p = reinterpret_cast<std::uint8_t*>(t.data());
  for (std::int64_t y = 0; y < h; ++y)
    for (std::int64_t x = 0; x < w; ++x)
      for (std::int64_t k = 0; k < c; ++k) {
        const double value = 128 + 60 * std::sin(0.02 * static_cast<double>(x) + 1.3 * static_cast<double>(k)) +
                             50 * std::cos(0.015 * static_cast<double>(y) - 0.7 * static_cast<double>(k)) +
                             15 * std::sin(0.03 * static_cast<double>(x + y));
        p[(y * w + x) * c + k] = static_cast<std::uint8_t>(std::lround(std::clamp(value, 0.0, 255.0)));
      }
  return t;
}

/// A cv::Mat over a contiguous (h, w[, c]) tensor of `depth` elements; no copy.
inline cv::Mat mat_of(const Tensor& t, int depth = CV_8U) {
  const int channels = t.ndim() == 3 ? static_cast<int>(t.shape()[2]) : 1;
  return {static_cast<int>(t.shape()[0]), static_cast<int>(t.shape()[1]), CV_MAKETYPE(depth, channels), t.data()};
}

/// A new (rows, cols, channels) uint8 tensor holding a copy of `m`.
inline Tensor tensor_of(const cv::Mat& m) {
  Tensor t = Tensor::empty(DType::u8, {m.rows, m.cols, m.channels()});
  m.copyTo(mat_of(t));
  return t;
}

/// The RGB (or grey) uint8 image `rgb` encoded by OpenCV as `extension` (".png", ".jpg", ".bmp").
inline std::vector<unsigned char> encode(const Tensor& rgb, const std::string& extension,
                                         const std::vector<int>& params = {}) {
  cv::Mat bgr;
  if (rgb.shape()[2] == 3) {
    cv::cvtColor(mat_of(rgb), bgr, cv::COLOR_RGB2BGR);
  } else {
    bgr = mat_of(rgb);
  }
  std::vector<unsigned char> out;
  if (!cv::imencode(extension, bgr, out, params)) throw std::runtime_error("test: imencode failed");
  return out;
}

/// A 1-D bytes tensor holding `data`.
inline Tensor bytes_tensor(const std::vector<unsigned char>& data) {
  return Tensor::bytes(std::string_view(reinterpret_cast<const char*>(data.data()), data.size()));
}

/// The elements of a contiguous uint8 tensor.
inline std::vector<std::uint8_t> pixels(const Tensor& t) {
  const Tensor c = t.contiguous();
  const auto* p = reinterpret_cast<const std::uint8_t*>(c.data());
  return {p, p + c.numel()};
}

/// True when `a` and `b` have the same dtype, shape and elements (compared bytewise).
inline bool identical(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) return false;
  const Tensor ca = a.contiguous();
  const Tensor cb = b.contiguous();
  return std::memcmp(ca.data(), cb.data(), ca.nbytes()) == 0;
}

/// Mean absolute difference between two uint8 tensors of the same shape.
inline double mean_abs_diff(const Tensor& a, const Tensor& b) {
  const auto pa = pixels(a);
  const auto pb = pixels(b);
  double sum = 0;
  for (std::size_t i = 0; i < pa.size(); ++i) sum += std::abs(int{pa[i]} - int{pb[i]});
  return pa.empty() ? 0.0 : sum / static_cast<double>(pa.size());
}

/// Largest absolute difference between two uint8 tensors of the same shape.
inline int max_abs_diff(const Tensor& a, const Tensor& b) {
  const auto pa = pixels(a);
  const auto pb = pixels(b);
  int largest = 0;
  for (std::size_t i = 0; i < pa.size(); ++i) largest = std::max(largest, std::abs(int{pa[i]} - int{pb[i]}));
  return largest;
}

}  // namespace conveyor::ops::testing
