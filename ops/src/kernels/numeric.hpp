#pragma once
// Element types behind a DType, and NumPy-like conversion between them.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>

#include <opencv2/core/cvdef.h>

#include "conveyor/dtype.hpp"
#include "conveyor/tensor.hpp"
#include "kernels/image.hpp"

namespace conveyor::ops::internal {

/// Names a C++ element type for a generic lambda: `[](auto tag) { using T = typename decltype(tag)::type; }`.
template <class T>
struct Tag {
  using type = T;
};

/// Calls `f(Tag<T>{})` with T the element type of `dtype`: conveyor's own for every numeric dtype
/// but f16, whose elements OpenCV's float16_t reads (the same 16 bits, with arithmetic). Throws,
/// naming `op`, for bytes.
template <class F>
decltype(auto) visit_numeric(std::string_view op, DType dtype, F&& f) {
  switch (dtype) {
    case DType::boolean: return f(Tag<bool>{});
    case DType::u8: return f(Tag<std::uint8_t>{});
    case DType::i8: return f(Tag<std::int8_t>{});
    case DType::u16: return f(Tag<std::uint16_t>{});
    case DType::i16: return f(Tag<std::int16_t>{});
    case DType::u32: return f(Tag<std::uint32_t>{});
    case DType::i32: return f(Tag<std::int32_t>{});
    case DType::u64: return f(Tag<std::uint64_t>{});
    case DType::i64: return f(Tag<std::int64_t>{});
    case DType::f16: return f(Tag<cv::float16_t>{});
    case DType::f32: return f(Tag<float>{});
    case DType::f64: return f(Tag<double>{});
    case DType::bytes: break;
  }
  fail(op, "expected a numeric tensor, got " + std::string(name(dtype)));
}

/// `value` as an integer `To`, truncated toward zero; saturated where it is out of range, 0 for
/// NaN (NumPy leaves both undefined; C++ makes them undefined behaviour).
template <class To>
To truncate_saturating(double value) {
  if (std::isnan(value)) return To{0};
  constexpr auto lowest = std::numeric_limits<To>::lowest();
  constexpr auto highest = std::numeric_limits<To>::max();
  if (value <= static_cast<double>(lowest)) return lowest;
  if (value >= static_cast<double>(highest)) return highest;
  return static_cast<To>(value);
}

/// `value` converted as NumPy's astype converts it (see ops::type_cast()).
template <class To, class From>
To convert(From value) {
  if constexpr (std::is_same_v<From, cv::float16_t>) {
    return convert<To>(static_cast<float>(value));
  } else if constexpr (std::is_same_v<To, cv::float16_t>) {
    return cv::float16_t(convert<float>(value));
  } else if constexpr (std::is_same_v<To, bool>) {
    return value != From{0};
  } else if constexpr (std::is_integral_v<To> && std::is_floating_point_v<From>) {
    return truncate_saturating<To>(static_cast<double>(value));
  } else {
    return static_cast<To>(value);
  }
}

/// Sets every element of the contiguous `out` to `value`, converted as convert() converts.
/// Throws, naming `op`, for bytes.
inline void fill_contiguous(std::string_view op, const Tensor& out, double value) {
  visit_numeric(op, out.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    std::fill_n(reinterpret_cast<T*>(out.data()), out.numel(), convert<T>(value));
  });
}

}  // namespace conveyor::ops::internal
