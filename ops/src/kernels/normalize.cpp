// Per-channel affine maps to float32: Normalize, the fused Normalize + HWC2CHW, and Rescale.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "conveyor/ops/color.hpp"
#include "kernels/image.hpp"
#include "kernels/numeric.hpp"

namespace conveyor::ops {

using internal::fail;

namespace {

/// The fused op's name in errors.
constexpr std::string_view kFused = "normalize_hwc2chw";

/// Element layouts normalize() writes.
enum class Layout { hwc, chw };

/// 1 / std[c], after checking that mean and std hold one value per channel and std > 0.
std::vector<float> inverse_std(std::string_view op, std::int64_t channels, const std::vector<float>& mean,
                               const std::vector<float>& std) {
  const auto count = static_cast<std::size_t>(channels);
  const std::string per_channel = " but the image has " + std::to_string(channels) + " channel(s)";
  if (mean.size() != count) fail(op, "mean has " + std::to_string(mean.size()) + " value(s)" + per_channel);
  if (std.size() != count) fail(op, "std has " + std::to_string(std.size()) + " value(s)" + per_channel);
  std::vector<float> inverse(count);
  for (std::size_t c = 0; c < count; ++c) {
    if (!(std[c] > 0.0f)) fail(op, "std must be positive, got " + std::to_string(std[c]) + " for channel " + std::to_string(c));
    inverse[c] = 1.0f / std[c];
  }
  return inverse;
}

/// normalize_to()'s loop for uint8 RGB, the common case: a table of the 256 results per channel
/// (the same float arithmetic, so the same bits) and a fixed channel count, which the compiler
/// unrolls. 224x224 RGB took 100 us instead of 250 us on the project's machine.
template <std::int64_t Channels>
void normalize_u8(const std::uint8_t* in, std::int64_t pixels, const std::vector<float>& mean,
                  const std::vector<float>& inverse, float* result, std::int64_t pixel_step, std::int64_t channel_step) {
  std::array<std::array<float, 256>, Channels> table;
  for (std::size_t c = 0; c < Channels; ++c)
    for (std::size_t v = 0; v < 256; ++v) table[c][v] = (static_cast<float>(v) - mean[c]) * inverse[c];
  for (std::int64_t p = 0; p < pixels; ++p)
    for (std::int64_t c = 0; c < Channels; ++c)
      result[p * pixel_step + c * channel_step] = table[static_cast<std::size_t>(c)][in[p * Channels + c]];
}

/// What normalize_into() needs, checked once per image.
struct Plan {
  internal::ImageShape shape;
  std::vector<float> inverse;
  bool planar;
};

Plan plan(std::string_view op, const Tensor& img, const std::vector<float>& mean, const std::vector<float>& std,
          Layout layout) {
  const auto shape = internal::image_shape(op, img);
  return {shape, inverse_std(op, shape.channels, mean, std), layout == Layout::chw && shape.rank == 3};
}

Shape output_shape(const Tensor& img, const Plan& p) {
  return p.planar ? Shape{p.shape.channels, p.shape.height, p.shape.width} : img.shape();
}

/// (x - mean[c]) / std[c] for every element of `img`, written to `result` in the plan's order.
void normalize_into(std::string_view op, const Plan& p, const Tensor& img, const std::vector<float>& mean,
                    float* result) {
  const Tensor src = img.contiguous();
  const std::int64_t pixels = p.shape.height * p.shape.width;
  const std::int64_t channels = p.shape.channels;
  // The plane stride is 1 and the pixel stride C for HWC; the other way round for CHW.
  const std::int64_t pixel_step = p.planar ? 1 : channels;
  const std::int64_t channel_step = p.planar ? pixels : 1;
  if (src.dtype() == DType::u8 && channels == 3) {
    normalize_u8<3>(reinterpret_cast<const std::uint8_t*>(src.data()), pixels, mean, p.inverse, result, pixel_step,
                    channel_step);
    return;
  }
  internal::visit_numeric(op, src.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const auto* in = reinterpret_cast<const T*>(src.data());
    for (std::int64_t px = 0; px < pixels; ++px) {
      for (std::int64_t c = 0; c < channels; ++c) {
        const auto k = static_cast<std::size_t>(c);
        const float x = internal::convert<float>(in[px * channels + c]);
        result[px * pixel_step + c * channel_step] = (x - mean[k]) * p.inverse[k];
      }
    }
  });
}

Tensor normalize_to(std::string_view op, const Tensor& img, const std::vector<float>& mean,
                    const std::vector<float>& std, Layout layout) {
  const Plan p = plan(op, img, mean, std, layout);
  Tensor out = Tensor::empty(DType::f32, output_shape(img, p));
  normalize_into(op, p, img, mean, reinterpret_cast<float*>(out.data()));
  return out;
}

}  // namespace

Tensor normalize(const Tensor& img, const std::vector<float>& mean, const std::vector<float>& std) {
  return normalize_to("normalize", img, mean, std, Layout::hwc);
}

Tensor normalize_hwc2chw(const Tensor& img, const std::vector<float>& mean, const std::vector<float>& std) {
  return normalize_to(kFused, img, mean, std, Layout::chw);
}

SlotOp normalize_hwc2chw_op(const std::vector<float>& mean, const std::vector<float>& std) {
  return {[mean, std](const Tensor& img) {
            return SlotLayout{DType::f32, output_shape(img, plan(kFused, img, mean, std, Layout::chw))};
          },
          [mean, std](const Tensor& img, std::byte* slot) {
            normalize_into(kFused, plan(kFused, img, mean, std, Layout::chw), img, mean, reinterpret_cast<float*>(slot));
          }};
}

Tensor rescale(const Tensor& t, float rescale, float shift) {
  if (!t.defined()) fail("rescale", "the input is an undefined tensor");
  const Tensor src = t.contiguous();
  Tensor out = Tensor::empty(DType::f32, src.shape());
  auto* result = reinterpret_cast<float*>(out.data());
  internal::visit_numeric("rescale", src.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const auto* in = reinterpret_cast<const T*>(src.data());
    for (std::int64_t i = 0; i < src.numel(); ++i) result[i] = internal::convert<float>(in[i]) * rescale + shift;
  });
  return out;
}

}  // namespace conveyor::ops
