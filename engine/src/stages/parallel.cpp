#include "stages/parallel.hpp"

#include <algorithm>
#include <limits>

#include "conveyor/error.hpp"
#include "runtime/engine_thread.hpp"

namespace conveyor::detail {

struct ParallelStream::Chunk {
  std::uint64_t seq = 0;
  std::uint64_t epoch = 0;
  bool end_of_epoch = false;
  std::vector<Sample> samples;
  // Per sample: dropped by a filter, or failed (then `errors` holds why).
  std::vector<bool> dropped;
  std::vector<std::exception_ptr> errors;
  // When rows are placed: the epoch position of samples[0] (negative for rows the consumer
  // discards), and the batches they go to, from the one holding the first position that is not.
  std::int64_t first_position = 0;
  std::vector<std::shared_ptr<BatchAssembly>> batches;
};

ParallelStream::ParallelStream(std::unique_ptr<Stream> head, tbb::task_arena& arena, std::size_t rows_per_task,
                               ErrorSamplesMode errors, std::uint64_t first_epoch, std::uint64_t discard,
                               std::size_t in_flight)
    : head_(std::move(head)),
      arena_(arena),
      rows_per_task_(rows_per_task),
      in_flight_(in_flight),
      credits_(0),
      done_(std::numeric_limits<std::size_t>::max()),
      wanted_epoch_(first_epoch),
      policy_(errors),
      first_discard_(discard),
      discard_(discard),
      discard_epoch_(first_epoch),
      epoch_(first_epoch) {}

ParallelStream::~ParallelStream() {
  cancel();
  if (feeder_.joinable()) feeder_.join();
  if (graph_) graph_->wait_for_all();
}

void ParallelStream::add_stage(RowStage stage) {
  policy_.count_in(stage.counters);
  stages_.push_back(std::move(stage));
}

bool ParallelStream::place_rows(std::shared_ptr<BufferPool> pool, std::size_t batch_rows, std::size_t columns) {
  if (stages_.empty() || (stages_.back().counters->workers < 2 && !stages_.back().writes_in_place)) return false;
  batch_pool_ = std::move(pool);
  batch_rows_ = batch_rows;
  batch_columns_ = columns;
  // Chunks of a whole batch: one per worker and two waiting are in flight, not the usual 2 per
  // thread (feed() gives the others back if rows turn out too costly for whole batches).
  std::size_t workers = 0;
  for (const RowStage& stage : stages_) workers = std::max(workers, stage.counters->workers);
  if (rows_per_task_ == 0 && batch_rows <= kMaxChunkRows) in_flight_ = workers + 2;
  return true;
}

std::size_t ParallelStream::chunk_rows() const {
  const std::size_t measured = measured_chunk_rows();
  if (!batch_pool_ || rows_per_task_ != 0) return measured;
  // A whole batch per chunk while a batch's rows take at most ten times a chunk's target time:
  // a worker then writes its batch alone, in order, which runs faster for cheap rows.
  if (batch_rows_ <= kMaxChunkRows && measured * kWholeBatchTasks >= batch_rows_) return batch_rows_;
  return std::min(measured, batch_rows_);
}

std::size_t ParallelStream::usual_credits() const {
  return 2 * static_cast<std::size_t>(arena_.max_concurrency()) + 2;
}

bool ParallelStream::warmed_up() const {
  return !stages_.empty() && stages_.front().counters->rows.load(std::memory_order_relaxed) >= kWarmUpRows;
}

std::size_t ParallelStream::measured_chunk_rows() const {
  if (rows_per_task_ != 0) return rows_per_task_;
  if (stages_.empty()) return kMaxChunkRows;
  constexpr std::int64_t kTargetNs = 200'000;
  // Single rows until the cost of a row is known: the first batch is not held up by a chunk
  // of expensive rows on one worker.
  std::uint64_t rows = stages_.front().counters->rows.load(std::memory_order_relaxed);
  if (rows < kWarmUpRows) return 1;
  std::int64_t busy = 0;
  for (const RowStage& stage : stages_) busy += stage.counters->busy_ns.load(std::memory_order_relaxed);
  std::int64_t per_row = std::max<std::int64_t>(1, busy / static_cast<std::int64_t>(rows));
  return static_cast<std::size_t>(std::clamp<std::int64_t>(kTargetNs / per_row, 1, kMaxChunkRows));
}

void ParallelStream::run_stage(const RowStage& stage, Chunk& chunk, bool last) const {
  EngineThreadScope engine_thread;
  auto start = Clock::now();
  std::uint64_t rows = 0;
  // Rows nobody will read: after cancel(), or of an epoch the consumer has left.
  auto abandoned = [&] {
    return stop_.stop_requested() || chunk.epoch < wanted_epoch_.load(std::memory_order_relaxed);
  };
  auto fail = [&](std::size_t i) {
    chunk.errors[i] = std::make_exception_ptr(wrap_current_exception(stage.counters->name, chunk.samples[i].index));
  };
  const bool placing = last && !chunk.batches.empty();
  // The number in the epoch of chunk.batches[0].
  const std::uint64_t first_batch =
      placing ? static_cast<std::uint64_t>(std::max<std::int64_t>(chunk.first_position, 0)) / batch_rows_ : 0;
  auto place = [&](std::size_t i) -> Place {
    const std::int64_t position = chunk.first_position + static_cast<std::int64_t>(i);
    if (!placing || position < 0) return {};
    const auto p = static_cast<std::uint64_t>(position);
    return {chunk.batches[p / batch_rows_ - first_batch].get(), p % batch_rows_};
  };
  if (stage.apply_many) {
    std::vector<std::size_t> live;
    std::vector<Sample*> samples;
    std::vector<Place> places;
    for (std::size_t i = 0; i < chunk.samples.size(); ++i)
      if (!chunk.dropped[i] && !chunk.errors[i]) {
        live.push_back(i);
        samples.push_back(&chunk.samples[i]);
        places.push_back(place(i));
      }
    if (!live.empty() && !abandoned()) {
      std::vector<std::exception_ptr> errors(live.size());
      try {
        stage.apply_many(samples, chunk.epoch, places, errors, stop_.get_token());
      } catch (...) {
        errors.assign(live.size(), std::current_exception());
      }
      for (std::size_t k = 0; k < live.size(); ++k) {
        if (!errors[k]) {
          ++rows;
          continue;
        }
        try {
          std::rethrow_exception(errors[k]);
        } catch (...) {
          fail(live[k]);
        }
      }
    }
  } else {
    for (std::size_t i = 0; i < chunk.samples.size() && !abandoned(); ++i) {
      if (chunk.dropped[i] || chunk.errors[i]) continue;
      try {
        chunk.dropped[i] = !stage.apply(chunk.samples[i], chunk.epoch, place(i));
        rows += !chunk.dropped[i];
      } catch (...) {
        fail(i);
      }
    }
  }
  stage.counters->rows += rows;
  stage.counters->busy_ns += elapsed_ns(start);
}

void ParallelStream::plan(std::optional<std::uint64_t> epochs) {
  head_->plan(epochs);
  arena_.execute([&] {
    // Built inside the arena so that the graph's tasks run there.
    graph_ = std::make_unique<tbb::flow::graph>();
    for (const RowStage& stage : stages_) {
      const bool last = &stage == &stages_.back();
      nodes_.push_back(
          std::make_unique<StageNode>(*graph_, stage.counters->workers, [this, &stage, last](ChunkPtr chunk) {
            run_stage(stage, *chunk, last);
            return chunk;
          }));
      if (nodes_.size() > 1) tbb::flow::make_edge(*nodes_[nodes_.size() - 2], *nodes_.back());
    }
    sequencer_ = std::make_unique<tbb::flow::sequencer_node<ChunkPtr>>(
        *graph_, [](const ChunkPtr& chunk) { return static_cast<std::size_t>(chunk->seq); });
    sink_ = std::make_unique<tbb::flow::function_node<ChunkPtr>>(
        *graph_, tbb::flow::serial, [this](ChunkPtr chunk) {
          done_.push(std::move(chunk));
          return tbb::flow::continue_msg();
        });
    if (!nodes_.empty()) tbb::flow::make_edge(*nodes_.back(), *sequencer_);
    tbb::flow::make_edge(*sequencer_, *sink_);
  });
  credits_.release(in_flight_ ? in_flight_ : usual_credits());
  feeder_ = std::thread([this, epochs] {
    EngineThreadScope engine_thread;
    feed(epochs);
  });
}

void ParallelStream::assign_batches(Chunk& chunk, std::int64_t& placed) {
  chunk.first_position = placed;
  const std::int64_t end = placed + static_cast<std::int64_t>(chunk.samples.size());
  placed = end;
  if (end <= 0 || chunk.samples.empty()) return;  // no rows, or only rows the consumer discards
  const std::uint64_t first = static_cast<std::uint64_t>(std::max<std::int64_t>(chunk.first_position, 0)) / batch_rows_;
  const std::uint64_t last = static_cast<std::uint64_t>(end - 1) / batch_rows_;
  for (std::uint64_t number = first; number <= last; ++number) {
    if (!open_batch_ || open_number_ != number) {
      open_batch_ = std::make_shared<BatchAssembly>(batch_pool_, batch_rows_, batch_columns_);
      open_number_ = number;
    }
    chunk.batches.push_back(open_batch_);
  }
}

void ParallelStream::feed(std::optional<std::uint64_t> epochs) {
  std::uint64_t seq = 0;
  for (std::uint64_t epoch = 0; !epochs || epoch < *epochs; ++epoch) {
    // The consumer may have moved on (take, zip): skip the epochs it no longer wants.
    epoch = std::max(epoch, wanted_epoch_.load(std::memory_order_relaxed));
    if (epochs && epoch >= *epochs) return;
    bool begun = false;
    // Rows placed so far in the epoch; the rows the consumer discards come first, uncounted.
    std::int64_t placed = epoch == discard_epoch_ ? -static_cast<std::int64_t>(first_discard_) : 0;
    open_batch_.reset();
    for (bool over = false; !over;) {
      if (!credits_.acquire()) return;
      auto chunk = std::make_shared<Chunk>();
      chunk->seq = seq++;
      chunk->epoch = epoch;
      std::exception_ptr failure;
      // An abandoned epoch still ends with a (possibly empty) chunk, so that sequence numbers
      // stay contiguous and the consumer sees the epoch close.
      if (wanted_epoch_.load(std::memory_order_relaxed) > epoch) {
        over = chunk->end_of_epoch = true;
      } else {
        std::size_t rows = chunk_rows();
        // Rows too costly for whole batches: the usual credits.
        if (batch_pool_ && in_flight_ && rows < batch_rows_ && !all_credits_ && warmed_up()) {
          if (usual_credits() > in_flight_) credits_.release(usual_credits() - in_flight_);
          all_credits_ = true;
        }
        // A whole batch per chunk: the rest of the batch the last chunk ended in.
        if (batch_pool_ && rows_per_task_ == 0 && rows == batch_rows_ && placed > 0)
          rows = batch_rows_ - static_cast<std::size_t>(placed) % batch_rows_;
        chunk->samples.reserve(std::min(rows, kMaxChunkRows));  // rows_per_task may be any size
        try {
          if (!begun) head_->begin_epoch(epoch);
          begun = true;
          while (chunk->samples.size() < rows) {
            auto sample = head_->next();
            if (!sample) {
              over = chunk->end_of_epoch = true;
              break;
            }
            chunk->samples.push_back(std::move(*sample));
          }
        } catch (const Cancelled&) {
          return;
        } catch (...) {
          // The head failed: the rows read so far go on, then the error in the next row's
          // place, which ends the epoch; the next epoch starts afresh.
          failure = std::make_exception_ptr(wrap_current_exception("source", std::nullopt));
          over = chunk->end_of_epoch = true;
          chunk->samples.emplace_back();
        }
      }
      chunk->dropped.assign(chunk->samples.size(), false);
      chunk->errors.resize(chunk->samples.size());
      if (failure) chunk->errors.back() = failure;
      if (batch_pool_) assign_batches(*chunk, placed);
      if (nodes_.empty())
        sequencer_->try_put(std::move(chunk));
      else
        nodes_.front()->try_put(std::move(chunk));
    }
  }
}

void ParallelStream::begin_epoch(std::uint64_t epoch) {
  epoch_ = epoch;
  // The rows to drop are those of the first epoch's resumed chunk; a position past that
  // epoch's last row leaves them unread there, and the next epoch starts whole.
  if (epoch != discard_epoch_) discard_ = 0;
  wanted_epoch_.store(epoch, std::memory_order_relaxed);
  epoch_over_ = false;
  if (current_ && current_->epoch < epoch) current_.reset();
  policy_.begin_epoch();
}

std::optional<Sample> ParallelStream::next() {
  for (;;) {
    if (auto replacement = policy_.owed()) return replacement;
    if (epoch_over_) return std::nullopt;
    if (current_ && position_ < current_->samples.size()) {
      std::size_t i = position_++;
      if (discard_ > 0) {
        --discard_;
        continue;
      }
      if (current_->errors[i]) {
        if (auto replacement = policy_.failed(current_->errors[i])) {
          replacement->stamp = current_->samples[i].stamp;  // it stands in the failed row's place
          return replacement;
        }
        continue;
      }
      if (current_->dropped[i]) continue;
      return policy_.passed(std::move(current_->samples[i]));
    }
    if (current_ && current_->end_of_epoch) {
      current_.reset();
      epoch_over_ = true;
      policy_.end_epoch();
      continue;
    }
    auto chunk = done_.pop();
    // A chunk that passed a stage after cancel() may hold rows the stage skipped; the pop
    // synchronises with that stage, so the flag is seen here.
    if (!chunk || stop_.stop_requested()) throw Cancelled{};
    credits_.release();
    // The rest of an epoch the consumer has left (its rows may have been skipped).
    if ((*chunk)->epoch < epoch_) continue;
    current_ = std::move(*chunk);
    position_ = 0;
  }
}

void ParallelStream::cancel() noexcept {
  stop_.request_stop();
  credits_.close();
  done_.abort();
  head_->cancel();
}

}  // namespace conveyor::detail
