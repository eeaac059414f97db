#pragma once
// resize() under another op's name, for the ops built on it (random_resized_crop, the fused decode).

#include <cstdint>
#include <string_view>

#include "conveyor/ops/geometry.hpp"
#include "conveyor/tensor.hpp"

namespace conveyor::ops::internal {

/// ops::resize(), its errors naming `op`.
Tensor resize_as(std::string_view op, const Tensor& img, std::int64_t h, std::int64_t w, Interpolation interpolation);

}  // namespace conveyor::ops::internal
