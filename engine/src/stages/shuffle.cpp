#include "stages/shuffle.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>

namespace conveyor::detail {

namespace {
constexpr std::uint64_t kShuffleStream = 0x5348'5546'464c'4500;  // "SHUFFLE"
}

Rng shuffle_rng(std::uint64_t seed, std::uint64_t epoch) { return Rng(mix({seed, epoch, kShuffleStream})); }

ShuffleStream::ShuffleStream(std::unique_ptr<Stream> child, std::size_t buffer_size, std::uint64_t seed,
                             std::shared_ptr<StageCounters> counters, std::optional<std::size_t> slot,
                             std::uint64_t first_epoch,
                             std::optional<ShuffleResume> resume)
    : child_(std::move(child)),
      buffer_size_(buffer_size),
      seed_(seed),
      counters_(std::move(counters)),
      slot_(slot),
      first_epoch_(first_epoch),
      resume_(std::move(resume)) {}

void ShuffleStream::begin_epoch(std::uint64_t epoch) {
  child_->begin_epoch(epoch);
  buffer_.clear();
  rng_ = shuffle_rng(seed_, epoch);
  child_over_ = false;
  emitted_ = 0;
  last_read_ = Stamp{};
  in_order_ = true;
  drop_through_ = 0;
  if (!resume_ || epoch != first_epoch_) return;
  // The child yields the buffered rows before any row after resume.rows, in buffer order or,
  // from whole chunks, in the chunks' order among rows that were not buffered (see ShuffleResume).
  const ShuffleResume resume = *std::exchange(resume_, std::nullopt);
  std::unordered_map<std::uint64_t, std::size_t> place;  // a buffered row's place in the buffer
  for (std::size_t i = 0; i < resume.state.rows.size(); ++i) place.emplace(resume.state.rows[i], i);
  buffer_.resize(resume.state.rows.size());  // a place not filled yet holds a stamp of 0
  for (std::size_t missing = buffer_.size(); missing > 0;) {
    auto sample = child_->next();
    if (!sample || sample->stamp[0] > resume.rows) {
      auto lost = std::find_if(buffer_.begin(), buffer_.end(), [](const Sample& s) { return s.stamp[0] == 0; });
      throw std::logic_error("conveyor: a resumed shuffle buffer did not get back row " +
                             std::to_string(resume.state.rows[static_cast<std::size_t>(lost - buffer_.begin())]));
    }
    auto it = place.find(sample->stamp[0] - 1);
    if (it == place.end()) continue;
    buffer_[it->second] = std::move(*sample);
    --missing;
  }
  rng_ = Rng::from_state(resume.state.rng);
  emitted_ = resume.emitted;
  last_read_.set(0, resume.rows);
  drop_through_ = resume.rows;
}

std::optional<Sample> ShuffleStream::next() {
  StageClock clock(*counters_);
  clock.pulling([&] {
    while (!child_over_ && buffer_.size() < buffer_size_) {
      if (auto sample = child_->next()) {
        if (sample->stamp[0] <= drop_through_) continue;
        in_order_ = in_order_ && sample->stamp[0] == last_read_[0] + 1;
        last_read_ = sample->stamp;
        buffer_.push_back(std::move(*sample));
      } else {
        child_over_ = true;
      }
    }
  });
  if (buffer_.empty()) return std::nullopt;
  Sample out = pick(buffer_, rng_);
  ++emitted_;
  if (slot_) {
    for (std::size_t k = 0; k < *slot_; ++k) out.stamp.set(k, last_read_[k]);
    out.stamp.set(*slot_, in_order_ ? emitted_ : kNoStamp);
  }
  ++counters_->rows;
  return out;
}

void ShuffleShadow::restore(std::uint64_t epoch, const ShuffleResume& resume) {
  started_ = true;
  epoch_ = epoch;
  emitted_ = resume.emitted;
  rows_ = resume.rows;
  buffer_ = resume.state.rows;
  rng_ = Rng::from_state(resume.state.rng);
}

ShuffleState ShuffleShadow::at(std::uint64_t epoch, std::uint64_t emitted, std::uint64_t rows) {
  if (!started_ || epoch != epoch_ || emitted < emitted_) {
    started_ = true;
    epoch_ = epoch;
    emitted_ = rows_ = 0;
    buffer_.clear();
    rng_ = shuffle_rng(seed_, epoch);
  }
  // Before each pick the buffer was filled up to its size, or until the child ran out; it had
  // read `rows` rows by the last pick, so never more before an earlier one.
  for (; emitted_ < emitted; ++emitted_) {
    while (buffer_.size() < buffer_size_ && rows_ < rows) buffer_.push_back(rows_++);
    if (buffer_.empty()) break;
    pick(buffer_, rng_);
  }
  return ShuffleState{buffer_, rng_.state()};
}

}  // namespace conveyor::detail
