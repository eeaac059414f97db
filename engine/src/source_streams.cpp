#include "source_streams.hpp"

#include <algorithm>

#include "conveyor/error.hpp"

namespace conveyor::detail {
namespace {

void check_columns(const Row& row, std::size_t columns) {
  if (row.size() != columns)
    throw std::runtime_error("returned a row of " + std::to_string(row.size()) + " columns; the dataset has " +
                             std::to_string(columns));
}

}  // namespace

SamplerStream::SamplerStream(std::shared_ptr<const Sampler> sampler, std::size_t dataset_size,
                             std::uint64_t first_epoch, std::uint64_t skip)
    : sampler_(std::move(sampler)), dataset_size_(dataset_size), first_epoch_(first_epoch), skip_(skip) {}

void SamplerStream::begin_epoch(std::uint64_t epoch) {
  try {
    indices_ = sampler_->indices(dataset_size_, sampler_->epoch() + epoch);
  } catch (...) {
    throw wrap_current_exception("sampler", std::nullopt);
  }
  position_ = epoch == first_epoch_ ? static_cast<std::size_t>(std::min<std::uint64_t>(skip_, indices_.size())) : 0;
}

std::optional<Sample> SamplerStream::next() {
  if (position_ == indices_.size()) return std::nullopt;
  Sample sample;
  sample.index = indices_[position_++];
  return sample;
}

RowStage fetch_stage(std::shared_ptr<Source> source, std::size_t columns, std::shared_ptr<StageCounters> counters) {
  RowStage stage{.counters = std::move(counters)};
  stage.apply_many = [source = std::move(source), columns](std::span<Sample* const> samples, std::uint64_t epoch,
                                                          std::span<std::exception_ptr> errors) {
    std::vector<std::uint64_t> indices;
    indices.reserve(samples.size());
    for (const Sample* s : samples) indices.push_back(s->index);
    std::vector<Row> rows(samples.size());
    source->fetch_many(indices, epoch, rows, errors);
    for (std::size_t i = 0; i < samples.size(); ++i) {
      if (errors[i]) continue;
      try {
        check_columns(rows[i], columns);
        samples[i]->row = std::move(rows[i]);
      } catch (...) {
        errors[i] = std::current_exception();
      }
    }
  };
  return stage;
}

IterableStream::IterableStream(std::shared_ptr<Source> source, std::size_t columns,
                               std::shared_ptr<StageCounters> counters, std::uint64_t first_epoch, std::uint64_t skip)
    : source_(std::move(source)), columns_(columns), counters_(std::move(counters)), first_epoch_(first_epoch),
      skip_(skip) {}

void IterableStream::begin_epoch(std::uint64_t epoch) {
  index_ = 0;
  try {
    source_->reset();
  } catch (...) {
    throw wrap_current_exception("source", std::nullopt);
  }
  if (epoch == first_epoch_)
    while (index_ < skip_ && next()) {
    }
}

std::optional<Sample> IterableStream::next() {
  auto start = Clock::now();
  try {
    auto row = source_->next();
    counters_->busy_ns += elapsed_ns(start);
    if (!row) return std::nullopt;
    check_columns(*row, columns_);
    ++counters_->rows;
    return Sample{std::move(*row), index_++};
  } catch (...) {
    throw wrap_current_exception("source", index_);
  }
}

}  // namespace conveyor::detail
