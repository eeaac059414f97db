#include "conveyor/ops/layout.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <stdexcept>
#include <tuple>
#include <vector>

#include "errors.hpp"
#include "printers.hpp"

namespace conveyor::ops {
namespace {

template <class T>
std::vector<T> elements(const Tensor& t) {
  const Tensor c = t.contiguous();
  std::vector<T> values(static_cast<std::size_t>(c.numel()));
  if (!values.empty()) std::memcpy(values.data(), c.data(), c.nbytes());
  return values;
}

template <class T>
Tensor tensor(std::vector<T> values, Shape shape = {}) {
  return Tensor::copy_of<T>(std::span<const T>(values), std::move(shape));
}

// ---------------------------------------------------------------------------------------------
// hwc2chw

using Hwc2ChwCase = std::tuple<DType, std::int64_t>;

class Hwc2ChwTest : public ::testing::TestWithParam<Hwc2ChwCase> {};

TEST_P(Hwc2ChwTest, MovesEveryElementToItsPlane) {
  const auto [dtype, channels] = GetParam();
  const std::int64_t h = 5;
  const std::int64_t w = 7;
  Tensor img = Tensor::empty(dtype, {h, w, channels});
  auto* bytes = reinterpret_cast<std::uint8_t*>(img.data());
  for (std::size_t i = 0; i < img.nbytes(); ++i) bytes[i] = static_cast<std::uint8_t>(i * 13 + 1);
  const Tensor out = hwc2chw(img);
  ASSERT_EQ(out.shape(), (Shape{channels, h, w}));
  ASSERT_EQ(out.dtype(), dtype);
  ASSERT_TRUE(out.is_contiguous());
  const auto item = static_cast<std::int64_t>(itemsize(dtype));
  for (std::int64_t c = 0; c < channels; ++c)
    for (std::int64_t y = 0; y < h; ++y)
      for (std::int64_t x = 0; x < w; ++x)
        ASSERT_EQ(std::memcmp(out.data() + ((c * h + y) * w + x) * item, img.data() + ((y * w + x) * channels + c) * item,
                              static_cast<std::size_t>(item)),
                  0);
}

INSTANTIATE_TEST_SUITE_P(DtypesChannels, Hwc2ChwTest,
                         ::testing::Combine(::testing::Values(DType::u8, DType::boolean, DType::i16, DType::f32,
                                                              DType::i64, DType::f64),
                                            ::testing::Values(1, 3, 4, 7)));

TEST(Hwc2ChwTest, ReadsAStridedView) {
  Tensor img = Tensor::empty(DType::u8, {6, 6, 3});
  for (std::int64_t i = 0; i < img.numel(); ++i) reinterpret_cast<std::uint8_t*>(img.data())[i] = static_cast<std::uint8_t>(i);
  const Tensor view = img.slice(0, 1, 5).slice(1, 2, 6);
  EXPECT_EQ(elements<std::uint8_t>(hwc2chw(view)), elements<std::uint8_t>(view.transpose({2, 0, 1})));
}

TEST(Hwc2ChwTest, HandlesMoreChannelsThanOpenCvCanHold) {
  Tensor img = Tensor::empty(DType::u16, {2, 3, 600});
  for (std::int64_t i = 0; i < img.numel(); ++i) reinterpret_cast<std::uint16_t*>(img.data())[i] = static_cast<std::uint16_t>(i);
  EXPECT_EQ(elements<std::uint16_t>(hwc2chw(img)), elements<std::uint16_t>(img.transpose({2, 0, 1})));
}

TEST(Hwc2ChwTest, CopiesAnHwTensorUnchanged) {
  const Tensor img = tensor<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  const Tensor out = hwc2chw(img);
  EXPECT_EQ(out.shape(), (Shape{2, 3}));
  EXPECT_EQ(elements<float>(out), elements<float>(img));
  EXPECT_NE(out.data(), img.data());
}

TEST(Hwc2ChwTest, RejectsOtherRanks) {
  testing::expect_invalid_argument([] { hwc2chw(Tensor::zeros(DType::u8, {2, 2, 2, 2})); }, "conveyor: hwc2chw: ");
}

// ---------------------------------------------------------------------------------------------
// type_cast

TEST(TypeCastTest, TruncatesFloatsTowardZeroLikeNumPy) {
  const Tensor out = type_cast(tensor<float>({-1.7f, -0.5f, 0.5f, 2.9f, 100.99f}), DType::i32);
  EXPECT_EQ(out.dtype(), DType::i32);
  EXPECT_EQ(elements<std::int32_t>(out), (std::vector<std::int32_t>{-1, 0, 0, 2, 100}));
}

TEST(TypeCastTest, WrapsIntegersLikeNumPy) {
  EXPECT_EQ(elements<std::uint8_t>(type_cast(tensor<std::int32_t>({300, -1, 256}), DType::u8)),
            (std::vector<std::uint8_t>{44, 255, 0}));
  EXPECT_EQ(elements<std::int8_t>(type_cast(tensor<std::uint8_t>({200, 127}), DType::i8)),
            (std::vector<std::int8_t>{-56, 127}));
}

TEST(TypeCastTest, MapsNonZeroToTrueAndBoolToZeroOrOne) {
  const Tensor flags = type_cast(tensor<double>({0.0, -0.0, 0.25, std::nan("")}), DType::boolean);
  EXPECT_EQ(flags.dtype(), DType::boolean);
  EXPECT_EQ(elements<std::uint8_t>(flags), (std::vector<std::uint8_t>{0, 0, 1, 1}));
  EXPECT_EQ(elements<float>(type_cast(flags, DType::f32)), (std::vector<float>{0.0f, 0.0f, 1.0f, 1.0f}));
}

TEST(TypeCastTest, SaturatesOutOfRangeFloatsAndZeroesNaN) {
  EXPECT_EQ(elements<std::int32_t>(type_cast(tensor<double>({1e20, -1e20, std::nan("")}), DType::i32)),
            (std::vector<std::int32_t>{std::numeric_limits<std::int32_t>::max(),
                                       std::numeric_limits<std::int32_t>::min(), 0}));
}

TEST(TypeCastTest, ConvertsToAndFromHalfPrecision) {
  const Tensor half = type_cast(tensor<float>({1.5f, -2.0f, 65504.0f}), DType::f16);
  EXPECT_EQ(half.dtype(), DType::f16);
  EXPECT_EQ(elements<std::uint16_t>(half), (std::vector<std::uint16_t>{0x3E00, 0xC000, 0x7BFF}));
  EXPECT_EQ(elements<double>(type_cast(half, DType::f64)), (std::vector<double>{1.5, -2.0, 65504.0}));
}

TEST(TypeCastTest, KeepsLargeIntegersExact) {
  const std::uint64_t big = (std::uint64_t{1} << 63) + 12345;
  EXPECT_EQ(elements<std::uint64_t>(type_cast(type_cast(tensor<std::uint64_t>({big}), DType::i64), DType::u64)),
            (std::vector<std::uint64_t>{big}));
}

TEST(TypeCastTest, KeepsTheShapeOfAView) {
  const Tensor t = tensor<std::int16_t>({1, 2, 3, 4, 5, 6}, {2, 3}).transpose();
  const Tensor out = type_cast(t, DType::f32);
  EXPECT_EQ(out.shape(), (Shape{3, 2}));
  EXPECT_EQ(elements<float>(out), (std::vector<float>{1, 4, 2, 5, 3, 6}));
}

TEST(TypeCastTest, RejectsBytes) {
  testing::expect_invalid_argument([] { type_cast(Tensor::bytes("abc"), DType::u8); }, "conveyor: type_cast: ", "bytes");
  testing::expect_invalid_argument([] { type_cast(tensor<float>({1}), DType::bytes); }, "conveyor: type_cast: ");
}

class TypeCastRoundTripTest : public ::testing::TestWithParam<std::tuple<DType, DType>> {};

TEST_P(TypeCastRoundTripTest, SmallNonNegativeIntegersSurviveEveryPairOfDtypes) {
  const auto [from, to] = GetParam();
  const Tensor source = type_cast(tensor<std::int32_t>({0, 1, 7, 100, 127}), from);
  const Tensor back = type_cast(type_cast(source, to), DType::i32);
  const auto expected = to == DType::boolean || from == DType::boolean ? std::vector<std::int32_t>{0, 1, 1, 1, 1}
                                                                        : std::vector<std::int32_t>{0, 1, 7, 100, 127};
  EXPECT_EQ(elements<std::int32_t>(back), expected);
}

const auto kNumeric = ::testing::Values(DType::boolean, DType::u8, DType::i8, DType::u16, DType::i16, DType::u32,
                                        DType::i32, DType::u64, DType::i64, DType::f16, DType::f32, DType::f64);
INSTANTIATE_TEST_SUITE_P(AllNumericPairs, TypeCastRoundTripTest, ::testing::Combine(kNumeric, kNumeric));

// ---------------------------------------------------------------------------------------------
// one_hot

TEST(OneHotTest, SetsTheLabelsIndexInEachRow) {
  const Tensor out = one_hot(tensor<std::int32_t>({2, 0, 1}), 4);
  EXPECT_EQ(out.dtype(), DType::i64);
  EXPECT_EQ(out.shape(), (Shape{3, 4}));
  EXPECT_EQ(elements<std::int64_t>(out), (std::vector<std::int64_t>{0, 0, 1, 0, 1, 0, 0, 0, 0, 1, 0, 0}));
}

TEST(OneHotTest, EncodesAScalarLabelAsOneVector) {
  const Tensor out = one_hot(Tensor::scalar<std::uint8_t>(3), 5);
  EXPECT_EQ(out.shape(), (Shape{5}));
  EXPECT_EQ(elements<std::int64_t>(out), (std::vector<std::int64_t>{0, 0, 0, 1, 0}));
}

class OneHotDtypeTest : public ::testing::TestWithParam<DType> {};

TEST_P(OneHotDtypeTest, AcceptsEveryIntegerDtype) {
  const Tensor labels = type_cast(tensor<std::int32_t>({1, 0}, {2, 1}), GetParam());
  const Tensor out = one_hot(labels, 2);
  EXPECT_EQ(out.shape(), (Shape{2, 1, 2}));
  EXPECT_EQ(elements<std::int64_t>(out), (std::vector<std::int64_t>{0, 1, 1, 0}));
}

INSTANTIATE_TEST_SUITE_P(IntegerDtypes, OneHotDtypeTest,
                         ::testing::Values(DType::u8, DType::i8, DType::u16, DType::i16, DType::u32, DType::i32,
                                           DType::u64, DType::i64));

TEST(OneHotTest, NamesTheLabelOutOfRange) {
  testing::expect_invalid_argument([] { one_hot(tensor<std::int64_t>({1, 12}), 10); }, "conveyor: one_hot: ",
                                   "label 12 is out of range [0, 10)");
  testing::expect_invalid_argument([] { one_hot(tensor<std::int8_t>({-1}), 10); }, "conveyor: one_hot: ", "label -1");
  testing::expect_invalid_argument([] { one_hot(tensor<std::uint64_t>({~std::uint64_t{0}}), 10); }, "conveyor: one_hot: ",
                                   "out of range");
}

TEST(OneHotTest, RejectsFloatLabelsAndNoClasses) {
  testing::expect_invalid_argument([] { one_hot(tensor<float>({1.0f}), 3); }, "conveyor: one_hot: ", "integers");
  testing::expect_invalid_argument([] { one_hot(tensor<std::int32_t>({0}), 0); }, "conveyor: one_hot: ", "num_classes");
}

// ---------------------------------------------------------------------------------------------
// fill

TEST(FillTest, MakesANewTensorOfTheSameShapeAndDtype) {
  const Tensor t = tensor<std::int16_t>({1, 2, 3, 4, 5, 6}, {3, 2});
  const Tensor out = fill(t, 9.0);
  EXPECT_EQ(out.shape(), t.shape());
  EXPECT_EQ(out.dtype(), DType::i16);
  EXPECT_EQ(elements<std::int16_t>(out), (std::vector<std::int16_t>(6, 9)));
  EXPECT_EQ(elements<std::int16_t>(t), (std::vector<std::int16_t>{1, 2, 3, 4, 5, 6}));
}

TEST(FillTest, ConvertsTheValueAsTypeCastDoes) {
  EXPECT_EQ(elements<std::uint8_t>(fill(Tensor::zeros(DType::u8, {2}), 3.9)), (std::vector<std::uint8_t>{3, 3}));
  EXPECT_EQ(elements<float>(fill(Tensor::zeros(DType::f32, {1}), 0.1)), (std::vector<float>{0.1f}));
  EXPECT_EQ(elements<std::uint8_t>(fill(Tensor::zeros(DType::boolean, {1}), 2.0)), (std::vector<std::uint8_t>{1}));
}

TEST(FillTest, RejectsBytes) {
  testing::expect_invalid_argument([] { fill(Tensor::bytes("xy"), 1.0); }, "conveyor: fill: ");
}

}  // namespace
}  // namespace conveyor::ops
