#include "conveyor/ops/color.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <set>
#include <vector>

#include "conveyor/ops/layout.hpp"
#include "errors.hpp"
#include "images.hpp"

namespace conveyor::ops {
namespace {

using testing::identical;
using testing::noise_image;
using testing::pixels;

std::vector<float> floats(const Tensor& t) {
  std::vector<float> values(static_cast<std::size_t>(t.numel()));
  std::memcpy(values.data(), t.contiguous().data(), t.nbytes());
  return values;
}

// An (h, w, c) uint8 image holding `values`.
Tensor image_of(std::vector<std::uint8_t> values, std::int64_t h, std::int64_t w, std::int64_t c) {
  return Tensor::copy_of<std::uint8_t>(values, {h, w, c});
}

// The uint8 image `img` mapped pixel by pixel by `f(r, g, b, channel)`, rounded and clamped:
// the hand-computed reference for the colour adjustments.
template <class F>
Tensor map_rgb(const Tensor& img, F f) {
  const auto in = pixels(img);
  std::vector<std::uint8_t> out(in.size());
  for (std::size_t p = 0; p < in.size(); p += 3)
    for (std::size_t c = 0; c < 3; ++c)
      out[p + c] = static_cast<std::uint8_t>(std::clamp(std::nearbyint(f(in[p], in[p + 1], in[p + 2], in[p + c])), 0.0, 255.0));
  return image_of(out, img.shape()[0], img.shape()[1], 3);
}

double luma(double r, double g, double b) { return 0.299 * r + 0.587 * g + 0.114 * b; }

// ---------------------------------------------------------------------------------------------
// normalize, normalize_hwc2chw, rescale

class NormalizeTest : public ::testing::TestWithParam<std::int64_t> {};

TEST_P(NormalizeTest, SubtractsTheMeanAndDividesByTheStdPerChannel) {
  const std::int64_t channels = GetParam();
  const Tensor img = noise_image(6, 5, channels, 3);
  const std::vector<float> mean{123.675f, 116.28f, 103.53f};
  const std::vector<float> std{58.395f, 57.12f, 57.375f};
  const std::vector<float> m(mean.begin(), mean.begin() + channels);
  const std::vector<float> s(std.begin(), std.begin() + channels);
  const Tensor out = normalize(img, m, s);
  ASSERT_EQ(out.dtype(), DType::f32);
  ASSERT_EQ(out.shape(), img.shape());
  const auto in = pixels(img);
  const auto values = floats(out);
  for (std::size_t i = 0; i < in.size(); ++i) {
    const auto c = i % static_cast<std::size_t>(channels);
    EXPECT_NEAR(values[i], (in[i] - m[c]) / s[c], 1e-5f);
  }
}

TEST_P(NormalizeTest, FusedWithHwc2ChwEqualsTheTwoOpsInTurn) {
  const std::int64_t channels = GetParam();
  const Tensor img = noise_image(9, 11, channels, 4);
  const std::vector<float> m(static_cast<std::size_t>(channels), 127.5f);
  const std::vector<float> s(static_cast<std::size_t>(channels), 63.75f);
  const Tensor fused = normalize_hwc2chw(img, m, s);
  EXPECT_EQ(fused.shape(), (Shape{channels, 9, 11}));
  EXPECT_TRUE(identical(fused, hwc2chw(normalize(img, m, s))));
}

INSTANTIATE_TEST_SUITE_P(Channels, NormalizeTest, ::testing::Values(1, 3));

TEST(NormalizeTest, NormalizesFloatImagesAndStridedViews) {
  const Tensor img = type_cast(noise_image(8, 8, 3), DType::f32).slice(0, 2, 6);
  const Tensor out = normalize(img, {1, 2, 3}, {2, 4, 8});
  const auto values = floats(out);
  const auto in = floats(img.contiguous());
  for (std::size_t i = 0; i < in.size(); ++i) EXPECT_FLOAT_EQ(values[i], (in[i] - float(1 + i % 3)) / float(2 << (i % 3)));
}

TEST(NormalizeTest, GivesUint8ImagesTheSameBitsAsTheirFloatCopies) {
  // uint8 RGB takes a table-driven path; float images the general loop.
  const Tensor img = noise_image(16, 16, 3, 9);
  const std::vector<float> m{123.675f, 116.28f, 103.53f};
  const std::vector<float> s{58.395f, 57.12f, 57.375f};
  EXPECT_TRUE(identical(normalize(img, m, s), normalize(type_cast(img, DType::f32), m, s)));
  EXPECT_TRUE(identical(normalize_hwc2chw(img, m, s), normalize_hwc2chw(type_cast(img, DType::f32), m, s)));
}

TEST(NormalizeTest, RejectsAMeanOrStdPerChannelMismatchAndAZeroStd) {
  const Tensor img = noise_image(2, 2, 3);
  testing::expect_invalid_argument([&] { normalize(img, {1, 2}, {1, 1, 1}); }, "conveyor: normalize: ", "mean has 2");
  testing::expect_invalid_argument([&] { normalize(img, {1, 2, 3}, {1}); }, "conveyor: normalize: ", "std has 1");
  testing::expect_invalid_argument([&] { normalize(img, {1, 2, 3}, {1, 0, 1}); }, "conveyor: normalize: ", "positive");
  testing::expect_invalid_argument([&] { normalize_hwc2chw(img, {1, 2, 3}, {1, -1, 1}); }, "conveyor: normalize_hwc2chw: ");
}

TEST(RescaleTest, MultipliesAndShiftsToFloat) {
  const Tensor out = rescale(image_of({0, 51, 255}, 1, 3, 1), 1.0f / 255, -0.5f);
  EXPECT_EQ(out.dtype(), DType::f32);
  EXPECT_EQ(out.shape(), (Shape{1, 3, 1}));
  const auto values = floats(out);
  EXPECT_FLOAT_EQ(values[0], -0.5f);
  EXPECT_FLOAT_EQ(values[1], -0.3f);
  EXPECT_FLOAT_EQ(values[2], 0.5f);
  const auto ints = floats(rescale(Tensor::copy_of<std::int32_t>(std::vector<std::int32_t>{-4, 10}), 0.5f, 1.0f));
  EXPECT_EQ(ints, (std::vector<float>{-1.0f, 6.0f}));
}

// ---------------------------------------------------------------------------------------------
// random_color_adjust, one adjustment at a time with a fixed factor, against hand-computed blends

const Range kIdentity{1.0, 1.0};

TEST(RandomColorAdjustTest, IdentityRangesGiveACopyOfTheImage) {
  const Tensor img = noise_image(10, 10, 3);
  detail::Rng rng(1);
  const Tensor out = random_color_adjust(img, kIdentity, kIdentity, kIdentity, rng);
  EXPECT_TRUE(identical(out, img));
  EXPECT_NE(out.data(), img.data());
}

TEST(RandomColorAdjustTest, BrightnessScalesTowardsBlack) {
  const Tensor img = noise_image(16, 16, 3, 2);
  for (const double factor : {0.0, 0.5, 1.3, 2.0}) {
    detail::Rng rng(1);
    const Tensor out = random_color_adjust(img, {factor, factor}, kIdentity, kIdentity, rng);
    const Tensor expected = map_rgb(img, [&](double, double, double, double x) { return factor * x; });
    EXPECT_LE(testing::max_abs_diff(out, expected), 1) << "factor " << factor;
  }
}

TEST(RandomColorAdjustTest, ContrastBlendsWithTheMeanGrey) {
  const Tensor img = noise_image(16, 16, 3, 5);
  const auto in = pixels(img);
  double mean = 0;
  for (std::size_t p = 0; p < in.size(); p += 3) mean += luma(in[p], in[p + 1], in[p + 2]);
  mean /= static_cast<double>(in.size() / 3);
  for (const double factor : {0.0, 0.4, 1.7}) {
    detail::Rng rng(1);
    const Tensor out = random_color_adjust(img, kIdentity, {factor, factor}, kIdentity, rng);
    const Tensor expected =
        map_rgb(img, [&](double, double, double, double x) { return factor * x + (1 - factor) * mean; });
    EXPECT_LE(testing::max_abs_diff(out, expected), 1) << "factor " << factor;
  }
}

TEST(RandomColorAdjustTest, SaturationBlendsWithEachPixelsGrey) {
  const Tensor img = noise_image(16, 16, 3, 6);
  for (const double factor : {0.0, 0.6, 1.5}) {
    detail::Rng rng(1);
    const Tensor out = random_color_adjust(img, kIdentity, kIdentity, {factor, factor}, rng);
    const Tensor expected = map_rgb(img, [&](double r, double g, double b, double x) {
      return factor * x + (1 - factor) * std::nearbyint(luma(r, g, b));
    });
    EXPECT_LE(testing::max_abs_diff(out, expected), 1) << "factor " << factor;
  }
}

TEST(RandomColorAdjustTest, SaturationLeavesAGreyImageAlone) {
  const Tensor img = noise_image(8, 8, 1);
  detail::Rng rng(1);
  EXPECT_TRUE(identical(random_color_adjust(img, kIdentity, kIdentity, {0.0, 3.0}, rng), img));
}

TEST(RandomColorAdjustTest, AppliesTheAdjustmentsInARandomOrder) {
  // Desaturating then brightening x2 differs from brightening (clipping each channel) then
  // desaturating; over many seeds both orders must show up.
  const Tensor img = noise_image(8, 8, 3, 8);
  std::set<std::vector<std::uint8_t>> outcomes;
  for (std::uint64_t seed = 0; seed < 30; ++seed) {
    detail::Rng rng(seed);
    outcomes.insert(pixels(random_color_adjust(img, {2.0, 2.0}, kIdentity, {0.0, 0.0}, rng)));
  }
  EXPECT_EQ(outcomes.size(), 2u);
}

TEST(RandomColorAdjustTest, DrawsFactorsWithinTheRanges) {
  // Brightness alone in [0.5, 0.8] on a uniform 200 image gives values in [100, 160].
  const Tensor img = image_of(std::vector<std::uint8_t>(3 * 4, 200), 2, 2, 3);
  std::set<std::uint8_t> seen;
  for (std::uint64_t seed = 0; seed < 300; ++seed) {
    detail::Rng rng(seed);
    for (std::uint8_t v : pixels(random_color_adjust(img, {0.5, 0.8}, kIdentity, kIdentity, rng))) {
      EXPECT_GE(v, 100);
      EXPECT_LE(v, 160);
      seen.insert(v);
    }
  }
  EXPECT_GT(seen.size(), 40u);
}

TEST(RandomColorAdjustTest, SameSeedGivesIdenticalOutputs) {
  const Tensor img = noise_image(12, 12, 3);
  const Range jitter{0.6, 1.4};
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    detail::Rng a(seed);
    detail::Rng b(seed);
    EXPECT_TRUE(identical(random_color_adjust(img, jitter, jitter, jitter, a), random_color_adjust(img, jitter, jitter, jitter, b)));
  }
}

TEST(RandomColorAdjustTest, RejectsBadRangesAndNonRgbImages) {
  detail::Rng rng(1);
  const std::string prefix = "conveyor: random_color_adjust: ";
  const Tensor img = noise_image(4, 4, 3);
  testing::expect_invalid_argument([&] { random_color_adjust(img, {1.2, 0.8}, kIdentity, kIdentity, rng); }, prefix,
                                   "brightness");
  testing::expect_invalid_argument([&] { random_color_adjust(img, kIdentity, {-0.5, 1.0}, kIdentity, rng); }, prefix,
                                   "contrast");
  testing::expect_invalid_argument([&] { random_color_adjust(noise_image(4, 4, 4), kIdentity, kIdentity, kIdentity, rng); },
                                   prefix, "channels");
  testing::expect_invalid_argument(
      [&] { random_color_adjust(type_cast(img, DType::f32), kIdentity, kIdentity, kIdentity, rng); }, prefix, "uint8");
}

}  // namespace
}  // namespace conveyor::ops
