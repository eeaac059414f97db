#pragma once
// Starting a pipeline at a Position: how many source rows the position skips, and a signature
// that tells whether a saved position belongs to a pipeline.

#include <cstdint>
#include <string>

#include "conveyor/position.hpp"
#include "plan.hpp"

namespace conveyor::detail {

/// The source rows before `start.outputs` outputs of `root`. The outputs of a pipeline of
/// map, project, rename and batch stages over one source are a fixed number of source rows
/// each (1, or batch_size after a batch), so a resumed pipeline can jump to that row of the
/// sampler's order without reading what precedes it. Throws std::invalid_argument naming the
/// stage when another stage stands in the way (filter, shuffle buffer, take, skip, repeat, zip,
/// concat, a per_batch_map): their outputs cannot be located without reading. Zero outputs
/// (the start of an epoch) can be resumed through any pipeline.
std::uint64_t source_rows_before(const Node& root, Position start);

/// A text naming each stage of the pipeline and its parameters (source kind and size, sampler
/// options, batch size, ...): equal for pipelines built the same way, different for most that
/// are not. Not a hash of user code: two map stages with different Python functions look alike.
std::string signature(const Node& root);

}  // namespace conveyor::detail
