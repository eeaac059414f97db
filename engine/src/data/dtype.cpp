#include "conveyor/dtype.hpp"

#include <stdexcept>
#include <string>

namespace conveyor {

std::size_t itemsize(DType dtype) noexcept {
  switch (dtype) {
    case DType::boolean: case DType::u8: case DType::i8: case DType::bytes: return 1;
    case DType::u16: case DType::i16: case DType::f16: return 2;
    case DType::u32: case DType::i32: case DType::f32: return 4;
    case DType::u64: case DType::i64: case DType::f64: return 8;
  }
  return 1;
}

std::string_view name(DType dtype) noexcept {
  switch (dtype) {
    case DType::boolean: return "bool";
    case DType::u8: return "uint8";
    case DType::i8: return "int8";
    case DType::u16: return "uint16";
    case DType::i16: return "int16";
    case DType::u32: return "uint32";
    case DType::i32: return "int32";
    case DType::u64: return "uint64";
    case DType::i64: return "int64";
    case DType::f16: return "float16";
    case DType::f32: return "float32";
    case DType::f64: return "float64";
    case DType::bytes: return "bytes";
  }
  return "unknown";
}

DType dtype_named(std::string_view wanted) {
  for (DType d : {DType::boolean, DType::u8, DType::i8, DType::u16, DType::i16, DType::u32, DType::i32, DType::u64,
                  DType::i64, DType::f16, DType::f32, DType::f64, DType::bytes})
    if (name(d) == wanted) return d;
  throw std::invalid_argument("conveyor: no dtype named '" + std::string(wanted) + "'");
}

}  // namespace conveyor
