#pragma once
/// \file slot_op.hpp
/// SlotOp: a map op in two parts, setup and run, that writes its output into memory it is given.
///
/// A map op returns a tensor of its own, which is then copied into its row's place in the
/// batch. When a map's last op is a SlotOp, the map is the last row-wise stage below a batch
/// that takes its rows one for one (no filter between, no per_batch_map or padding, errors not
/// replaced), the map stage asks the batch for the row's place and the op writes its output
/// there: each row's output is written once, into the batch.
/// Anywhere else a SlotOp runs as an ordinary op. Either way the output is the same, and an
/// error names the map stage and the sample.

#include <cstddef>
#include <functional>

#include "conveyor/op.hpp"
#include "conveyor/tensor.hpp"

namespace conveyor {

/// What a SlotOp makes of one input: the dtype and shape of its output.
struct SlotLayout {
  DType dtype = DType::u8;
  Shape shape;
};

/// A one-column map op in two parts, both thread-safe. It sees no OpContext, so it must be
/// deterministic (a random op cannot be a SlotOp).
struct SlotOp {
  /// The output's layout for `input`; throws (std::invalid_argument or std::runtime_error) for
  /// an input the op refuses. Called before write(), for every input.
  std::function<SlotLayout(const Tensor& input)> layout;
  /// Writes the output for `input` to `slot`: contiguous, aligned for the output's dtype,
  /// holding exactly the layout's bytes. Called only for inputs `layout` accepted.
  std::function<void(const Tensor& input, std::byte* slot)> write;

  /// The ordinary path: a new tensor holding the output for `row`'s one column. Throws
  /// std::invalid_argument when `row` has another number of columns.
  Row operator()(Row row, const OpContext& context) const;
};

}  // namespace conveyor
