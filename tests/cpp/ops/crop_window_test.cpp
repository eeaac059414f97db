#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <set>
#include <stdexcept>
#include <tuple>
#include <vector>

#include "conveyor/detail/random.hpp"
#include "conveyor/ops/geometry.hpp"
#include "errors.hpp"

namespace conveyor::ops {
namespace {

bool same(const CropWindow& a, const CropWindow& b) {
  return a.top == b.top && a.left == b.left && a.height == b.height && a.width == b.width &&
         a.fallback == b.fallback;
}

// ---------------------------------------------------------------------------------------------
// The distribution of 10000 windows, for several image shapes and parameters

using WindowCase = std::tuple<std::int64_t, std::int64_t, CropParams>;

class CropWindowDistributionTest : public ::testing::TestWithParam<WindowCase> {};

TEST_P(CropWindowDistributionTest, EveryWindowFitsAndRespectsScaleAndRatio) {
  const auto [height, width, params] = GetParam();
  const double area = static_cast<double>(height * width);
  detail::Rng rng(2024);
  int fallbacks = 0;
  int touching_top = 0;
  int touching_bottom = 0;
  double lowest_ratio = INFINITY;
  double highest_ratio = 0;
  for (int i = 0; i < 10000; ++i) {
    const CropWindow w = choose_crop_window(height, width, params, rng);
    ASSERT_GE(w.top, 0);
    ASSERT_GE(w.left, 0);
    ASSERT_GE(w.height, 1);
    ASSERT_GE(w.width, 1);
    ASSERT_LE(w.top + w.height, height);
    ASSERT_LE(w.left + w.width, width);
    if (w.fallback) {
      ++fallbacks;
      continue;
    }
    // w and h are each within half a pixel of sqrt(area * ratio) and sqrt(area / ratio).
    const double hw = static_cast<double>(w.height);
    const double ww = static_cast<double>(w.width);
    EXPECT_LE((hw - 0.5) * (ww - 0.5), params.scale.max * area);
    EXPECT_GE((hw + 0.5) * (ww + 0.5), params.scale.min * area);
    EXPECT_LE((ww - 0.5) / (hw + 0.5), params.ratio.max);
    EXPECT_GE((ww + 0.5) / (hw - 0.5), params.ratio.min);
    touching_top += w.top == 0;
    touching_bottom += w.top + w.height == height;
    lowest_ratio = std::min(lowest_ratio, ww / hw);
    highest_ratio = std::max(highest_ratio, ww / hw);
  }
  EXPECT_LT(fallbacks, 100) << "a regular image rarely needs the fallback";
  EXPECT_GT(touching_top, 0);
  EXPECT_GT(touching_bottom, 0);
  EXPECT_LE(lowest_ratio, params.ratio.min * 1.05) << "ratios reach down to the minimum";
  EXPECT_GE(highest_ratio, params.ratio.max / 1.05) << "ratios reach up to the maximum";
}

INSTANTIATE_TEST_SUITE_P(
    ShapesAndParams, CropWindowDistributionTest,
    ::testing::Values(WindowCase{224, 224, CropParams{}}, WindowCase{480, 640, CropParams{}},
                      WindowCase{640, 360, CropParams{}},
                      WindowCase{300, 400, CropParams{{0.5, 0.9}, {1.0, 2.0}, 10}},
                      WindowCase{100, 100, CropParams{{0.2, 0.2}, {0.5, 0.5}, 10}}));

// ---------------------------------------------------------------------------------------------
// The central fallback

TEST(CropWindowTest, FallsBackToTheWholeImageWithoutAttempts) {
  detail::Rng rng(1);
  const CropWindow w = choose_crop_window(100, 120, {{0.08, 1.0}, {0.75, 4.0 / 3}, 0}, rng);
  EXPECT_TRUE(same(w, {0, 0, 100, 120, true}));
}

TEST(CropWindowTest, FallsBackToACentralCropClampedToTheMaximumRatioOnAWideImage) {
  detail::Rng rng(1);
  // No window of 90% of a 10x1000 image has a ratio <= 4/3 and fits: h = 10, w = round(13.33) = 13.
  const CropWindow w = choose_crop_window(10, 1000, {{0.9, 1.0}, {0.75, 4.0 / 3}, 10}, rng);
  EXPECT_TRUE(same(w, {0, (1000 - 13) / 2, 10, 13, true}));
}

TEST(CropWindowTest, FallsBackToACentralCropClampedToTheMinimumRatioOnATallImage) {
  detail::Rng rng(1);
  // w = 10, h = round(10 / 0.75) = round(13.33) = 13.
  const CropWindow w = choose_crop_window(1000, 10, {{0.9, 1.0}, {0.75, 4.0 / 3}, 10}, rng);
  EXPECT_TRUE(same(w, {(1000 - 13) / 2, 0, 13, 10, true}));
}

TEST(CropWindowTest, RoundsHalfToEvenAsPython) {
  detail::Rng rng(1);
  // Fallback on a 2x5 image with ratio fixed at 1.25: w = round(2 * 1.25) = round(2.5) = 2.
  const CropWindow w = choose_crop_window(2, 5, {{1.0, 1.0}, {1.25, 1.25}, 0}, rng);
  EXPECT_TRUE(same(w, {0, 1, 2, 2, true}));
}

TEST(CropWindowTest, ScaleOneAndRatioOfTheImageGivesTheWholeImage) {
  detail::Rng rng(9);
  for (int i = 0; i < 100; ++i)
    EXPECT_TRUE(same(choose_crop_window(60, 80, {{1.0, 1.0}, {80.0 / 60, 80.0 / 60}, 10}, rng), {0, 0, 60, 80, false}));
}

// ---------------------------------------------------------------------------------------------
// Determinism

TEST(CropWindowTest, SameSeedGivesTheSameWindows) {
  detail::Rng a(99);
  detail::Rng b(99);
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(same(choose_crop_window(480, 640, {}, a), choose_crop_window(480, 640, {}, b)));
}

TEST(CropWindowTest, DifferentSeedsGiveDifferentWindows) {
  std::set<std::tuple<std::int64_t, std::int64_t, std::int64_t, std::int64_t>> windows;
  for (std::uint64_t seed = 0; seed < 100; ++seed) {
    detail::Rng rng(seed);
    const CropWindow w = choose_crop_window(480, 640, {}, rng);
    windows.emplace(w.top, w.left, w.height, w.width);
  }
  EXPECT_GT(windows.size(), 95u);
}

// ---------------------------------------------------------------------------------------------
// Bad arguments

TEST(CropWindowTest, RejectsBadParameters) {
  detail::Rng rng(1);
  const std::string prefix = "conveyor: choose_crop_window: ";
  testing::expect_invalid_argument([&] { choose_crop_window(10, 10, {{0.9, 0.1}, {0.75, 1.3}, 10}, rng); }, prefix, "scale");
  testing::expect_invalid_argument([&] { choose_crop_window(10, 10, {{0.1, 1.5}, {0.75, 1.3}, 10}, rng); }, prefix, "scale");
  testing::expect_invalid_argument([&] { choose_crop_window(10, 10, {{0.1, 1.0}, {0.0, 1.3}, 10}, rng); }, prefix, "ratio");
  testing::expect_invalid_argument([&] { choose_crop_window(10, 10, {{0.1, 1.0}, {2.0, 1.0}, 10}, rng); }, prefix, "ratio");
  testing::expect_invalid_argument([&] { choose_crop_window(10, 10, {{0.1, 1.0}, {0.75, 1.3}, -1}, rng); }, prefix,
                                   "max_attempts");
  testing::expect_invalid_argument([&] { choose_crop_window(0, 10, {}, rng); }, prefix, "empty");
}

}  // namespace
}  // namespace conveyor::ops
