#include "conveyor/ops/geometry.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <set>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "errors.hpp"
#include "images.hpp"
#include "printers.hpp"

namespace conveyor::ops {
namespace {

using testing::identical;
using testing::mat_of;
using testing::noise_image;
using testing::tensor_of;

// An (h, w, 1) int32 image whose pixel at (y, x) holds y * 1000 + x: any window of it says
// where it was cut from.
Tensor coordinate_image(std::int64_t h, std::int64_t w) {
  Tensor t = Tensor::empty(DType::i32, {h, w, 1});
  auto* p = reinterpret_cast<std::int32_t*>(t.data());
  for (std::int64_t y = 0; y < h; ++y)
    for (std::int64_t x = 0; x < w; ++x) p[y * w + x] = static_cast<std::int32_t>(y * 1000 + x);
  return t;
}

std::int32_t at(const Tensor& t, std::int64_t y, std::int64_t x, std::int64_t c = 0) {
  const std::int64_t channels = t.ndim() == 3 ? t.shape()[2] : 1;
  return reinterpret_cast<const std::int32_t*>(t.contiguous().data())[(y * t.shape()[1] + x) * channels + c];
}

std::uint8_t pixel(const Tensor& t, std::int64_t y, std::int64_t x, std::int64_t c) {
  return *reinterpret_cast<const std::uint8_t*>(t.data() + y * t.strides()[0] + x * t.strides()[1] +
                                                c * t.strides()[2]);
}

int cv_flag(Interpolation interpolation) {
  switch (interpolation) {
    case Interpolation::nearest: return cv::INTER_NEAREST;
    case Interpolation::linear: return cv::INTER_LINEAR;
    case Interpolation::cubic: return cv::INTER_CUBIC;
    case Interpolation::area: return cv::INTER_AREA;
  }
  return -1;
}

// ---------------------------------------------------------------------------------------------
// resize: the same pixels as cv::resize, for every filter, size and channel count

using ResizeCase = std::tuple<Interpolation, std::array<std::int64_t, 2>, std::int64_t>;

class ResizeTest : public ::testing::TestWithParam<ResizeCase> {};

TEST_P(ResizeTest, MatchesOpenCvResize) {
  const auto [interpolation, size, channels] = GetParam();
  const Tensor img = noise_image(37, 53, channels, 7);
  const Tensor out = resize(img, size[0], size[1], interpolation);
  ASSERT_EQ(out.shape(), (Shape{size[0], size[1], channels}));
  ASSERT_EQ(out.dtype(), DType::u8);
  cv::Mat expected;
  cv::resize(mat_of(img), expected, cv::Size(static_cast<int>(size[1]), static_cast<int>(size[0])), 0, 0,
             cv_flag(interpolation));
  EXPECT_TRUE(identical(out, tensor_of(expected)));
}

TEST_P(ResizeTest, ResizesFloatImagesLikeOpenCv) {
  const auto [interpolation, size, channels] = GetParam();
  const Tensor img = testing::smooth_image(37, 53, channels);
  cv::Mat as_float;
  mat_of(img).convertTo(as_float, CV_32F, 1.0 / 255);
  Tensor input = Tensor::empty(DType::f32, img.shape());
  as_float.copyTo(mat_of(input, CV_32F));
  const Tensor out = resize(input, size[0], size[1], interpolation);
  ASSERT_EQ(out.dtype(), DType::f32);
  cv::Mat expected;
  cv::resize(as_float, expected, cv::Size(static_cast<int>(size[1]), static_cast<int>(size[0])), 0, 0,
             cv_flag(interpolation));
  EXPECT_EQ(cv::norm(mat_of(out, CV_32F), expected, cv::NORM_INF), 0.0);
}

INSTANTIATE_TEST_SUITE_P(FiltersSizesChannels, ResizeTest,
                         ::testing::Combine(::testing::Values(Interpolation::nearest, Interpolation::linear,
                                                              Interpolation::cubic, Interpolation::area),
                                            ::testing::Values(std::array<std::int64_t, 2>{16, 16},
                                                              std::array<std::int64_t, 2>{74, 106},
                                                              std::array<std::int64_t, 2>{1, 200}),
                                            ::testing::Values(1, 3, 4)));

TEST(ResizeTest, KeepsTheRankOfAnHwImage) {
  const Tensor img = noise_image(10, 12, 1).reshape({10, 12});
  EXPECT_EQ(resize(img, 5, 6, Interpolation::linear).shape(), (Shape{5, 6}));
}

TEST(ResizeTest, ReadsAStridedViewAsItsPixels) {
  const Tensor img = noise_image(40, 50, 3);
  const Tensor view = img.slice(0, 5, 30).slice(1, 7, 41);
  EXPECT_TRUE(identical(resize(view, 20, 20, Interpolation::cubic), resize(view.clone(), 20, 20, Interpolation::cubic)));
}

TEST(ResizeTest, RejectsAnEmptySizeAndUnsupportedDtypes) {
  const Tensor img = noise_image(10, 10, 3);
  EXPECT_THROW(resize(img, 0, 5, Interpolation::linear), std::invalid_argument);
  EXPECT_THROW(resize(Tensor::zeros(DType::i64, {4, 4, 1}), 2, 2, Interpolation::linear), std::invalid_argument);
  EXPECT_THROW(resize(Tensor::zeros(DType::u8, {0, 4, 1}), 2, 2, Interpolation::linear), std::invalid_argument);
  EXPECT_THROW(resize(Tensor::zeros(DType::u8, {4}), 2, 2, Interpolation::linear), std::invalid_argument);
  testing::expect_invalid_argument([&] { resize(img, -1, 5, Interpolation::linear); }, "conveyor: resize: ", "-1x5");
  testing::expect_invalid_argument([] { resize(Tensor::zeros(DType::i64, {4, 4, 1}), 2, 2, Interpolation::area); },
                                   "conveyor: resize: ", "int64");
}

TEST(ResizeShorterTest, ScalesTheShorterSideToSizeKeepingTheAspectRatio) {
  EXPECT_EQ(resize_shorter(noise_image(100, 200, 3), 50, Interpolation::linear).shape(), (Shape{50, 100, 3}));
  EXPECT_EQ(resize_shorter(noise_image(300, 120, 3), 60, Interpolation::linear).shape(), (Shape{150, 60, 3}));
  // 201 * 50 / 100 = 100.5 rounds half away from zero, as MindSpore's lround.
  EXPECT_EQ(resize_shorter(noise_image(201, 100, 1), 50, Interpolation::area).shape(), (Shape{101, 50, 1}));
  EXPECT_EQ(resize_shorter(noise_image(64, 64, 3), 32, Interpolation::linear).shape(), (Shape{32, 32, 3}));
  EXPECT_THROW(resize_shorter(noise_image(4, 4, 3), 0, Interpolation::linear), std::invalid_argument);
}

// ---------------------------------------------------------------------------------------------
// crop, center_crop, pad: exact copies

TEST(CropTest, CopiesExactlyTheWindow) {
  const Tensor img = coordinate_image(20, 30);
  const Tensor out = crop(img, 3, 4, 5, 6);
  ASSERT_EQ(out.shape(), (Shape{5, 6, 1}));
  for (std::int64_t y = 0; y < 5; ++y)
    for (std::int64_t x = 0; x < 6; ++x) EXPECT_EQ(at(out, y, x), (y + 3) * 1000 + x + 4);
  EXPECT_NE(out.data(), img.data());
}

TEST(CropTest, RejectsAWindowLeavingTheImage) {
  const Tensor img = coordinate_image(20, 30);
  EXPECT_THROW(crop(img, 16, 0, 5, 5), std::out_of_range);
  EXPECT_THROW(crop(img, 0, -1, 5, 5), std::out_of_range);
  EXPECT_THROW(crop(img, 0, 0, 0, 5), std::invalid_argument);
  EXPECT_NO_THROW(crop(img, 15, 25, 5, 5));
}

TEST(CenterCropTest, TakesTheCentralWindowRoundingDown) {
  const Tensor out = center_crop(coordinate_image(11, 10), 4, 5);
  ASSERT_EQ(out.shape(), (Shape{4, 5, 1}));
  EXPECT_EQ(at(out, 0, 0), 3 * 1000 + 2);  // top (11 - 4) / 2 = 3, left (10 - 5) / 2 = 2
}

TEST(CenterCropTest, ZeroPadsWhereTheCropIsLargerThanTheImage) {
  const Tensor img = noise_image(3, 4, 3, 5);
  const Tensor out = center_crop(img, 6, 7);  // pads 3 rows (2 top, 1 bottom), 3 columns (2 left, 1 right)
  ASSERT_EQ(out.shape(), (Shape{6, 7, 3}));
  for (std::int64_t y = 0; y < 6; ++y)
    for (std::int64_t x = 0; x < 7; ++x)
      for (std::int64_t c = 0; c < 3; ++c) {
        const bool inside = y >= 2 && y < 5 && x >= 2 && x < 6;
        EXPECT_EQ(pixel(out, y, x, c), inside ? pixel(img, y - 2, x - 2, c) : 0) << y << "," << x;
      }
}

TEST(CenterCropTest, PadsOneDimensionAndCropsTheOther) {
  const Tensor out = center_crop(coordinate_image(10, 3), 4, 6);  // crop rows 3..6, pad 3 columns: 2 left, 1 right
  ASSERT_EQ(out.shape(), (Shape{4, 6, 1}));
  EXPECT_EQ(at(out, 0, 0), 0);
  EXPECT_EQ(at(out, 0, 2), 3 * 1000 + 0);
  EXPECT_EQ(at(out, 3, 4), 6 * 1000 + 2);
  EXPECT_EQ(at(out, 3, 5), 0);
}

TEST(PadTest, SurroundsTheImageWithTheFillValue) {
  const Tensor img = coordinate_image(2, 3);
  const Tensor out = pad(img, 1, 2, 3, 0, -7.0);
  ASSERT_EQ(out.shape(), (Shape{5, 6, 1}));
  for (std::int64_t y = 0; y < 5; ++y)
    for (std::int64_t x = 0; x < 6; ++x) {
      const bool inside = y >= 1 && y < 3 && x >= 3;
      EXPECT_EQ(at(out, y, x), inside ? (y - 1) * 1000 + (x - 3) : -7);
    }
}

TEST(PadTest, ConvertsTheFillValueToTheDtype) {
  const Tensor out = pad(Tensor::zeros(DType::f32, {1, 1, 2}), 1, 0, 0, 0, 0.25);
  EXPECT_EQ(reinterpret_cast<const float*>(out.data())[0], 0.25f);
  const Tensor bytes = pad(Tensor::zeros(DType::u8, {1, 1}), 0, 0, 0, 1, 255.9);
  EXPECT_EQ(reinterpret_cast<const std::uint8_t*>(bytes.data())[1], 255);
}

TEST(PadTest, RejectsNegativePadding) {
  EXPECT_THROW(pad(noise_image(2, 2, 1), -1, 0, 0, 0, 0), std::invalid_argument);
}

// ---------------------------------------------------------------------------------------------
// flips: exact, for every dtype and channel count

using FlipCase = std::tuple<DType, std::int64_t>;

class FlipTest : public ::testing::TestWithParam<FlipCase> {};

// A (5, 7, channels) tensor of `dtype` whose bytes are all distinct-ish: a flip that moved the
// wrong bytes would show.
Tensor patterned(DType dtype, std::int64_t channels) {
  Tensor t = Tensor::empty(dtype, {5, 7, channels});
  auto* p = reinterpret_cast<std::uint8_t*>(t.data());
  for (std::size_t i = 0; i < t.nbytes(); ++i) p[i] = static_cast<std::uint8_t>(i * 7 + 3);
  return t;
}

// The bytes of element (y, x, c) of a contiguous tensor.
std::vector<std::uint8_t> element(const Tensor& t, std::int64_t y, std::int64_t x, std::int64_t c) {
  const auto item = static_cast<std::int64_t>(itemsize(t.dtype()));
  const auto* p = reinterpret_cast<const std::uint8_t*>(t.data()) +
                  ((y * t.shape()[1] + x) * t.shape()[2] + c) * item;
  return {p, p + item};
}

TEST_P(FlipTest, HorizontalFlipMirrorsColumnsExactly) {
  const auto [dtype, channels] = GetParam();
  const Tensor img = patterned(dtype, channels);
  const Tensor out = horizontal_flip(img);
  ASSERT_EQ(out.shape(), img.shape());
  for (std::int64_t y = 0; y < 5; ++y)
    for (std::int64_t x = 0; x < 7; ++x)
      for (std::int64_t c = 0; c < channels; ++c) EXPECT_EQ(element(out, y, x, c), element(img, y, 6 - x, c));
}

TEST_P(FlipTest, VerticalFlipMirrorsRowsExactly) {
  const auto [dtype, channels] = GetParam();
  const Tensor img = patterned(dtype, channels);
  const Tensor out = vertical_flip(img);
  for (std::int64_t y = 0; y < 5; ++y)
    for (std::int64_t x = 0; x < 7; ++x)
      for (std::int64_t c = 0; c < channels; ++c) EXPECT_EQ(element(out, y, x, c), element(img, 4 - y, x, c));
}

TEST_P(FlipTest, FlippingTwiceGivesTheImageBack) {
  const auto [dtype, channels] = GetParam();
  const Tensor img = patterned(dtype, channels);
  EXPECT_TRUE(identical(horizontal_flip(horizontal_flip(img)), img));
  EXPECT_TRUE(identical(vertical_flip(vertical_flip(img)), img));
}

INSTANTIATE_TEST_SUITE_P(DtypesChannels, FlipTest,
                         ::testing::Combine(::testing::Values(DType::u8, DType::i16, DType::f32, DType::f64,
                                                              DType::i64),
                                            ::testing::Values(1, 3, 4)));

TEST(FlipTest, FlipsAStridedView) {
  const Tensor img = noise_image(20, 20, 3);
  const Tensor view = img.slice(0, 2, 12).slice(1, 5, 15);
  EXPECT_TRUE(identical(horizontal_flip(view), horizontal_flip(view.clone())));
}

TEST(RandomFlipTest, FlipsAlwaysAtOneAndNeverAtZero) {
  const Tensor img = noise_image(6, 8, 3);
  detail::Rng rng(3);
  for (int i = 0; i < 20; ++i) {
    EXPECT_TRUE(identical(random_horizontal_flip(img, 1.0, rng), horizontal_flip(img)));
    EXPECT_TRUE(identical(random_vertical_flip(img, 1.0, rng), vertical_flip(img)));
    EXPECT_EQ(random_horizontal_flip(img, 0.0, rng).data(), img.data());  // unflipped: the input itself
    EXPECT_TRUE(identical(random_vertical_flip(img, 0.0, rng), img));
  }
}

TEST(RandomFlipTest, FlipsAboutAFractionPOfTheTime) {
  const Tensor img = noise_image(2, 2, 1);
  detail::Rng rng(11);
  int flipped = 0;
  for (int i = 0; i < 4000; ++i) flipped += random_horizontal_flip(img, 0.25, rng).data() != img.data();
  EXPECT_NEAR(flipped / 4000.0, 0.25, 0.03);
}

TEST(RandomFlipTest, SameSeedGivesTheSameFlips) {
  const Tensor img = noise_image(4, 4, 1);
  detail::Rng a(42);
  detail::Rng b(42);
  for (int i = 0; i < 100; ++i)
    EXPECT_TRUE(identical(random_vertical_flip(img, 0.5, a), random_vertical_flip(img, 0.5, b)));
}

TEST(RandomFlipTest, RejectsAProbabilityOutsideZeroToOne) {
  detail::Rng rng(1);
  EXPECT_THROW(random_horizontal_flip(noise_image(2, 2, 1), 1.5, rng), std::invalid_argument);
  EXPECT_THROW(random_vertical_flip(noise_image(2, 2, 1), -0.1, rng), std::invalid_argument);
}

// ---------------------------------------------------------------------------------------------
// random_crop

TEST(RandomCropTest, EveryCropIsAWindowOfTheImage) {
  const Tensor img = coordinate_image(30, 40);
  detail::Rng rng(5);
  std::set<std::int32_t> corners;
  for (int i = 0; i < 500; ++i) {
    const Tensor out = random_crop(img, 10, 12, {0, 0, 0, 0}, false, 0, rng);
    ASSERT_EQ(out.shape(), (Shape{10, 12, 1}));
    const std::int32_t corner = at(out, 0, 0);
    const std::int32_t top = corner / 1000;
    const std::int32_t left = corner % 1000;
    ASSERT_LE(top + 10, 30);
    ASSERT_LE(left + 12, 40);
    EXPECT_EQ(at(out, 9, 11), (top + 9) * 1000 + left + 11);
    corners.insert(corner);
  }
  EXPECT_GT(corners.size(), 100u);  // positions spread over the image
}

TEST(RandomCropTest, PadsFirstWithTheFillValue) {
  const Tensor img = noise_image(4, 4, 3, 9);
  detail::Rng rng(2);
  // Padded to 4+2+1 x 4+3+0 = 7x7 and cropped at 7x7: the padded image itself.
  const Tensor out = random_crop(img, 7, 7, {2, 1, 3, 0}, false, 200, rng);
  ASSERT_EQ(out.shape(), (Shape{7, 7, 3}));
  EXPECT_EQ(pixel(out, 0, 0, 0), 200);
  EXPECT_EQ(pixel(out, 6, 6, 2), 200);
  EXPECT_EQ(pixel(out, 2, 3, 1), pixel(img, 0, 0, 1));
  EXPECT_EQ(pixel(out, 5, 6, 2), pixel(img, 3, 3, 2));
}

TEST(RandomCropTest, PadIfNeededPadsBothSidesByTheShortfall) {
  const Tensor img = coordinate_image(5, 8);
  detail::Rng rng(8);
  std::set<std::int64_t> first_rows;
  for (int i = 0; i < 200; ++i) {
    // Rows fall 3 short of the crop: 3 are padded above and 3 below (11 rows), so the image's
    // first row lands on row 0, 1, 2 or 3 of the 8-row crop. Padding holds 255, no coordinate.
    const Tensor out = random_crop(img, 8, 8, {0, 0, 0, 0}, true, 255, rng);
    ASSERT_EQ(out.shape(), (Shape{8, 8, 1}));
    std::int64_t first = 0;
    while (first < 8 && at(out, first, 0) == 255) ++first;
    ASSERT_LE(first, 3);
    for (std::int64_t y = 0; y < 8; ++y)
      for (std::int64_t x = 0; x < 8; ++x) {
        const bool inside = y >= first && y < first + 5;
        ASSERT_EQ(at(out, y, x), inside ? (y - first) * 1000 + x : 255);
      }
    first_rows.insert(first);
  }
  EXPECT_EQ(first_rows.size(), 4u);
}

TEST(RandomCropTest, RejectsACropLargerThanTheImageWithoutPadding) {
  detail::Rng rng(1);
  EXPECT_THROW(random_crop(noise_image(5, 5, 3), 6, 5, {0, 0, 0, 0}, false, 0, rng), std::invalid_argument);
  EXPECT_THROW(random_crop(noise_image(5, 5, 3), 5, 5, {-1, 0, 0, 0}, false, 0, rng), std::invalid_argument);
}

TEST(RandomCropTest, SameSeedGivesTheSameCrops) {
  const Tensor img = noise_image(50, 60, 3);
  detail::Rng a(77);
  detail::Rng b(77);
  for (int i = 0; i < 50; ++i)
    EXPECT_TRUE(identical(random_crop(img, 20, 20, {1, 2, 3, 4}, false, 0, a),
                          random_crop(img, 20, 20, {1, 2, 3, 4}, false, 0, b)));
}

// ---------------------------------------------------------------------------------------------
// random_resized_crop: the window choose_crop_window draws, resized

class RandomResizedCropTest : public ::testing::TestWithParam<Interpolation> {};

TEST_P(RandomResizedCropTest, IsTheChosenWindowResized) {
  const Tensor img = noise_image(90, 120, 3, 4);
  const CropParams params;
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    detail::Rng rng(seed);
    detail::Rng replay(seed);
    const Tensor out = random_resized_crop(img, 32, 48, params, GetParam(), rng);
    const CropWindow w = choose_crop_window(90, 120, params, replay);
    const Tensor expected = resize(crop(img, w.top, w.left, w.height, w.width), 32, 48, GetParam());
    ASSERT_TRUE(identical(out, expected)) << "seed " << seed;
    EXPECT_EQ(rng.next(), replay.next()) << "the op draws exactly what choose_crop_window draws";
  }
}

INSTANTIATE_TEST_SUITE_P(Filters, RandomResizedCropTest,
                         ::testing::Values(Interpolation::nearest, Interpolation::linear, Interpolation::cubic,
                                           Interpolation::area));

TEST(RandomResizedCropTest, SameSeedGivesIdenticalOutputs) {
  const Tensor img = noise_image(64, 64, 3);
  detail::Rng a(123);
  detail::Rng b(123);
  for (int i = 0; i < 20; ++i)
    EXPECT_TRUE(identical(random_resized_crop(img, 16, 16, {}, Interpolation::linear, a),
                          random_resized_crop(img, 16, 16, {}, Interpolation::linear, b)));
}

}  // namespace
}  // namespace conveyor::ops
