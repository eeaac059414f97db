#pragma once
// Starting a pipeline at a Position, and recording positions that can be started at.
//
// Every row carries a stamp (stages/stream.hpp): the source rows read through it, and the count of
// each stateful stage (take, batch, shuffle buffer, repeat) as it left that stage. The stamp of
// the last output read, turned into a Cut, says where every stage stood after it; a pipeline
// started at that Cut seeks its source to the row after it, sets each stage's count, and reads
// a shuffle buffer's rows again (by index for a random-access source, in the whole chunks it
// read them in for a source that hints a block) before going on.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "conveyor/position.hpp"
#include "graph/node.hpp"
#include "stages/shuffle.hpp"
#include "stages/stream.hpp"

namespace conveyor::detail {

/// How a pipeline starts at a Position, worked out before it is compiled.
struct Start {
  /// The pipeline's first epoch.
  std::uint64_t epoch = 0;
  /// Source rows of the first pass that the source skips (for an iterable: reads and drops).
  std::uint64_t rows = 0;
  /// Source rows that the source reads first, in this order, before those after `rows`: a
  /// shuffle buffer's contents.
  std::vector<std::uint64_t> replay;
  /// The stages' state, when the position carries one.
  std::optional<Cut> cut;
};

/// Plans a start at `position`. A mid-epoch position with a Cut is checked against the
/// pipeline; one without is located from its outputs, which only pipelines of map, project,
/// rename and batch stages over one source allow (each of their outputs is a fixed number of
/// source rows). Zero outputs (an epoch's start) can be started at through any pipeline, and a
/// Cut there is ignored. Throws
/// std::invalid_argument naming the stage that stands in the way, or when the Cut does not fit
/// the pipeline.
Start plan_start(const Node& root, const Position& position);

/// Why `root` cannot record where its stages stand in the middle of an epoch (zip or concat,
/// a shuffle buffer over anything but map, project and rename stages and a source, too many
/// stateful stages), or nullptr when it can.
const char* blocks_cut(const Node& root);

/// The stamp slot of stateful node `node` (take, batch, shuffle, repeat): 1 + the stateful
/// nodes below it. Slots from kStampWords on are not stamped.
std::size_t stamp_slot(const Node& node);

/// Turns the stamp of a pipeline's last output into a Cut. Holds the shadow of the pipeline's
/// shuffle buffer, if any; used by the reader's thread only.
class CutRecorder {
 public:
  /// For pipeline `root` running with `seed`, started at `start`.
  CutRecorder(const Node& root, std::uint64_t seed, const Start& start);
  /// The Cut after an output of epoch `epoch` stamped `stamp`; nullopt when the pipeline does
  /// not record one. Advances the shuffle buffer's shadow to that output: cheap when called
  /// after every output, at most one step per row of the epoch otherwise.
  std::optional<Cut> record(std::uint64_t epoch, const Stamp& stamp);

 private:
  /// The epoch the shuffle buffer is in for an output of `epoch` stamped `stamp`.
  std::uint64_t shuffle_epoch(std::uint64_t epoch, const Stamp& stamp) const;

  bool records_ = false;
  std::size_t slots_ = 0;
  /// The repeats above the shuffle buffer, outermost first: (count, slot).
  std::vector<std::pair<std::int64_t, std::size_t>> repeats_;
  std::size_t shuffle_slot_ = 0;
  std::optional<ShuffleShadow> shadow_;
};

/// A text naming each stage of the pipeline and its parameters (source kind and size, sampler
/// options, batch size, ...): equal for pipelines built the same way, different for most that
/// are not. Not a hash of user code: two map stages with different Python functions look alike.
std::string signature(const Node& root);

}  // namespace conveyor::detail
