#pragma once
// GoogleTest printers, so that parameterised tests name their dtype and filter in words.

#include <ostream>

#include "conveyor/dtype.hpp"
#include "conveyor/ops/geometry.hpp"

namespace conveyor {

inline void PrintTo(DType dtype, std::ostream* os) { *os << name(dtype); }

namespace ops {

inline void PrintTo(Interpolation interpolation, std::ostream* os) {
  constexpr const char* names[] = {"nearest", "linear", "cubic", "area"};
  *os << names[static_cast<int>(interpolation)];
}

}  // namespace ops
}  // namespace conveyor
