#include "shuffle_stream.hpp"

#include "conveyor/detail/random.hpp"

namespace conveyor::detail {

namespace {
constexpr std::uint64_t kShuffleStream = 0x5348'5546'464c'4500;  // "SHUFFLE"
}

ShuffleStream::ShuffleStream(std::unique_ptr<Stream> child, std::size_t buffer_size, std::uint64_t seed,
                             std::shared_ptr<StageCounters> counters)
    : child_(std::move(child)), buffer_size_(buffer_size), seed_(seed), counters_(std::move(counters)) {}

void ShuffleStream::begin_epoch(std::uint64_t epoch) {
  child_->begin_epoch(epoch);
  buffer_.clear();
  rng_ = Rng(mix({seed_, epoch, kShuffleStream}));
  child_over_ = false;
}

std::optional<Sample> ShuffleStream::next() {
  StageClock clock(*counters_);
  while (!child_over_ && buffer_.size() < buffer_size_) {
    if (auto sample = clock.pull(*child_))
      buffer_.push_back(std::move(*sample));
    else
      child_over_ = true;
  }
  if (buffer_.empty()) return std::nullopt;
  std::size_t pick = rng_.below(buffer_.size());
  Sample out = std::move(buffer_[pick]);
  buffer_[pick] = std::move(buffer_.back());
  buffer_.pop_back();
  ++counters_->rows;
  return out;
}

}  // namespace conveyor::detail
