#pragma once
/// \file dtype.hpp
/// Element types of tensors, and the mapping from C++ types to them.

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

namespace conveyor {

/// The element type of a tensor. `bytes` holds encoded data (an image file, text) as a
/// 1-D run of bytes whose length varies from row to row.
enum class DType : std::uint8_t { boolean, u8, i8, u16, i16, u32, i32, u64, i64, f16, f32, f64, bytes };

/// IEEE half-precision storage: conveyor moves f16 tensors but does no arithmetic on them.
struct float16 {
  std::uint16_t bits;
};

/// Size of one element in bytes (1 for `bytes`).
std::size_t itemsize(DType dtype) noexcept;

/// NumPy's name for the dtype ("float32", "uint8", ...; "bytes" for bytes).
std::string_view name(DType dtype) noexcept;

/// The dtype NumPy calls `name` ("float32", "uint8", ... and "bytes"); throws
/// std::invalid_argument for any other name.
DType dtype_named(std::string_view name);

/// The dtype whose elements are C++ type `T`; undefined for other types.
template <class T>
constexpr DType dtype_of() noexcept {
  using U = std::remove_cv_t<T>;
  if constexpr (std::is_same_v<U, bool>) return DType::boolean;
  else if constexpr (std::is_same_v<U, std::uint8_t>) return DType::u8;
  else if constexpr (std::is_same_v<U, std::int8_t>) return DType::i8;
  else if constexpr (std::is_same_v<U, std::uint16_t>) return DType::u16;
  else if constexpr (std::is_same_v<U, std::int16_t>) return DType::i16;
  else if constexpr (std::is_same_v<U, std::uint32_t>) return DType::u32;
  else if constexpr (std::is_same_v<U, std::int32_t>) return DType::i32;
  else if constexpr (std::is_same_v<U, std::uint64_t>) return DType::u64;
  else if constexpr (std::is_same_v<U, std::int64_t>) return DType::i64;
  else if constexpr (std::is_same_v<U, float16>) return DType::f16;
  else if constexpr (std::is_same_v<U, float>) return DType::f32;
  else if constexpr (std::is_same_v<U, double>) return DType::f64;
  else if constexpr (std::is_same_v<U, std::byte>) return DType::bytes;
  else static_assert(sizeof(U) == 0, "conveyor: no dtype for this C++ type");
}

}  // namespace conveyor
