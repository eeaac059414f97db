#include "conveyor/tensor.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

namespace conveyor {
namespace {

// A contiguous int32 tensor of `shape` holding 0, 1, 2, ... in C order.
Tensor arange(Shape shape) {
  const auto count = std::accumulate(shape.begin(), shape.end(), std::int64_t{1}, std::multiplies<>());
  std::vector<std::int32_t> values(static_cast<std::size_t>(count));
  std::iota(values.begin(), values.end(), 0);
  return Tensor::copy_of<std::int32_t>(values, std::move(shape));
}

// The int32 elements of `t` in C order, read through copy_to.
std::vector<std::int32_t> elements(const Tensor& t) {
  std::vector<std::int32_t> values(static_cast<std::size_t>(t.numel()));
  t.copy_to(reinterpret_cast<std::byte*>(values.data()));
  return values;
}

// The int32 element of `t` at `index`, found through the byte strides alone (not view<T>()).
std::int32_t& at(const Tensor& t, std::initializer_list<std::int64_t> index) {
  std::byte* p = t.data();
  std::size_t axis = 0;
  for (std::int64_t i : index) p += i * t.strides()[axis++];
  return *reinterpret_cast<std::int32_t*>(p);
}

bool is_aligned(const Tensor& t) { return reinterpret_cast<std::uintptr_t>(t.data()) % 64 == 0; }

// ---------------------------------------------------------------------------------------------
// Views share memory

TEST(TensorTest, CopyingAHandleSharesTheBuffer) {
  const Tensor a = arange({2, 3});
  const Tensor b = a;  // NOLINT(performance-unnecessary-copy-initialization): copying is the point
  EXPECT_EQ(b.data(), a.data());
  EXPECT_EQ(b.owner(), a.owner());
}

TEST(TensorTest, DefaultTensorIsUndefined) {
  EXPECT_FALSE(Tensor().defined());
  EXPECT_TRUE(Tensor::scalar(1.0f).defined());
}

TEST(TensorTest, WritingThroughASliceChangesTheParent) {
  const Tensor t = arange({4, 6});
  const Tensor columns = t.slice(1, 1, 5, 2);  // columns 1 and 3
  at(columns, {2, 1}) = -1;
  EXPECT_EQ(at(t, {2, 3}), -1);
  EXPECT_EQ(columns.owner(), t.owner());
}

// xtensor 0.24's strided adaptors throw "xbuffer_storage not resizable" when their storage is not
// numel() long, as in any view with gaps; view<T>() must see through the strides instead.
TEST(TensorTest, TypedViewOfASteppedSliceFollowsItsStrides) {
  const Tensor t = arange({4, 6});
  const Tensor columns = t.slice(1, 1, 5, 2);
  EXPECT_EQ(columns.view<std::int32_t>()(2, 1), 15);
  columns.view<std::int32_t>().fill(-1);
  EXPECT_EQ(elements(t)[0], 0);
  EXPECT_EQ(elements(t)[1], -1);
  EXPECT_EQ(elements(t)[2], 2);
}

TEST(TensorTest, WritingThroughASelectChangesTheParent) {
  const Tensor t = arange({3, 4});
  t[1].view<std::int32_t>().fill(7);
  EXPECT_EQ(elements(t), (std::vector<std::int32_t>{0, 1, 2, 3, 7, 7, 7, 7, 8, 9, 10, 11}));
}

TEST(TensorTest, WritingThroughATransposeChangesTheParent) {
  const Tensor t = arange({3, 5});
  t.transpose().view<std::int32_t>()(4, 2) = -5;
  EXPECT_EQ(t.view<std::int32_t>()(2, 4), -5);
}

TEST(TensorTest, WritingThroughAReshapeChangesTheParent) {
  const Tensor t = arange({2, 6});
  const Tensor reshaped = t.reshape({3, 4});
  reshaped.view<std::int32_t>()(2, 0) = -8;
  EXPECT_EQ(t.view<std::int32_t>()(1, 2), -8);
  EXPECT_EQ(reshaped.data(), t.data());
}

// ---------------------------------------------------------------------------------------------
// Shapes and strides of views

TEST(TensorTest, SliceOffsetsTheDataAndMultipliesTheStrideByTheStep) {
  const Tensor t = Tensor::empty(DType::f32, {4, 6});
  ASSERT_EQ(t.strides(), (Strides{24, 4}));

  const Tensor columns = t.slice(1, 1, 6, 2);
  EXPECT_EQ(columns.shape(), (Shape{4, 3}));
  EXPECT_EQ(columns.strides(), (Strides{24, 8}));
  EXPECT_EQ(columns.data(), t.data() + 4);
  EXPECT_FALSE(columns.is_contiguous());

  const Tensor rows = t.slice(0, 1, 4, 2);
  EXPECT_EQ(rows.shape(), (Shape{2, 6}));
  EXPECT_EQ(rows.strides(), (Strides{48, 4}));
  EXPECT_EQ(rows.data(), t.data() + 24);
}

TEST(TensorTest, SliceOfAnEmptyRangeHasZeroExtent) {
  const Tensor t = Tensor::empty(DType::f32, {4, 6});
  EXPECT_EQ(t.slice(1, 3, 3).shape(), (Shape{4, 0}));
  EXPECT_EQ(t.slice(1, 3, 3).numel(), 0);
}

TEST(TensorTest, SelectDropsTheAxis) {
  const Tensor t = Tensor::empty(DType::i16, {2, 3, 4});
  const Tensor middle = t.select(1, 2);
  EXPECT_EQ(middle.shape(), (Shape{2, 4}));
  EXPECT_EQ(middle.strides(), (Strides{24, 2}));
  EXPECT_EQ(middle.data(), t.data() + 16);
}

TEST(TensorTest, TransposeReversesTheAxesByDefault) {
  const Tensor t = Tensor::empty(DType::i16, {2, 3, 4});
  const Tensor reversed = t.transpose();
  EXPECT_EQ(reversed.shape(), (Shape{4, 3, 2}));
  EXPECT_EQ(reversed.strides(), (Strides{2, 8, 24}));
  EXPECT_EQ(reversed.data(), t.data());
}

TEST(TensorTest, TransposePermutesShapeAndStrides) {
  const Tensor t = Tensor::empty(DType::i16, {2, 3, 4});
  const Tensor permuted = t.transpose({1, 2, 0});
  EXPECT_EQ(permuted.shape(), (Shape{3, 4, 2}));
  EXPECT_EQ(permuted.strides(), (Strides{8, 2, 24}));
}

TEST(TensorTest, TransposeRejectsANonPermutation) {
  const Tensor t = Tensor::empty(DType::i16, {2, 3});
  EXPECT_THROW(t.transpose({0, 0}), std::invalid_argument);
  EXPECT_THROW(t.transpose({0, 1, 2}), std::invalid_argument);
}

// ---------------------------------------------------------------------------------------------
// Copies

TEST(TensorTest, ContiguousReturnsTheSameBufferWhenAlreadyContiguous) {
  const Tensor t = arange({4, 6});
  EXPECT_EQ(t.contiguous().data(), t.data());
  const Tensor rows = t.slice(0, 1, 3);
  ASSERT_TRUE(rows.is_contiguous());
  EXPECT_EQ(rows.contiguous().data(), rows.data());
}

TEST(TensorTest, ContiguousCopiesANonContiguousTensorInCOrder) {
  const Tensor transposed = arange({2, 3}).transpose();
  const Tensor copy = transposed.contiguous();
  EXPECT_NE(copy.data(), transposed.data());
  EXPECT_TRUE(copy.is_contiguous());
  EXPECT_EQ(copy.shape(), (Shape{3, 2}));
  EXPECT_EQ(elements(copy), (std::vector<std::int32_t>{0, 3, 1, 4, 2, 5}));
}

TEST(TensorTest, CloneNeverSharesTheBuffer) {
  const Tensor t = arange({2, 3});
  const Tensor copy = t.clone();
  EXPECT_NE(copy.data(), t.data());
  EXPECT_NE(copy.owner(), t.owner());
  copy.view<std::int32_t>().fill(9);
  EXPECT_EQ(elements(t), (std::vector<std::int32_t>{0, 1, 2, 3, 4, 5}));
}

TEST(TensorTest, CopyToWritesATransposedTensorInCOrder) {
  EXPECT_EQ(elements(arange({2, 3}).transpose()), (std::vector<std::int32_t>{0, 3, 1, 4, 2, 5}));
  EXPECT_EQ(elements(arange({2, 2, 2}).transpose({0, 2, 1})), (std::vector<std::int32_t>{0, 2, 1, 3, 4, 6, 5, 7}));
}

TEST(TensorTest, CopyToWritesASlicedTensorInCOrder) {
  EXPECT_EQ(elements(arange({3, 4}).slice(1, 0, 4, 2)), (std::vector<std::int32_t>{0, 2, 4, 6, 8, 10}));
  EXPECT_EQ(elements(arange({2, 3, 2}).slice(1, 1, 3)), (std::vector<std::int32_t>{2, 3, 4, 5, 8, 9, 10, 11}));
  EXPECT_EQ(elements(arange({5}).slice(0, 1, 5, 3)), (std::vector<std::int32_t>{1, 4}));
}

TEST(TensorTest, CopyOfRejectsAShapeOfAnotherSize) {
  const std::vector<float> values(5);
  EXPECT_THROW(Tensor::copy_of<float>(values, {2, 3}), std::invalid_argument);
}

// ---------------------------------------------------------------------------------------------
// Reshape

TEST(TensorTest, ReshapeInfersTheExtentMarkedMinusOne) {
  const Tensor t = arange({2, 3, 4});
  EXPECT_EQ(t.reshape({-1, 4}).shape(), (Shape{6, 4}));
  EXPECT_EQ(t.reshape({-1, 4}).strides(), (Strides{16, 4}));
  EXPECT_EQ(t.reshape({4, -1}).shape(), (Shape{4, 6}));
  EXPECT_EQ(t.reshape({-1}).shape(), (Shape{24}));
  EXPECT_EQ(elements(t.reshape({4, -1})), elements(t));
}

TEST(TensorTest, ReshapeToAnotherElementCountThrowsInvalidArgument) {
  const Tensor t = arange({2, 3, 4});
  EXPECT_THROW(t.reshape({5, 5}), std::invalid_argument);
  EXPECT_THROW(t.reshape({-1, 5}), std::invalid_argument);
  EXPECT_THROW(t.reshape({-1, -1}), std::invalid_argument);
}

TEST(TensorTest, ReshapeOfANonContiguousTensorThrowsInvalidArgument) {
  const Tensor t = arange({2, 3});
  EXPECT_THROW(t.transpose().reshape({6}), std::invalid_argument);
  EXPECT_THROW(t.slice(1, 0, 3, 2).reshape({4}), std::invalid_argument);
  EXPECT_NO_THROW(t.transpose().contiguous().reshape({6}));
}

// ---------------------------------------------------------------------------------------------
// Typed access

TEST(TensorTest, ViewWithTheWrongDtypeThrowsNamingBothDtypes) {
  const Tensor t = Tensor::empty(DType::f32, {2});
  try {
    (void)t.view<std::int64_t>();
    ADD_FAILURE() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    EXPECT_TRUE(what.starts_with("conveyor: ")) << what;
    EXPECT_NE(what.find("float32"), std::string::npos) << what;
    EXPECT_NE(what.find("int64"), std::string::npos) << what;
  }
}

TEST(TensorTest, ItemReadsTheOnlyElement) {
  EXPECT_EQ(Tensor::scalar(3.5).item<double>(), 3.5);
  EXPECT_EQ(Tensor::scalar(std::int64_t{-7}).item<std::int64_t>(), -7);
  EXPECT_EQ(arange({1, 1}).item<std::int32_t>(), 0);
  EXPECT_EQ(arange({2, 3}).select(1, 2).select(0, 1).item<std::int32_t>(), 5);
}

TEST(TensorTest, ItemOfSeveralElementsOrTheWrongDtypeThrowsInvalidArgument) {
  EXPECT_THROW((void)arange({2}).item<std::int32_t>(), std::invalid_argument);
  EXPECT_THROW((void)Tensor::zeros(DType::i32, {0}).item<std::int32_t>(), std::invalid_argument);
  EXPECT_THROW((void)Tensor::scalar(1.0f).item<double>(), std::invalid_argument);
}

TEST(TensorTest, TextReturnsTheBytesWithoutCopying) {
  const Tensor b = Tensor::bytes("hello");
  EXPECT_EQ(b.dtype(), DType::bytes);
  EXPECT_EQ(b.text(), "hello");
  EXPECT_EQ(static_cast<const void*>(b.text().data()), static_cast<const void*>(b.data()));
  EXPECT_EQ(Tensor::bytes("").text(), "");
  const std::vector<std::uint8_t> letters{'a', 'b', 'c'};
  EXPECT_EQ(Tensor::copy_of<std::uint8_t>(letters).text(), "abc");
}

TEST(TensorTest, TextOfAnythingButContiguous1DBytesThrowsInvalidArgument) {
  EXPECT_THROW((void)Tensor::empty(DType::f32, {4}).text(), std::invalid_argument);
  EXPECT_THROW((void)Tensor::empty(DType::u8, {2, 2}).text(), std::invalid_argument);
  EXPECT_THROW((void)Tensor::bytes("hello").slice(0, 0, 5, 2).text(), std::invalid_argument);
}

// ---------------------------------------------------------------------------------------------
// Bounds

struct BadSlice {
  const char* name;
  std::size_t axis;
  std::int64_t start, stop, step;
};

class TensorBadSliceTest : public ::testing::TestWithParam<BadSlice> {};

TEST_P(TensorBadSliceTest, ThrowsOutOfRange) {
  const BadSlice& bad = GetParam();
  EXPECT_THROW(Tensor::empty(DType::f32, {4, 6}).slice(bad.axis, bad.start, bad.stop, bad.step), std::out_of_range);
}

INSTANTIATE_TEST_SUITE_P(Slices, TensorBadSliceTest,
                         ::testing::Values(BadSlice{"StopPastTheEnd", 1, 0, 7, 1},
                                           BadSlice{"NegativeStart", 0, -1, 2, 1},
                                           BadSlice{"StartAfterStop", 0, 3, 2, 1},
                                           BadSlice{"ZeroStep", 0, 0, 2, 0},
                                           BadSlice{"NegativeStep", 0, 0, 2, -1},
                                           BadSlice{"AxisPastTheLast", 2, 0, 1, 1}),
                         [](const ::testing::TestParamInfo<BadSlice>& info) { return info.param.name; });

TEST(TensorTest, SelectOutOfRangeThrowsOutOfRange) {
  const Tensor t = Tensor::empty(DType::f32, {4, 6});
  EXPECT_THROW(t[4], std::out_of_range);
  EXPECT_THROW(t[-1], std::out_of_range);
  EXPECT_THROW(t.select(2, 0), std::out_of_range);
  EXPECT_THROW(Tensor::scalar(1.0f)[0], std::out_of_range);
}

// ---------------------------------------------------------------------------------------------
// Allocation: sizes and 64-byte alignment

class TensorAllocationTest : public ::testing::TestWithParam<std::tuple<Shape, DType>> {
 protected:
  const Shape& shape() const { return std::get<0>(GetParam()); }
  DType dtype() const { return std::get<1>(GetParam()); }
  std::int64_t expected_numel() const {
    return std::accumulate(shape().begin(), shape().end(), std::int64_t{1}, std::multiplies<>());
  }
};

TEST_P(TensorAllocationTest, EmptyIsAlignedAndSized) {
  const Tensor t = Tensor::empty(dtype(), shape());
  EXPECT_TRUE(is_aligned(t));
  EXPECT_EQ(t.shape(), shape());
  EXPECT_EQ(t.strides(), contiguous_strides(shape(), dtype()));
  EXPECT_EQ(t.numel(), expected_numel());
  EXPECT_EQ(t.nbytes(), static_cast<std::size_t>(expected_numel()) * itemsize(dtype()));
}

TEST_P(TensorAllocationTest, ZerosIsAlignedAndZeroed) {
  const Tensor t = Tensor::zeros(dtype(), shape());
  EXPECT_TRUE(is_aligned(t));
  EXPECT_TRUE(std::all_of(t.data(), t.data() + t.nbytes(), [](std::byte b) { return b == std::byte{0}; }));
}

INSTANTIATE_TEST_SUITE_P(Shapes, TensorAllocationTest,
                         ::testing::Combine(::testing::Values(Shape{}, Shape{0}, Shape{1}, Shape{3}, Shape{7, 5},
                                                              Shape{2, 3, 4}, Shape{3, 0}, Shape{1, 0, 3},
                                                              Shape{64}, Shape{1000}, Shape{17, 1, 9}),
                                            ::testing::Values(DType::u8, DType::i16, DType::f16, DType::f32,
                                                              DType::f64, DType::bytes)));

class TensorBytesTest : public ::testing::TestWithParam<std::size_t> {};

TEST_P(TensorBytesTest, BytesAreAlignedAndHoldTheText) {
  const std::string text(GetParam(), 'x');
  const Tensor t = Tensor::bytes(text);
  EXPECT_TRUE(is_aligned(t));
  EXPECT_EQ(t.shape(), (Shape{static_cast<std::int64_t>(text.size())}));
  EXPECT_EQ(t.text(), text);
}

INSTANTIATE_TEST_SUITE_P(Lengths, TensorBytesTest, ::testing::Values(0, 1, 63, 64, 65, 1000));

TEST(TensorTest, ScalarsAreAlignedZeroDimensionalSingleElements) {
  for (const Tensor& t : {Tensor::scalar(true), Tensor::scalar(std::uint8_t{1}), Tensor::scalar(std::int16_t{2}),
                          Tensor::scalar(3.0f), Tensor::scalar(4.0), Tensor::scalar(std::uint64_t{5})}) {
    EXPECT_TRUE(is_aligned(t));
    EXPECT_EQ(t.ndim(), 0u);
    EXPECT_EQ(t.numel(), 1);
    EXPECT_EQ(t.nbytes(), itemsize(t.dtype()));
  }
}

TEST(TensorTest, ZeroExtentShapesHaveNoElementsAndNoBytes) {
  const Tensor t = Tensor::empty(DType::f64, {3, 0, 5});
  EXPECT_EQ(t.numel(), 0);
  EXPECT_EQ(t.nbytes(), 0u);
  EXPECT_TRUE(elements(Tensor::zeros(DType::i32, {0, 4})).empty());
}

TEST(TensorTest, ZeroExtentTensorsAreContiguousAndReshapeWithoutCopying) {
  const Tensor t = Tensor::empty(DType::f32, {3, 0});
  EXPECT_TRUE(t.is_contiguous());
  EXPECT_EQ(t.contiguous().data(), t.data());
  EXPECT_EQ(t.reshape({0, 7}).shape(), (Shape{0, 7}));
}

TEST(TensorTest, ReshapeRejectsNegativeExtentsOtherThanOneMinusOne) {
  const Tensor t = arange({6});
  EXPECT_THROW(t.reshape({-2, -3}), std::invalid_argument);
  EXPECT_THROW(t.reshape({-1, -1}), std::invalid_argument);
}

TEST(TensorTest, EmptyInputsMakeEmptyTensors) {
  EXPECT_EQ(Tensor::bytes("").numel(), 0);
  EXPECT_EQ(Tensor::copy_of<float>(std::span<const float>{}).shape(), (Shape{0}));
}

TEST(TensorTest, NegativeExtentThrowsInvalidArgument) {
  EXPECT_THROW(Tensor::empty(DType::f32, {2, -1}), std::invalid_argument);
}

TEST(TensorTest, ToStringPrintsTheShapeAsNumPyDoes) {
  EXPECT_EQ(to_string({3, 32, 32}), "(3, 32, 32)");
  EXPECT_EQ(to_string({5}), "(5,)");
  EXPECT_EQ(to_string({}), "()");
}

// ---------------------------------------------------------------------------------------------
// Foreign memory

TEST(TensorTest, AViewKeepsForeignMemoryAliveAfterItsParentIsGone) {
  std::vector<float> storage(12);
  storage[4] = 42;
  bool released = false;
  Tensor row;
  {
    const Tensor parent = Tensor::from_memory(storage.data(), DType::f32, {3, 4}, {},
                                              std::shared_ptr<void>(storage.data(), [&released](void*) {
                                                released = true;
                                              }));
    row = parent[1];
  }
  EXPECT_FALSE(released);
  EXPECT_EQ(row.view<float>()(0), 42.0f);  // no copy was made
  Tensor reshaped = row.reshape({2, 2});
  row = Tensor();
  EXPECT_FALSE(released);
  reshaped = Tensor();
  EXPECT_TRUE(released);
}

TEST(TensorTest, FromMemoryUsesTheGivenStrides) {
  std::vector<std::int32_t> storage(12);
  std::iota(storage.begin(), storage.end(), 0);
  // Column 1 of a row-major 3x4 matrix.
  const Tensor column = Tensor::from_memory(storage.data() + 1, DType::i32, {3}, {16}, nullptr);
  EXPECT_EQ(elements(column), (std::vector<std::int32_t>{1, 5, 9}));
}

TEST(TensorTest, FromMemoryRejectsStridesThatAreNotAMultipleOfTheItemSize) {
  std::vector<float> storage(8);
  EXPECT_THROW(Tensor::from_memory(storage.data(), DType::f32, {2}, {6}, nullptr), std::invalid_argument);
  EXPECT_THROW(Tensor::from_memory(storage.data(), DType::f32, {2, 2}, {8, 2}, nullptr), std::invalid_argument);
}

TEST(TensorTest, FromMemoryRejectsANegativeExtentOrStrideOrAStrideCountMismatch) {
  std::vector<float> storage(8);
  EXPECT_THROW(Tensor::from_memory(storage.data(), DType::f32, {2}, {-4}, nullptr), std::invalid_argument);
  EXPECT_THROW(Tensor::from_memory(storage.data(), DType::f32, {-2}, {}, nullptr), std::invalid_argument);
  EXPECT_THROW(Tensor::from_memory(storage.data(), DType::f32, {2, 2}, {4}, nullptr), std::invalid_argument);
}

}  // namespace
}  // namespace conveyor
