#include "conveyor/ops/layout.hpp"

#include <algorithm>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include <opencv2/core.hpp>

#include "kernels/image.hpp"
#include "kernels/numeric.hpp"

namespace conveyor::ops {

using internal::fail;

Tensor hwc2chw(const Tensor& img) {
  const auto shape = internal::image_shape("hwc2chw", img);
  if (shape.rank == 2) return img.clone();
  const Tensor src = internal::packed_rows(img);
  Tensor out = Tensor::empty(img.dtype(), {shape.channels, shape.height, shape.width});
  if (shape.channels > CV_CN_MAX) {
    out.assign(src.transpose({2, 0, 1}));
    return out;
  }
  // cv::split de-interleaves with SIMD, far faster than an element-wise strided copy.
  const int depth = internal::bits_depth(img.dtype());
  std::vector<cv::Mat> planes;
  planes.reserve(static_cast<std::size_t>(shape.channels));
  for (std::int64_t c = 0; c < shape.channels; ++c) planes.push_back(internal::as_mat("hwc2chw", out[c], depth));
  cv::split(internal::as_mat("hwc2chw", src, depth), planes.data());
  return out;
}

Tensor type_cast(const Tensor& t, DType dtype) {
  const Tensor src = t.contiguous();
  Tensor out = Tensor::empty(dtype, src.shape());
  const auto count = static_cast<std::size_t>(src.numel());
  internal::visit_numeric("type_cast", src.dtype(), [&](auto from_tag) {
    using From = typename decltype(from_tag)::type;
    internal::visit_numeric("type_cast", dtype, [&](auto to_tag) {
      using To = typename decltype(to_tag)::type;
      const auto* in = reinterpret_cast<const From*>(src.data());
      auto* result = reinterpret_cast<To*>(out.data());
      std::transform(in, in + count, result, [](From value) { return internal::convert<To>(value); });
    });
  });
  return out;
}

Tensor one_hot(const Tensor& labels, std::int64_t num_classes) {
  if (num_classes < 1) fail("one_hot", "num_classes must be >= 1, got " + std::to_string(num_classes));
  const Tensor src = labels.contiguous();
  Shape shape = src.shape();
  shape.push_back(num_classes);
  Tensor out = Tensor::zeros(DType::i64, shape);
  auto* rows = reinterpret_cast<std::int64_t*>(out.data());
  internal::visit_numeric("one_hot", src.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (!std::is_integral_v<T> || std::is_same_v<T, bool>) {
      fail("one_hot", "labels must be integers, got " + std::string(name(src.dtype())));
    } else {
      const auto* in = reinterpret_cast<const T*>(src.data());
      for (std::int64_t i = 0; i < src.numel(); ++i) {
        const T label = in[i];
        const bool negative = std::is_signed_v<T> && label < T{0};
        if (negative || static_cast<std::uint64_t>(label) >= static_cast<std::uint64_t>(num_classes))
          fail("one_hot", "label " + std::to_string(label) + " is out of range [0, " + std::to_string(num_classes) + ")");
        rows[i * num_classes + static_cast<std::int64_t>(label)] = 1;
      }
    }
  });
  return out;
}

Tensor fill(const Tensor& t, double value) {
  Tensor out = Tensor::empty(t.dtype(), t.shape());
  internal::fill_contiguous("fill", out, value);
  return out;
}

}  // namespace conveyor::ops
