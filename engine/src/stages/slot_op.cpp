// SlotOp's ordinary path; the path that writes into a batch is in Compiler::map_stage.

#include "conveyor/slot_op.hpp"

#include <stdexcept>
#include <string>

namespace conveyor {

Row SlotOp::operator()(Row row, const OpContext&) const {
  if (row.size() != 1)
    throw std::invalid_argument("takes one column, got " + std::to_string(row.size()));
  SlotLayout out = layout(row[0]);
  Tensor result = Tensor::empty(out.dtype, std::move(out.shape));
  write(row[0], result.data());
  return {std::move(result)};
}

}  // namespace conveyor
