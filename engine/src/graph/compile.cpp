#include "graph/compile.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>
#include <oneapi/tbb/info.h>

#include "data/columns_phrase.hpp"
#include "conveyor/slot_op.hpp"
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

/// Whether the rows of the stream compiled for `node` reach a batch above it one for one and in
/// order: `node` is the top of a run of maps, projections and renames (no filter) down to the
/// start of its parallel stream.
bool one_for_one(const Node& node) {
  for (const Node* n = &node;; n = n->children.front().get()) {
    if (std::holds_alternative<FilterOp>(n->op)) return false;
    if (!std::holds_alternative<MapOp>(n->op) && !std::holds_alternative<ProjectOp>(n->op) &&
        !std::holds_alternative<RenameOp>(n->op))
      return true;
  }
}

/// Whether the rows reaching batch child `node` are those of a random-access source that lays
/// them out itself (SourceHints::rows_laid_out), as read: only projections and renames between.
bool laid_out_source(const Node& node) {
  for (const Node* n = &node;; n = n->children.front().get()) {
    if (const auto* source = std::get_if<SourceOp>(&n->op))
      return source->random_access && source->random_access->hints().rows_laid_out;
    if (!std::holds_alternative<ProjectOp>(n->op) && !std::holds_alternative<RenameOp>(n->op)) return false;
  }
}

}  // namespace

RowStage Compiler::map_stage(const MapOp& map) {
  auto stage_counters = counter("map[" + std::to_string(maps_++) + "]", workers(map.workers));
  const std::uint64_t first_op = ops_;
  ops_ += map.ops.size();
  // A last op that writes into memory it is given writes a placed row's output straight into
  // its place in the batch; elsewhere it is an ordinary op.
  const SlotOp* writer = map.output_count == 1 ? map.ops.back().target<SlotOp>() : nullptr;
  std::optional<SlotOp> last_writer = writer ? std::optional(*writer) : std::nullopt;
  RowStage stage{.counters = std::move(stage_counters)};
  stage.writes_in_place = last_writer.has_value();
  stage.apply = [map, last_writer, seed = config_.seed, first_op](Sample& sample, std::uint64_t epoch, Place place) {
    Row values = select_columns(sample.row, map.inputs);
    OpContext context{seed, epoch, sample.index, first_op};
    const bool write_in_place = last_writer && place.batch;
    const std::size_t run = map.ops.size() - (write_in_place ? 1 : 0);
    for (std::size_t i = 0; i < run; ++i) {
      values = map.ops[i](std::move(values), context);
      ++context.op;
    }
    // The op refuses another number of columns, with the error its ordinary path gives.
    if (write_in_place && values.size() != 1) (*last_writer)(std::move(values), context);
    if (values.size() != map.output_count)
      throw std::runtime_error("returned " + columns_phrase(values.size()) + "; expected " +
                               std::to_string(map.output_count));
    Row out;
    out.reserve(map.layout.size());
    for (ColumnSource c : map.layout) {
      if (!c.from_output) {
        out.push_back(std::move(sample.row[c.index]));
      } else if (!write_in_place) {
        out.push_back(std::move(values[c.index]));
      } else {
        const Tensor& input = values[c.index];
        const SlotLayout layout = last_writer->layout(input);
        auto target = place.batch->reserve(place.position, out.size(), layout.dtype, layout.shape);
        if (target) {
          last_writer->write(input, target->data());
          out.push_back(std::move(*target));
        } else {
          out.push_back(std::move((*last_writer)(Row{input}, context)[0]));
        }
      }
    }
    if (place.batch) place.batch->place(out, place.position);
    sample.row = std::move(out);
    return true;
  };
  return stage;
}

std::optional<ResumeCount> Compiler::resume_count(const Node& node, std::uint64_t first_epoch) const {
  if (!start_.cut) return std::nullopt;
  return ResumeCount{first_epoch, start_.cut->counts.at(stamp_slot(node) - 1)};
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

void Compiler::add_row_stage(std::unique_ptr<Stream>& stream, RowStage stage, std::uint64_t first_epoch) {
  auto* parallel = dynamic_cast<ParallelStream*>(stream.get());
  if (!parallel) {
    auto created = std::make_unique<ParallelStream>(std::move(stream), arena_, config_.rows_per_task,
                                                    config_.error_samples_mode, first_epoch);
    parallel = created.get();
    stream = std::move(created);
  }
  parallel->add_stage(std::move(stage));
}

std::unique_ptr<Stream> Compiler::source(const Node& node, const SourceOp& op, const Above& above) {
  const std::size_t columns = node.columns.size();
  if (!op.random_access) {
    auto reader = op.iterable->fork();
    std::optional<std::uint64_t> limit;
    if (op.options.num_samples) limit = *op.options.num_samples;
    return std::make_unique<IterableStream>(reader ? reader : op.iterable, columns, counter("source"),
                                            above.first_epoch, start_.rows, start_.replay, limit);
  }
  auto sampler = make_sampler(op.options, config_.seed);
  const SourceHints hints = op.random_access->hints();
  // A source that wants fixed chunks gets them (see SourceHints::block).
  const std::size_t block = hints.block;
  // A resumed chunk is read whole (its source may seed per chunk), and so are those of a
  // resumed shuffle buffer's rows. The rows before the position are dropped: by the shuffle
  // buffer when there is one (it keeps those it held), else by the parallel stream.
  const std::uint64_t head = block ? start_.rows % block : 0;
  const std::uint64_t discard = start_.replay.empty() ? head : 0;
  const std::size_t fetchers = workers(op.options.num_parallel_workers);
  // A source that lays its rows out itself is read a batch per call when a batch takes them as
  // read: the batch is then the memory the source laid out. A batch per worker and two waiting
  // are in flight, not the usual 2 chunks per thread.
  std::size_t chunk = block ? block : config_.rows_per_task, in_flight = 0;
  const std::size_t batch = above.batch_rows;
  if (hints.rows_laid_out && batch && (block == 0 || batch % block == 0) && batch <= ParallelStream::kMaxChunkRows) {
    chunk = batch;
    in_flight = fetchers + 2;
  }
  std::unique_ptr<Stream> stream = std::make_unique<ParallelStream>(
      std::make_unique<SamplerStream>(std::move(sampler), op.random_access->size(), above.first_epoch,
                                      start_.rows - head, start_.replay, block, above.whole_batches),
      arena_, chunk, config_.error_samples_mode, above.first_epoch, discard, in_flight);
  add_row_stage(stream, fetch_stage(op.random_access, columns, counter("source", fetchers)), above.first_epoch);
  return stream;
}

std::unique_ptr<Stream> Compiler::batch(const Node& node, const BatchOp& op, const Above& above) {
  const Node& child = *node.children.front();
  const bool plain = !op.per_batch_map && op.pads.empty();
  const bool rows_one_for_one = one_for_one(child);
  // A batch may be a view of the memory its rows were made in, except when errors are replaced:
  // a replacement copies a kept row, which must not be a view of a batch the consumer may have
  // written to since.
  const bool views = config_.error_samples_mode != ErrorSamplesMode::replace;
  // The batch takes its child's rows one for one: a source may stop at the last whole batch, and
  // one that lays its rows out is read a batch per call.
  Above below{.first_epoch = above.first_epoch};
  if (rows_one_for_one) {
    if (op.drop_remainder && config_.error_samples_mode == ErrorSamplesMode::raise) below.whole_batches = op.batch_size;
    if (views) below.batch_rows = op.batch_size;
  }
  std::unique_ptr<Stream> stream = compile(child, below);
  // Idle buffers kept: those of the batches queued for the consumer, and of those in flight
  // below (a batch's worth of rows per chunk, 2 chunks per thread and 2 more).
  auto pool = BufferPool::create(node.columns.size() * (config_.prefetch_size + 2 * max_workers_ + 8));
  // The last row-wise stage below writes each row into its place in the batch.
  auto* parallel = dynamic_cast<ParallelStream*>(stream.get());
  if (parallel && plain && rows_one_for_one && views) parallel->place_rows(pool, op.batch_size, node.columns.size());
  return std::make_unique<BatchStream>(std::move(stream), op, node.columns, std::move(pool), arena_, counter("batch"),
                                       views && laid_out_source(child), stage_resume(node, above.first_epoch));
}

std::unique_ptr<Stream> Compiler::compile(const Node& node, const Above& above) {
  if (auto* op = std::get_if<SourceOp>(&node.op)) return source(node, *op, above);
  if (auto* op = std::get_if<BatchOp>(&node.op)) return batch(node, *op, above);
  // Below a repeat, epochs are the repeat's passes: a resumed one starts in its resumed pass.
  Above below{.first_epoch = above.first_epoch};
  if (auto* op = std::get_if<RepeatOp>(&node.op)) {
    auto passes = resume_count(node, above.first_epoch);
    below.first_epoch = repeat_child_epoch(above.first_epoch, op->count) + (passes ? passes->count : 0);
  }
  // Maps keep the rows one for one; projections and renames keep them as read, too.
  if (std::holds_alternative<MapOp>(node.op)) below.whole_batches = above.whole_batches;
  if (std::holds_alternative<ProjectOp>(node.op) || std::holds_alternative<RenameOp>(node.op)) below = above;
  std::vector<std::unique_ptr<Stream>> children;
  for (const auto& child : node.children) children.push_back(compile(*child, below));
  std::unique_ptr<Stream> stream = children.empty() ? nullptr : std::move(children.front());

  if (auto* op = std::get_if<MapOp>(&node.op)) {
    add_row_stage(stream, map_stage(*op), above.first_epoch);
  } else if (auto* op = std::get_if<FilterOp>(&node.op)) {
    auto stage_counters = counter("filter[" + std::to_string(filters_++) + "]", workers(op->workers));
    add_row_stage(stream,
                  {.counters = std::move(stage_counters),
                   .apply = [op = *op](Sample& sample, std::uint64_t, Place) {
                     return op.predicate(select_columns(sample.row, op.inputs));
                   }},
                  above.first_epoch);
  } else if (auto* op = std::get_if<ProjectOp>(&node.op)) {
    if (dynamic_cast<ParallelStream*>(stream.get()))
      add_row_stage(stream,
                    {.counters = counter("project", 1),
                     .apply = [columns = op->columns](Sample& sample, std::uint64_t, Place place) {
                       sample.row = select_columns(sample.row, columns);
                       if (place.batch) place.batch->place(sample.row, place.position);
                       return true;
                     }},
                    above.first_epoch);
    else
      stream = std::make_unique<ProjectStream>(std::move(stream), op->columns);
  } else if (auto* op = std::get_if<ShuffleOp>(&node.op)) {
    std::optional<ShuffleResume> resume;
    if (auto emitted = resume_count(node, above.first_epoch))
      resume = ShuffleResume{emitted->count, start_.cut->rows, start_.cut->shuffle.value_or(ShuffleState{})};
    stream = std::make_unique<ShuffleStream>(std::move(stream), op->buffer_size, config_.seed, counter("shuffle"),
                                             slot(node), above.first_epoch, std::move(resume));
  } else if (auto* op = std::get_if<RepeatOp>(&node.op)) {
    stream = std::make_unique<RepeatStream>(std::move(stream), op->count, stage_resume(node, above.first_epoch));
  } else if (auto* op = std::get_if<TakeOp>(&node.op)) {
    stream = std::make_unique<TakeSkipStream>(std::move(stream), TakeSkipStream::Mode::take, op->count,
                                              stage_resume(node, above.first_epoch));
  } else if (auto* op = std::get_if<SkipOp>(&node.op)) {
    // Not stamped; resumed mid-epoch, it has skipped its rows already.
    StageResume skipped;
    if (start_.cut) skipped.from = ResumeCount{above.first_epoch, op->count};
    stream = std::make_unique<TakeSkipStream>(std::move(stream), TakeSkipStream::Mode::skip, op->count, skipped);
  } else if (std::holds_alternative<ZipOp>(node.op) || std::holds_alternative<ConcatOp>(node.op)) {
    children.front() = std::move(stream);
    auto mode = std::holds_alternative<ZipOp>(node.op) ? CombineStream::Mode::zip : CombineStream::Mode::concat;
    stream = std::make_unique<CombineStream>(std::move(children), mode);
  }
  // RenameOp changes names only: the rows flow through as they are.
  return stream;
}

}  // namespace conveyor::detail
