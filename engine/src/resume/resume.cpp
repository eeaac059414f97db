// Resuming at a position: the row arithmetic that lets a pipeline of row-preserving stages jump
// straight to its position, the stamps that let the others record where they stand, and the
// signature that keeps a position with its pipeline.
#include "resume/resume.hpp"

#include <algorithm>
#include <array>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "stages/control.hpp"

namespace conveyor::detail {
namespace {

// Why a stage's outputs cannot be located from a number of outputs, or nullptr when they can.
const char* blocks_jump(const Node& node) {
  if (std::holds_alternative<FilterOp>(node.op)) return "a filter (which rows it keeps is known only by reading)";
  if (std::holds_alternative<ShuffleOp>(node.op)) return "a shuffle buffer (its contents depend on what it read)";
  if (std::holds_alternative<TakeOp>(node.op) || std::holds_alternative<SkipOp>(node.op)) return "take or skip";
  if (std::holds_alternative<RepeatOp>(node.op)) return "a repeat";
  if (std::holds_alternative<ZipOp>(node.op) || std::holds_alternative<ConcatOp>(node.op)) return "zip or concat";
  if (auto* batch = std::get_if<BatchOp>(&node.op); batch && batch->per_batch_map)
    return "a per_batch_map (it may change the number of rows)";
  return nullptr;
}

// The source rows before `start.outputs` outputs of `root`, from the outputs alone.
std::uint64_t source_rows_before(const Node& root, const Position& start) {
  if (start.outputs == 0) return 0;
  std::uint64_t rows = start.outputs;
  for (const Node* node = &root;; node = node->children.front().get()) {
    if (const char* stage = blocks_jump(*node)) {
      // The pipeline records no state to resume from, or this position lacks it.
      const char* why = blocks_cut(root);
      throw std::invalid_argument(
          "conveyor: cannot resume in the middle of an epoch through " + std::string(why ? why : stage) +
          (why ? "" : " from a position without its stages' state (Iterator::position() records it, except after "
                      "failed rows were skipped below a shuffle buffer)") +
          "; resume at an epoch's start (outputs = 0)");
    }
    if (auto* batch = std::get_if<BatchOp>(&node->op)) rows *= batch->batch_size;
    if (std::holds_alternative<SourceOp>(node->op)) return rows;
  }
}

bool stateful(const Node& node) {
  return std::holds_alternative<TakeOp>(node.op) || std::holds_alternative<BatchOp>(node.op) ||
         std::holds_alternative<ShuffleOp>(node.op) || std::holds_alternative<RepeatOp>(node.op);
}

std::size_t stateful_in(const Node& node) {
  std::size_t n = stateful(node) ? 1 : 0;
  for (const auto& child : node.children) n += stateful_in(*child);
  return n;
}

// The shuffle node of a linear pipeline, or null.
const Node* shuffle_of(const Node& root) {
  for (const Node* node = &root; node; node = node->children.empty() ? nullptr : node->children.front().get())
    if (std::holds_alternative<ShuffleOp>(node->op)) return node;
  return nullptr;
}

// The stage a shuffle buffer cannot be resumed over, named, or nullptr for one it can.
const char* blocks_shuffle(const Node& node) {
  if (std::holds_alternative<MapOp>(node.op) || std::holds_alternative<ProjectOp>(node.op) ||
      std::holds_alternative<RenameOp>(node.op) || std::holds_alternative<SourceOp>(node.op))
    return nullptr;
  if (std::holds_alternative<FilterOp>(node.op))
    return "a shuffle buffer over a filter (what it holds is known only by reading): filter after the shuffle";
  if (std::holds_alternative<ShuffleOp>(node.op)) return "a shuffle buffer over another shuffle buffer";
  if (std::holds_alternative<BatchOp>(node.op)) return "a shuffle buffer over a batch stage";
  if (std::holds_alternative<RepeatOp>(node.op)) return "a shuffle buffer over a repeat";
  if (std::holds_alternative<TakeOp>(node.op) || std::holds_alternative<SkipOp>(node.op))
    return "a shuffle buffer over take or skip";
  return "a shuffle buffer over zip or concat";
}

Stamp stamp_of(const Cut& cut) {
  Stamp stamp{};
  stamp.set(0, cut.rows);
  for (std::size_t k = 0; k < cut.counts.size() && k + 1 < kStampWords; ++k) stamp.set(k + 1, cut.counts[k]);
  return stamp;
}

template <class... F>
struct Visitor : F... {
  using F::operator()...;
};
template <class... F>
Visitor(F...) -> Visitor<F...>;

void describe(const Node& node, std::ostringstream& out) {
  for (const auto& child : node.children) describe(*child, out);
  if (!node.children.empty() && node.children.size() > 1) out << "join" << node.children.size() << ' ';
  std::visit(Visitor{
                 [&](const SourceOp& s) {
                   auto size = s.random_access ? std::optional(s.random_access->size()) : s.iterable->size();
                   out << "source(" << (size ? std::to_string(*size) + " rows" : std::string("iterable"));
                   const GeneratorOptions& o = s.options;
                   if (o.shuffle) out << ", shuffle=" << *o.shuffle;
                   if (o.seed) out << ", seed=" << *o.seed;
                   if (o.sampler) out << ", sampler";
                   if (o.num_samples) out << ", num_samples=" << *o.num_samples;
                   if (o.num_shards) out << ", shards=" << *o.num_shards << '/' << o.shard_id.value_or(0);
                   out << ")";
                 },
                 [&](const MapOp& m) { out << "map(" << m.ops.size() << " ops)"; },
                 [&](const FilterOp&) { out << "filter"; },
                 [&](const ProjectOp&) { out << "project"; },
                 [&](const RenameOp&) { out << "rename"; },
                 [&](const ShuffleOp& s) { out << "shuffle(" << s.buffer_size << ")"; },
                 [&](const BatchOp& b) {
                   out << "batch(" << b.batch_size << (b.drop_remainder ? ", drop" : "")
                       << (b.per_batch_map ? ", per_batch_map" : "") << ")";
                 },
                 [&](const RepeatOp& r) { out << "repeat(" << r.count << ")"; },
                 [&](const TakeOp& t) { out << "take(" << t.count << ")"; },
                 [&](const SkipOp& s) { out << "skip(" << s.count << ")"; },
                 [&](const ZipOp&) { out << "zip"; },
                 [&](const ConcatOp&) { out << "concat"; },
             },
             node.op);
  out << '[';
  for (std::size_t i = 0; i < node.columns.size(); ++i) out << (i ? "," : "") << node.columns[i];
  out << "] ";
}

}  // namespace

const char* blocks_cut(const Node& root) {
  for (const Node* node = &root; !node->children.empty(); node = node->children.front().get())
    if (std::holds_alternative<ZipOp>(node->op) || std::holds_alternative<ConcatOp>(node->op))
      return "zip or concat (where their branches stand is not recorded)";
  if (stateful_in(root) >= kStampWords) return "more than 4 take, batch, shuffle and repeat stages";
  if (const Node* shuffle = shuffle_of(root))
    for (const Node* node = shuffle->children.front().get();; node = node->children.front().get()) {
      if (const char* why = blocks_shuffle(*node)) return why;
      if (node->children.empty()) break;
    }
  return nullptr;
}

std::size_t stamp_slot(const Node& node) {
  std::size_t below = 0;
  for (const auto& child : node.children) below += stateful_in(*child);
  return below + 1;
}

Start plan_start(const Node& root, const Position& position) {
  Start start;
  start.epoch = position.epoch;
  if (!position.cut || position.outputs == 0) {  // an epoch's start needs no state
    start.rows = source_rows_before(root, position);
    return start;
  }
  const Cut& cut = *position.cut;
  if (const char* why = blocks_cut(root))
    throw std::invalid_argument("conveyor: cannot resume in the middle of an epoch through " + std::string(why) +
                                "; resume at an epoch's start (outputs = 0)");
  const std::size_t stages = stateful_in(root);
  if (cut.counts.size() != stages)
    throw std::invalid_argument("conveyor: the position holds the state of " + std::to_string(cut.counts.size()) +
                                " take, batch, shuffle and repeat stages; this pipeline has " +
                                std::to_string(stages) + ": it comes from another pipeline");
  const Node* shuffle = shuffle_of(root);
  if (static_cast<bool>(shuffle) != cut.shuffle.has_value())
    throw std::invalid_argument(std::string("conveyor: the position ") +
                                (shuffle ? "holds no shuffle buffer; this pipeline has one"
                                         : "holds a shuffle buffer; this pipeline has none") +
                                ": it comes from another pipeline");
  if (cut.shuffle) {
    const std::size_t buffer_size = std::get<ShuffleOp>(shuffle->op).buffer_size;
    if (cut.shuffle->rows.size() > buffer_size)
      throw std::invalid_argument("conveyor: the position's shuffle buffer holds " +
                                  std::to_string(cut.shuffle->rows.size()) + " rows; this pipeline's holds " +
                                  std::to_string(buffer_size));
    for (std::uint64_t row : cut.shuffle->rows)
      if (row >= cut.rows)
        throw std::invalid_argument("conveyor: the position's shuffle buffer holds row " + std::to_string(row) +
                                    ", not read by then (" + std::to_string(cut.rows) + " rows)");
    std::vector<std::uint64_t> rows = cut.shuffle->rows;
    std::sort(rows.begin(), rows.end());
    if (auto twice = std::adjacent_find(rows.begin(), rows.end()); twice != rows.end())
      throw std::invalid_argument("conveyor: the position's shuffle buffer holds row " + std::to_string(*twice) +
                                  " twice");
    // The one state the generator never leaves: every draw would be 0, and picking a row below
    // a bound that is not a power of two would never end.
    if (cut.shuffle->rng == std::array<std::uint64_t, 4>{})
      throw std::invalid_argument("conveyor: the position's shuffle generator state is all zeros");
    start.replay = cut.shuffle->rows;
  }
  start.rows = cut.rows;
  start.cut = cut;
  return start;
}

CutRecorder::CutRecorder(const Node& root, std::uint64_t seed, const Start& start)
    : records_(blocks_cut(root) == nullptr), slots_(stateful_in(root) + 1) {
  const Node* shuffle = records_ ? shuffle_of(root) : nullptr;
  if (!shuffle) return;
  for (const Node* node = &root; node != shuffle; node = node->children.front().get())
    if (auto* repeat = std::get_if<RepeatOp>(&node->op)) repeats_.emplace_back(repeat->count, stamp_slot(*node));
  shuffle_slot_ = stamp_slot(*shuffle);
  shadow_.emplace(std::get<ShuffleOp>(shuffle->op).buffer_size, seed);
  if (start.cut && start.cut->shuffle) {
    const Stamp stamp = stamp_of(*start.cut);
    shadow_->restore(shuffle_epoch(start.epoch, stamp),
                     ShuffleResume{stamp[shuffle_slot_], start.cut->rows, *start.cut->shuffle});
  }
}

std::uint64_t CutRecorder::shuffle_epoch(std::uint64_t epoch, const Stamp& stamp) const {
  for (auto [count, slot] : repeats_) epoch = repeat_child_epoch(epoch, count) + stamp[slot];
  return epoch;
}

std::optional<Cut> CutRecorder::record(std::uint64_t epoch, const Stamp& stamp) {
  if (!records_) return std::nullopt;
  for (std::size_t k = 0; k < slots_; ++k)
    if (stamp[k] == kNoStamp) return std::nullopt;
  Cut cut;
  cut.rows = stamp[0];
  for (std::size_t k = 1; k < slots_; ++k) cut.counts.push_back(stamp[k]);
  if (shadow_) cut.shuffle = shadow_->at(shuffle_epoch(epoch, stamp), stamp[shuffle_slot_], stamp[0]);
  return cut;
}

std::string signature(const Node& root) {
  std::ostringstream out;
  describe(root, out);
  std::string text = out.str();
  if (!text.empty()) text.pop_back();
  return text;
}

}  // namespace conveyor::detail
