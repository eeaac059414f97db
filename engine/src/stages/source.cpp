#include "stages/source.hpp"

#include <algorithm>
#include <unordered_map>

#include "conveyor/error.hpp"
#include "data/columns_phrase.hpp"

namespace conveyor::detail {
namespace {

// Rows a placing fetch reads at a time: 16 rows of a few KiB stay in cache until they are placed.
constexpr std::size_t kPlacedPiece = 16;

void check_columns(const Row& row, std::size_t columns) {
  if (row.size() != columns)
    throw std::runtime_error("returned a row of " + columns_phrase(row.size()) + "; the dataset has " +
                             std::to_string(columns));
}

}  // namespace

SamplerStream::SamplerStream(std::shared_ptr<const Sampler> sampler, std::size_t dataset_size,
                             std::uint64_t first_epoch, std::uint64_t skip, std::vector<std::uint64_t> replay,
                             std::size_t block, std::size_t whole)
    : sampler_(std::move(sampler)),
      dataset_size_(dataset_size),
      first_epoch_(first_epoch),
      skip_(skip),
      replay_(std::move(replay)),
      block_(block),
      whole_(whole) {}

void SamplerStream::begin_epoch(std::uint64_t epoch) {
  try {
    indices_ = sampler_->indices(dataset_size_, sampler_->epoch() + epoch);
  } catch (...) {
    throw wrap_current_exception("sampler", std::nullopt);
  }
  if (whole_) {
    std::size_t kept = indices_.size() / whole_ * whole_;
    if (block_) kept = (kept + block_ - 1) / block_ * block_;
    indices_.resize(std::min(kept, indices_.size()));
  }
  const bool first = epoch == first_epoch_;
  position_ = first ? static_cast<std::size_t>(std::min<std::uint64_t>(skip_, indices_.size())) : 0;
  replaying_.clear();
  replayed_ = 0;
  if (!first) return;
  for (std::uint64_t position : replay_)
    if (position >= indices_.size())
      throw Error("sampler", std::nullopt,
                  "a resumed shuffle buffer holds position " + std::to_string(position) + " of an epoch of " +
                      std::to_string(indices_.size()));
  if (!block_) {
    replaying_ = replay_;
    return;
  }
  // The chunks of the buffered positions before skip_, each read once: at most one chunk per
  // buffered row, so a buffer of k rows costs at most k × block_ reads. They are whole (skip_
  // is a multiple of block_), so the chunks after them start at multiples of block_ too.
  std::vector<std::uint64_t> chunks;
  for (std::uint64_t position : replay_)
    if (position < skip_) chunks.push_back(position / block_);
  std::sort(chunks.begin(), chunks.end());
  chunks.erase(std::unique(chunks.begin(), chunks.end()), chunks.end());
  for (std::uint64_t chunk : chunks) {
    const std::uint64_t end = std::min<std::uint64_t>((chunk + 1) * block_, indices_.size());
    for (std::uint64_t position = chunk * block_; position < end; ++position) replaying_.push_back(position);
  }
}

std::optional<Sample> SamplerStream::next() {
  Sample sample;
  if (replayed_ < replaying_.size()) {
    const std::uint64_t position = replaying_[replayed_++];
    sample.index = indices_[position];
    sample.stamp.set(0, position + 1);
    return sample;
  }
  if (position_ == indices_.size()) return std::nullopt;
  sample.index = indices_[position_++];
  sample.stamp.set(0, position_);
  return sample;
}

RowStage fetch_stage(std::shared_ptr<const RandomAccessSource> source, std::size_t columns,
                     std::shared_ptr<StageCounters> counters) {
  RowStage stage{.counters = std::move(counters)};
  const SourceHints hints = source->hints();
  stage.apply_many = [source = std::move(source), columns, hints](
                         std::span<Sample* const> samples, std::uint64_t epoch, std::span<const Place> places,
                         std::span<std::exception_ptr> errors, std::stop_token stop) {
    const std::size_t n = samples.size();
    std::vector<std::uint64_t> indices;
    indices.reserve(n);
    for (const Sample* s : samples) indices.push_back(s->index);
    std::vector<Row> rows(n);
    const bool placing =
        !hints.rows_laid_out && std::any_of(places.begin(), places.end(), [](const Place& p) { return p.batch; });
    const std::size_t piece = !placing ? n : hints.block ? hints.block : kPlacedPiece;
    for (std::size_t from = 0; from < n; from += piece) {
      if (from && stop.stop_requested()) break;  // nobody will read the chunk: nor the pieces left
      const std::size_t count = std::min(piece, n - from);
      try {
        source->read_many(std::span(indices).subspan(from, count), epoch, std::span(rows).subspan(from, count),
                          errors.subspan(from, count), stop);
      } catch (...) {  // fails this piece's rows, not those read before it
        std::fill(errors.begin() + from, errors.begin() + from + count, std::current_exception());
        continue;
      }
      for (std::size_t i = from; i < from + count; ++i) {
        if (errors[i]) continue;
        try {
          check_columns(rows[i], columns);
          if (placing && places[i].batch) places[i].batch->place(rows[i], places[i].position);
          samples[i]->row = std::move(rows[i]);
        } catch (...) {
          errors[i] = std::current_exception();
        }
      }
    }
  };
  return stage;
}

IterableStream::IterableStream(std::shared_ptr<IterableSource> source, std::size_t columns,
                               std::shared_ptr<StageCounters> counters, std::uint64_t first_epoch, std::uint64_t skip,
                               std::vector<std::uint64_t> replay, std::optional<std::uint64_t> limit)
    : source_(std::move(source)),
      columns_(columns),
      counters_(std::move(counters)),
      first_epoch_(first_epoch),
      skip_(skip),
      replay_(std::move(replay)),
      limit_(limit) {}

void IterableStream::begin_epoch(std::uint64_t epoch) {
  index_ = 0;
  replayed_.clear();
  yielded_ = 0;
  try {
    source_->reset();
  } catch (...) {
    throw wrap_current_exception("source", std::nullopt);
  }
  if (epoch != first_epoch_) return;
  // The rows a resumed shuffle buffer held are kept as they pass (at most its size of them).
  std::unordered_map<std::uint64_t, std::size_t> wanted;
  for (std::size_t i = 0; i < replay_.size(); ++i) wanted.emplace(replay_[i], i);
  replayed_.resize(replay_.size());
  while (index_ < skip_) {
    auto sample = read();
    if (!sample) break;
    if (auto it = wanted.find(sample->stamp[0] - 1); it != wanted.end()) replayed_[it->second] = std::move(*sample);
  }
  if (index_ < skip_ && !replay_.empty())
    throw Error("source", std::nullopt,
                "a resumed shuffle buffer holds rows up to " + std::to_string(skip_) + " of a pass of " +
                    std::to_string(index_));
}

std::optional<Sample> IterableStream::next() {
  if (yielded_ < replayed_.size()) return std::move(replayed_[yielded_++]);
  return read();
}

std::optional<Sample> IterableStream::read() {
  if (limit_ && index_ >= *limit_) return std::nullopt;
  auto start = Clock::now();
  try {
    auto row = source_->next();
    counters_->busy_ns += elapsed_ns(start);
    if (!row) return std::nullopt;
    check_columns(*row, columns_);
    ++counters_->rows;
    Sample sample{std::move(*row), index_++};
    sample.stamp.set(0, index_);
    return sample;
  } catch (...) {
    throw wrap_current_exception("source", index_);
  }
}

}  // namespace conveyor::detail
