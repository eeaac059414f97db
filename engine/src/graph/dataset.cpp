#include "conveyor/dataset.hpp"

#include <algorithm>
#include <limits>
#include <set>
#include <stdexcept>

#include "conveyor/config.hpp"
#include "graph/compile.hpp"
#include "graph/execution.hpp"
#include "graph/node.hpp"
#include "resume/resume.hpp"

namespace conveyor {
namespace {

using detail::Node;

std::string join(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

std::size_t index_of(const std::vector<std::string>& columns, const std::string& name) {
  auto it = std::find(columns.begin(), columns.end(), name);
  if (it == columns.end())
    throw std::invalid_argument("conveyor: no column '" + name + "' (columns: " + join(columns) + ")");
  return static_cast<std::size_t>(it - columns.begin());
}

std::vector<std::size_t> indices_of(const std::vector<std::string>& columns, const std::vector<std::string>& names) {
  std::vector<std::size_t> out;
  for (const auto& name : names) out.push_back(index_of(columns, name));
  return out;
}

void check_unique(const std::vector<std::string>& columns) {
  std::set<std::string> seen;
  for (const auto& c : columns)
    if (!seen.insert(c).second) throw std::invalid_argument("conveyor: column '" + c + "' appears twice");
}

std::shared_ptr<const Node> make_node(detail::Op op, std::vector<std::shared_ptr<const Node>> children,
                                      std::vector<std::string> columns) {
  check_unique(columns);
  return std::make_shared<const Node>(Node{std::move(op), std::move(children), std::move(columns)});
}

// Rows per epoch: nullopt when unknown, kEndless when an epoch never ends.
constexpr std::size_t kEndless = std::numeric_limits<std::size_t>::max();

std::optional<std::size_t> size_of(const Node& node) {
  auto child = [&](std::size_t i = 0) { return size_of(*node.children[i]); };
  if (auto* op = std::get_if<detail::SourceOp>(&node.op)) {
    if (op->random_access)
      return detail::make_sampler(op->options, config().seed)->num_samples(op->random_access->size());
    auto n = op->iterable->size();
    if (!n) return std::nullopt;
    return op->options.num_samples ? std::min(*n, *op->options.num_samples) : *n;
  }
  if (std::holds_alternative<detail::FilterOp>(node.op)) {
    auto n = child();
    return n == kEndless ? n : std::nullopt;
  }
  if (auto* op = std::get_if<detail::BatchOp>(&node.op)) {
    auto n = child();
    if (!n || *n == kEndless) return n;
    return op->drop_remainder ? *n / op->batch_size : (*n + op->batch_size - 1) / op->batch_size;
  }
  if (auto* op = std::get_if<detail::RepeatOp>(&node.op)) {
    auto n = child();
    if (!n || *n == 0 || *n == kEndless) return n;
    if (op->count < 0) return kEndless;
    return *n * static_cast<std::size_t>(op->count);
  }
  if (auto* op = std::get_if<detail::TakeOp>(&node.op)) {
    auto n = child();
    return n ? std::optional(std::min(*n, op->count)) : std::nullopt;
  }
  if (auto* op = std::get_if<detail::SkipOp>(&node.op)) {
    auto n = child();
    if (!n || *n == kEndless) return n;
    return *n - std::min(*n, op->count);
  }
  if (std::holds_alternative<detail::ZipOp>(node.op) || std::holds_alternative<detail::ConcatOp>(node.op)) {
    bool zip = std::holds_alternative<detail::ZipOp>(node.op);
    std::optional<std::size_t> total;
    for (std::size_t i = 0; i < node.children.size(); ++i) {
      auto n = child(i);
      if (!n) return std::nullopt;
      if (!total)
        total = n;
      else if (zip)
        total = std::min(*total, *n);
      else
        total = (*total == kEndless || *n == kEndless) ? kEndless : *total + *n;
    }
    return total;
  }
  return child();  // map, project, rename, shuffle keep the count
}

}  // namespace

Dataset::Dataset(std::shared_ptr<const Node> node) : node_(std::move(node)) {}

Dataset GeneratorDataset(AnySource source, std::vector<std::string> column_names, GeneratorOptions options) {
  detail::SourceOp op;
  if (auto* random_access = std::get_if<std::shared_ptr<RandomAccessSource>>(&source))
    op.random_access = std::move(*random_access);
  else
    op.iterable = std::get<std::shared_ptr<IterableSource>>(std::move(source));
  if (!op.random_access && !op.iterable) throw std::invalid_argument("conveyor: GeneratorDataset needs a source");
  if (column_names.empty()) throw std::invalid_argument("conveyor: GeneratorDataset needs column names");
  if (op.random_access) {
    detail::make_sampler(options, config().seed);  // rejects options that exclude each other, now
  } else if (options.shuffle.value_or(false) || options.sampler || options.num_shards || options.shard_id) {
    throw std::invalid_argument(
        "conveyor: an iterable source has no random access: shuffle it with shuffle(buffer_size), "
        "and it takes no sampler or sharding");
  }
  if (options.num_parallel_workers == 0u) throw std::invalid_argument("conveyor: num_parallel_workers must be >= 1");
  op.options = std::move(options);
  return Dataset(make_node(std::move(op), {}, std::move(column_names)));
}

Dataset Dataset::shuffle(std::size_t buffer_size) const {
  if (buffer_size < 2) throw std::invalid_argument("conveyor: shuffle buffer_size must be at least 2");
  return Dataset(make_node(detail::ShuffleOp{buffer_size}, {node_}, node_->columns));
}

Dataset Dataset::map(std::vector<ContextOp> ops, std::vector<std::string> input_columns,
                     std::vector<std::string> output_columns, std::optional<std::size_t> num_parallel_workers) const {
  if (ops.empty() || std::any_of(ops.begin(), ops.end(), [](const ContextOp& f) { return !f; }))
    throw std::invalid_argument("conveyor: map needs at least one op, and no empty ones");
  if (num_parallel_workers == 0u) throw std::invalid_argument("conveyor: num_parallel_workers must be >= 1");
  const auto& columns = node_->columns;
  if (input_columns.empty()) input_columns = {columns.front()};
  if (output_columns.empty()) output_columns = input_columns;
  detail::MapOp op{std::move(ops), indices_of(columns, input_columns), output_columns.size(), {}, num_parallel_workers};
  // Outputs take the place of the inputs, at the first input's position.
  std::vector<std::string> names;
  std::size_t first = *std::min_element(op.inputs.begin(), op.inputs.end());
  for (std::size_t c = 0; c < columns.size(); ++c) {
    if (c == first)
      for (std::size_t o = 0; o < output_columns.size(); ++o) {
        op.layout.push_back({true, o});
        names.push_back(output_columns[o]);
      }
    if (std::find(op.inputs.begin(), op.inputs.end(), c) != op.inputs.end()) continue;
    op.layout.push_back({false, c});
    names.push_back(columns[c]);
  }
  return Dataset(make_node(std::move(op), {node_}, std::move(names)));
}

Dataset Dataset::map(std::vector<RowOp> ops, std::vector<std::string> input_columns,
                     std::vector<std::string> output_columns, std::optional<std::size_t> num_parallel_workers) const {
  std::vector<ContextOp> with_context;
  for (auto& op : ops) {
    if (!op) throw std::invalid_argument("conveyor: map needs at least one op, and no empty ones");
    with_context.push_back([op = std::move(op)](Row row, const OpContext&) { return op(std::move(row)); });
  }
  return map(std::move(with_context), std::move(input_columns), std::move(output_columns), num_parallel_workers);
}

Dataset Dataset::map(RowOp op, std::vector<std::string> input_columns, std::vector<std::string> output_columns,
                     std::optional<std::size_t> num_parallel_workers) const {
  return map(std::vector<RowOp>{std::move(op)}, std::move(input_columns), std::move(output_columns),
             num_parallel_workers);
}

Dataset Dataset::filter(Predicate predicate, std::vector<std::string> input_columns,
                        std::optional<std::size_t> num_parallel_workers) const {
  if (!predicate) throw std::invalid_argument("conveyor: filter needs a predicate");
  if (num_parallel_workers == 0u) throw std::invalid_argument("conveyor: num_parallel_workers must be >= 1");
  if (input_columns.empty()) input_columns = node_->columns;
  detail::FilterOp op{std::move(predicate), indices_of(node_->columns, input_columns), num_parallel_workers};
  return Dataset(make_node(std::move(op), {node_}, node_->columns));
}

Dataset Dataset::batch(std::size_t batch_size, bool drop_remainder, BatchOptions options) const {
  if (batch_size == 0) throw std::invalid_argument("conveyor: batch_size must be at least 1");
  detail::BatchOp op{batch_size, drop_remainder, std::move(options.per_batch_map), {}};
  for (auto& [name, pad] : options.pad_info) op.pads.push_back({index_of(node_->columns, name), pad});
  auto names = options.output_columns.empty() ? node_->columns : options.output_columns;
  if (!op.per_batch_map && !options.output_columns.empty())
    throw std::invalid_argument("conveyor: output_columns needs a per_batch_map");
  return Dataset(make_node(std::move(op), {node_}, std::move(names)));
}

Dataset Dataset::repeat(std::int64_t count) const {
  return Dataset(make_node(detail::RepeatOp{count < 0 ? -1 : count}, {node_}, node_->columns));
}

Dataset Dataset::take(std::size_t count) const {
  return Dataset(make_node(detail::TakeOp{count}, {node_}, node_->columns));
}

Dataset Dataset::skip(std::size_t count) const {
  return Dataset(make_node(detail::SkipOp{count}, {node_}, node_->columns));
}

Dataset Dataset::project(std::vector<std::string> columns) const {
  if (columns.empty()) throw std::invalid_argument("conveyor: project needs at least one column");
  auto indices = indices_of(node_->columns, columns);
  return Dataset(make_node(detail::ProjectOp{std::move(indices)}, {node_}, std::move(columns)));
}

Dataset Dataset::rename(std::vector<std::string> from, std::vector<std::string> to) const {
  if (from.size() != to.size())
    throw std::invalid_argument("conveyor: rename needs as many new names as old ones");
  auto names = node_->columns;
  for (std::size_t i = 0; i < from.size(); ++i) names[index_of(node_->columns, from[i])] = to[i];
  return Dataset(make_node(detail::RenameOp{}, {node_}, std::move(names)));
}

Dataset Dataset::zip(std::vector<Dataset> others) const {
  std::vector<std::shared_ptr<const Node>> children{node_};
  auto names = node_->columns;
  for (const auto& other : others) {
    children.push_back(other.node_);
    names.insert(names.end(), other.node_->columns.begin(), other.node_->columns.end());
  }
  return Dataset(make_node(detail::ZipOp{}, std::move(children), std::move(names)));
}

Dataset Dataset::concat(std::vector<Dataset> others) const {
  std::vector<std::shared_ptr<const Node>> children{node_};
  for (const auto& other : others) {
    if (other.node_->columns != node_->columns)
      throw std::invalid_argument("conveyor: concat needs the same columns; got (" + join(node_->columns) + ") and (" +
                                  join(other.node_->columns) + ")");
    children.push_back(other.node_);
  }
  return Dataset(make_node(detail::ConcatOp{}, std::move(children), node_->columns));
}

Iterator Dataset::iterate(std::int64_t num_epochs) const { return iterate(num_epochs, Position{}); }

Iterator Dataset::iterate(std::int64_t num_epochs, Position start) const {
  return iterate(num_epochs, std::move(start), config());
}

Iterator Dataset::iterate(std::int64_t num_epochs, Position start, const Config& config) const {
  check(config);
  return Iterator(std::make_unique<detail::Execution>(*node_, num_epochs, std::move(start), config));
}

std::string Dataset::signature() const { return detail::signature(*node_); }

const std::vector<std::string>& Dataset::column_names() const { return node_->columns; }

std::optional<std::size_t> Dataset::get_dataset_size() const {
  auto n = size_of(*node_);
  return n == kEndless ? std::nullopt : n;
}

bool Dataset::endless() const { return size_of(*node_) == kEndless; }

std::vector<Shape> Dataset::output_shapes() const {
  auto first = iterate(1).next();
  if (!first) throw std::runtime_error("conveyor: output_shapes of an empty dataset");
  std::vector<Shape> shapes;
  for (const auto& column : first->columns()) shapes.push_back(column.shape());
  return shapes;
}

std::vector<DType> Dataset::output_types() const {
  auto first = iterate(1).next();
  if (!first) throw std::runtime_error("conveyor: output_types of an empty dataset");
  std::vector<DType> types;
  for (const auto& column : first->columns()) types.push_back(column.dtype());
  return types;
}

}  // namespace conveyor
