#pragma once
/// \file layout.hpp
/// Generic tensor ops: layout changes, dtype casts, one-hot labels, constant tensors.
///
/// Every function is pure and thread-safe; outputs are new contiguous tensors the caller owns.
/// Failures throw std::invalid_argument whose message starts "conveyor: <op>: ".

#include <cstdint>

#include "conveyor/dtype.hpp"
#include "conveyor/tensor.hpp"

namespace conveyor::ops {

/// MindSpore's HWC2CHW: a contiguous (C, H, W) copy of an (H, W, C) tensor of any dtype but
/// bytes; an (H, W) tensor comes back as an (H, W) copy. Throws std::invalid_argument for
/// another rank.
Tensor hwc2chw(const Tensor& img);

/// `t` converted element-wise to `dtype`, as NumPy's astype: integers wrap, floats to integers
/// truncate toward zero, anything to bool is "!= 0", bool to numbers is 0 or 1. Where NumPy's
/// result is undefined (a NaN or out-of-range float to an integer) the value saturates to the
/// integer's range and NaN becomes 0. Throws std::invalid_argument when either dtype is bytes.
Tensor type_cast(const Tensor& t, DType dtype);

/// One-hot encoding of integer labels: int64 of shape labels.shape + (num_classes,), with 1 at
/// each label's index. Throws std::invalid_argument naming the label when one is outside
/// [0, num_classes), and for non-integer labels or num_classes < 1.
Tensor one_hot(const Tensor& labels, std::int64_t num_classes);

/// A new tensor of `t`'s shape and dtype, every element `value` (converted as type_cast()
/// converts). Throws std::invalid_argument for a bytes tensor.
Tensor fill(const Tensor& t, double value);

}  // namespace conveyor::ops
