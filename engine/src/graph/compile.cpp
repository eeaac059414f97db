#include "graph/compile.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>
#include <oneapi/tbb/info.h>

#include "data/columns_phrase.hpp"
#include "stages/batch.hpp"
#include "stages/combine.hpp"
#include "stages/control.hpp"
#include "stages/parallel.hpp"
#include "stages/shuffle.hpp"
#include "stages/source.hpp"

namespace conveyor::detail {

std::shared_ptr<const Sampler> make_sampler(const GeneratorOptions& options, std::uint64_t default_seed) {
  std::uint64_t seed = options.seed.value_or(default_seed);
  bool sharded = options.num_shards || options.shard_id;
  if (options.sampler) {
    if (options.shuffle || sharded || options.num_samples)
      throw std::invalid_argument("conveyor: a sampler excludes shuffle, num_shards, shard_id and num_samples");
    return options.sampler;
  }
  if (sharded) {
    if (!options.num_shards || !options.shard_id)
      throw std::invalid_argument("conveyor: num_shards and shard_id go together");
    if (options.num_samples)
      throw std::invalid_argument("conveyor: num_samples with num_shards is not supported; use take()");
    return std::make_shared<DistributedSampler>(*options.num_shards, *options.shard_id, options.shuffle.value_or(true),
                                                seed);
  }
  if (options.shuffle.value_or(true)) return std::make_shared<RandomSampler>(seed, false, options.num_samples);
  return std::make_shared<SequentialSampler>(0, options.num_samples);
}

namespace {

/// The column a map's op output lands in (the map has one output).
std::size_t output_column(const MapOp& map) {
  auto it = std::find_if(map.layout.begin(), map.layout.end(), [](ColumnSource c) { return c.from_output; });
  return static_cast<std::size_t>(it - map.layout.begin());
}

/// The map node below batch node `batch` whose last op, a SlotOp, the batch stage can run as it
/// collates: batch() directly over the map, the map with one output column, no per_batch_map
/// and no padding of that column. Null when there is none.
const Node* slot_map(const Node& batch) {
  const auto& op = std::get<BatchOp>(batch.op);
  const Node& child = *batch.children.front();
  const auto* map = std::get_if<MapOp>(&child.op);
  if (!map || map->ops.empty() || map->output_count != 1 || op.per_batch_map || !map->ops.back().target<SlotOp>())
    return nullptr;
  const std::size_t column = output_column(*map);
  if (std::any_of(op.pads.begin(), op.pads.end(), [&](const ColumnPad& p) { return p.column == column; }))
    return nullptr;
  return &child;
}

/// The random-access source below batch node `batch` whose epochs can end at the last whole
/// batch: batch(drop_remainder) over nothing but maps, projections and renames (each row in
/// gives one row out, in order) over the source, errors raised (skip and replace move rows
/// across the cut). The rows past the cut would be read only to be dropped; torch's BatchSampler
/// with drop_last does not read them either. Null when there is none.
const Node* cut_source(const Node& batch, ErrorSamplesMode errors) {
  if (!std::get<BatchOp>(batch.op).drop_remainder || errors != ErrorSamplesMode::raise) return nullptr;
  for (const Node* node = batch.children.front().get();; node = node->children.front().get()) {
    if (const auto* source = std::get_if<SourceOp>(&node->op)) return source->random_access ? node : nullptr;
    if (!std::holds_alternative<MapOp>(node->op) && !std::holds_alternative<ProjectOp>(node->op) &&
        !std::holds_alternative<RenameOp>(node->op))
      return nullptr;
  }
}

/// The random-access source directly below batch node `batch` (projections and renames aside,
/// noted in `projected`), whose chunks may be read a batch at a time and laid out as the batch.
/// Null when there is none.
const Node* batch_source(const Node& batch, bool& projected) {
  projected = false;
  for (const Node* node = batch.children.front().get();; node = node->children.front().get()) {
    if (const auto* source = std::get_if<SourceOp>(&node->op)) return source->random_access ? node : nullptr;
    projected |= std::holds_alternative<ProjectOp>(node->op);
    if (!std::holds_alternative<ProjectOp>(node->op) && !std::holds_alternative<RenameOp>(node->op)) return nullptr;
  }
}

}  // namespace

RowStage Compiler::map_stage(const Node& node, const MapOp& map) {
  const std::string name = "map[" + std::to_string(maps_++) + "]";
  auto stage_counters = counter(name, workers(map.workers));
  const std::uint64_t first_op = ops_;
  ops_ += map.ops.size();
  // When the batch stage runs the last op (a SlotOp), this stage runs the others and checks
  // that the SlotOp takes their output, so that a bad input still fails here, on its sample.
  std::optional<SlotOp> deferred;
  if (auto it = std::find(slot_maps_.begin(), slot_maps_.end(), &node); it != slot_maps_.end()) {
    slot_maps_.erase(it);
    deferred = *map.ops.back().target<SlotOp>();
    slot_writer_ = SlotWriter{output_column(map), *deferred, name};
  }
  const std::size_t run = map.ops.size() - (deferred ? 1 : 0);
  return {std::move(stage_counters), [map, deferred, run, seed = config_.seed, first_op](Sample& sample,
                                                                                      std::uint64_t epoch) {
            Row values = select_columns(sample.row, map.inputs);
            OpContext context{seed, epoch, sample.index, first_op};
            for (std::size_t i = 0; i < run; ++i) {
              values = map.ops[i](std::move(values), context);
              ++context.op;
            }
            if (values.size() != map.output_count)
              throw std::runtime_error("returned " + columns_phrase(values.size()) + "; expected " +
                                       std::to_string(map.output_count));
            if (deferred) deferred->layout(values[0]);
            Row out;
            out.reserve(map.layout.size());
            for (ColumnSource c : map.layout)
              out.push_back(c.from_output ? std::move(values[c.index]) : std::move(sample.row[c.index]));
            sample.row = std::move(out);
            return true;
          }};
}

std::optional<ResumeCount> Compiler::resume_count(const Node& node) const {
  if (!start_.cut) return std::nullopt;
  return ResumeCount{first_epoch_, start_.cut->counts.at(stamp_slot(node) - 1)};
}

std::shared_ptr<StageCounters> Compiler::counter(std::string name, std::size_t workers) {
  counters_.push_back(std::make_shared<StageCounters>(std::move(name), workers));
  return counters_.back();
}

std::size_t Compiler::worker_count(std::optional<std::size_t> requested) const {
  const std::size_t n = requested.value_or(config_.num_parallel_workers);
  return n ? n : static_cast<std::size_t>(tbb::info::default_concurrency());  // honours affinity masks
}

std::size_t Compiler::workers(std::optional<std::size_t> requested) {
  const std::size_t n = worker_count(requested);
  max_workers_ = std::max(max_workers_, n);
  return n;
}

const Node* Compiler::in_place_source(const Node& batch) const {
  // Replace mode copies a kept row into later batches: it must not be a view of a batch that
  // the consumer may have written to since.
  if (config_.error_samples_mode == ErrorSamplesMode::replace) return nullptr;
  bool projected;
  const Node* node = batch_source(batch, projected);
  if (!node) return nullptr;
  const auto& source = std::get<SourceOp>(node->op);
  if (source.random_access->hints().rows_laid_out) return node;
  // The fetch stage lays out every column it reads: not worth it when a column is dropped, padded
  // or replaced before the batch is collated.
  const auto& op = std::get<BatchOp>(batch.op);
  const bool all_taken = !projected && op.pads.empty() && !op.per_batch_map;
  return all_taken && worker_count(source.options.num_parallel_workers) > 1 ? node : nullptr;
}

void Compiler::add_row_stage(std::unique_ptr<Stream>& stream, RowStage stage) {
  auto* parallel = dynamic_cast<ParallelStream*>(stream.get());
  if (!parallel) {
    auto created = std::make_unique<ParallelStream>(std::move(stream), arena_, config_.rows_per_task,
                                                    config_.error_samples_mode, first_epoch_);
    parallel = created.get();
    stream = std::move(created);
  }
  parallel->add_stage(std::move(stage));
}

std::unique_ptr<Stream> Compiler::compile(const Node& node) {
  if (const auto* batch = std::get_if<BatchOp>(&node.op)) {
    if (const Node* map = slot_map(node)) slot_maps_.push_back(map);
    if (const Node* source = cut_source(node, config_.error_samples_mode))
      cut_sources_.emplace_back(source, batch->batch_size);
    if (const Node* source = in_place_source(node)) in_place_sources_.emplace_back(source, batch->batch_size);
  }
  // Below a repeat, epochs are the repeat's passes: a resumed one starts in its resumed pass.
  const std::uint64_t first_epoch = first_epoch_;
  if (auto* op = std::get_if<RepeatOp>(&node.op)) {
    auto passes = resume_count(node);
    first_epoch_ = repeat_child_epoch(first_epoch_, op->count) + (passes ? passes->count : 0);
  }
  std::vector<std::unique_ptr<Stream>> children;
  for (const auto& child : node.children) children.push_back(compile(*child));
  first_epoch_ = first_epoch;
  std::unique_ptr<Stream> stream = children.empty() ? nullptr : std::move(children.front());

  if (auto* op = std::get_if<SourceOp>(&node.op)) {
    const std::size_t columns = node.columns.size();
    if (op->random_access) {
      auto sampler = make_sampler(op->options, config_.seed);
      const SourceHints hints = op->random_access->hints();
      // A source that wants fixed chunks gets them (see SourceHints::block).
      const std::size_t block = hints.block;
      // A resumed chunk is read whole (its source may seed per chunk), and so are those of a
      // resumed shuffle buffer's rows. The rows before the position are dropped: by the shuffle
      // buffer when there is one (it keeps those it held), else by the parallel stream.
      const std::uint64_t head = block ? start_.rows % block : 0;
      const std::uint64_t discard = start_.replay.empty() ? head : 0;
      std::size_t whole = 0;
      if (auto it = std::find_if(cut_sources_.begin(), cut_sources_.end(), [&](const auto& c) { return c.first == &node; });
          it != cut_sources_.end()) {
        whole = it->second;
        cut_sources_.erase(it);
      }
      const std::size_t fetchers = workers(op->options.num_parallel_workers);
      // Chunks of a whole batch, where the batch takes them in place: a batch per worker and two
      // waiting are in flight, not the usual 2 chunks per thread.
      std::size_t chunk = block ? block : config_.rows_per_task, in_flight = 0;
      std::shared_ptr<BufferPool> batches;
      if (auto it = std::find_if(in_place_sources_.begin(), in_place_sources_.end(),
                                 [&](const auto& c) { return c.first == &node; });
          it != in_place_sources_.end()) {
        const bool lays_out = hints.rows_laid_out;
        if ((block == 0 || it->second % block == 0) && it->second <= ParallelStream::kMaxChunkRows) {
          chunk = it->second;
          in_flight = fetchers + 2;
          // A source that does not lay its chunks out as batches has the fetch stage do it.
          if (!lays_out) batches = BufferPool::create(columns * (config_.prefetch_size + in_flight + 2));
        }
        taken_in_place_ = TakenInPlace{.any = lays_out, .laid_out = batches};
        in_place_sources_.erase(it);
      }
      stream = std::make_unique<ParallelStream>(
          std::make_unique<SamplerStream>(std::move(sampler), op->random_access->size(), first_epoch_,
                                          start_.rows - head, start_.replay, block, whole),
          arena_, chunk, config_.error_samples_mode, first_epoch_, discard, in_flight);
      add_row_stage(stream,
                    fetch_stage(op->random_access, columns, counter("source", fetchers), std::move(batches)));
    } else {
      auto reader = op->iterable->fork();
      std::optional<std::uint64_t> limit;
      if (op->options.num_samples) limit = *op->options.num_samples;
      stream = std::make_unique<IterableStream>(reader ? reader : op->iterable, columns, counter("source"), first_epoch_,
                                                start_.rows, start_.replay, limit);
    }
  } else if (auto* op = std::get_if<MapOp>(&node.op)) {
    add_row_stage(stream, map_stage(node, *op));
  } else if (auto* op = std::get_if<FilterOp>(&node.op)) {
    auto stage_counters = counter("filter[" + std::to_string(filters_++) + "]", workers(op->workers));
    add_row_stage(stream, {std::move(stage_counters), [op = *op](Sample& sample, std::uint64_t) {
                             return op.predicate(select_columns(sample.row, op.inputs));
                           }});
  } else if (auto* op = std::get_if<ProjectOp>(&node.op)) {
    if (dynamic_cast<ParallelStream*>(stream.get()))
      add_row_stage(stream, {counter("project", 1), [columns = op->columns](Sample& sample, std::uint64_t) {
                               sample.row = select_columns(sample.row, columns);
                               return true;
                             }});
    else
      stream = std::make_unique<ProjectStream>(std::move(stream), op->columns);
  } else if (auto* op = std::get_if<ShuffleOp>(&node.op)) {
    std::optional<ShuffleResume> resume;
    if (auto emitted = resume_count(node))
      resume = ShuffleResume{emitted->count, start_.cut->rows, start_.cut->shuffle.value_or(ShuffleState{})};
    stream = std::make_unique<ShuffleStream>(std::move(stream), op->buffer_size, config_.seed, counter("shuffle"),
                                             slot(node), first_epoch_, std::move(resume));
  } else if (auto* op = std::get_if<BatchOp>(&node.op)) {
    stream = std::make_unique<BatchStream>(std::move(stream), *op, node.columns, config_.prefetch_size + 2,
                                           arena_, counter("batch"), std::exchange(slot_writer_, std::nullopt),
                                           slot(node), resume_count(node),
                                           std::exchange(taken_in_place_, std::nullopt).value_or(TakenInPlace{}));
  } else if (auto* op = std::get_if<RepeatOp>(&node.op)) {
    stream = std::make_unique<RepeatStream>(std::move(stream), op->count, slot(node), resume_count(node));
  } else if (auto* op = std::get_if<TakeOp>(&node.op)) {
    stream = std::make_unique<TakeSkipStream>(std::move(stream), TakeSkipStream::Mode::take, op->count, slot(node),
                                              resume_count(node));
  } else if (auto* op = std::get_if<SkipOp>(&node.op)) {
    std::optional<ResumeCount> skipped;
    if (start_.cut) skipped = ResumeCount{first_epoch_, op->count};
    stream = std::make_unique<TakeSkipStream>(std::move(stream), TakeSkipStream::Mode::skip, op->count, kStampWords,
                                              skipped);
  } else if (std::holds_alternative<ZipOp>(node.op) || std::holds_alternative<ConcatOp>(node.op)) {
    children.front() = std::move(stream);
    auto mode = std::holds_alternative<ZipOp>(node.op) ? CombineStream::Mode::zip : CombineStream::Mode::concat;
    stream = std::make_unique<CombineStream>(std::move(children), mode);
  }
  // RenameOp changes names only: the rows flow through as they are.
  return stream;
}

}  // namespace conveyor::detail
