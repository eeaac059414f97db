#pragma once
/// \file range.hpp
/// A closed interval of doubles, the argument type of random ops ("a factor uniform in [min, max]").

namespace conveyor::ops {

/// The closed interval [min, max]; random ops draw uniformly from it. A value type.
struct Range {
  double min;
  double max;
};

}  // namespace conveyor::ops
