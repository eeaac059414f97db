// Resuming at a position: the row arithmetic that lets a random-access pipeline jump straight to
// its position (no re-reading), and the signature that keeps a position with its pipeline.
#include "resume.hpp"

#include <sstream>
#include <stdexcept>

namespace conveyor::detail {
namespace {

// Why a stage's outputs cannot be located without reading, or nullptr when they can.
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
                   auto size = s.source->size();
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

std::uint64_t source_rows_before(const Node& root, Position start) {
  if (start.outputs == 0) return 0;
  std::uint64_t rows = start.outputs;
  for (const Node* node = &root;; node = node->children.front().get()) {
    if (const char* why = blocks_jump(*node))
      throw std::invalid_argument("conveyor: cannot resume in the middle of an epoch through " + std::string(why) +
                                  "; resume at an epoch's start (outputs = 0), or move that stage");
    if (auto* batch = std::get_if<BatchOp>(&node->op)) rows *= batch->batch_size;
    if (std::holds_alternative<SourceOp>(node->op)) return rows;
  }
}

std::string signature(const Node& root) {
  std::ostringstream out;
  describe(root, out);
  std::string text = out.str();
  if (!text.empty()) text.pop_back();
  return text;
}

}  // namespace conveyor::detail
