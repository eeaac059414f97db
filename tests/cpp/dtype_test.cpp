// DType names and sizes.
#include <gtest/gtest.h>

#include <conveyor/dtype.hpp>

namespace conveyor {
namespace {

class DTypeTest : public ::testing::TestWithParam<std::pair<DType, std::size_t>> {};

TEST_P(DTypeTest, NameRoundTripsAndSizeMatchesNumPy) {
  auto [dtype, size] = GetParam();
  EXPECT_EQ(dtype_named(name(dtype)), dtype);
  EXPECT_EQ(itemsize(dtype), size);
}

INSTANTIATE_TEST_SUITE_P(All, DTypeTest,
                         ::testing::Values(std::pair{DType::boolean, 1u}, std::pair{DType::u8, 1u},
                                           std::pair{DType::i8, 1u}, std::pair{DType::u16, 2u},
                                           std::pair{DType::i16, 2u}, std::pair{DType::u32, 4u},
                                           std::pair{DType::i32, 4u}, std::pair{DType::u64, 8u},
                                           std::pair{DType::i64, 8u}, std::pair{DType::f16, 2u},
                                           std::pair{DType::f32, 4u}, std::pair{DType::f64, 8u},
                                           std::pair{DType::bytes, 1u}));

TEST(DTypeNameTest, UnknownNamesAreRejected) {
  EXPECT_THROW(dtype_named("float128"), std::invalid_argument);
  EXPECT_THROW(dtype_named(""), std::invalid_argument);
}

TEST(DTypeNameTest, CppTypesMapToTheirDTypes) {
  static_assert(dtype_of<float>() == DType::f32);
  static_assert(dtype_of<const std::uint8_t>() == DType::u8);
  EXPECT_EQ(name(dtype_of<std::int64_t>()), "int64");
}

}  // namespace
}  // namespace conveyor
