#pragma once
// Phrases that error messages share.

#include <cstddef>
#include <string>

namespace conveyor::detail {

/// "1 column", "3 columns".
inline std::string columns_phrase(std::size_t count) {
  return std::to_string(count) + (count == 1 ? " column" : " columns");
}

}  // namespace conveyor::detail
