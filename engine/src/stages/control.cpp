#include "stages/control.hpp"

#include <utility>

namespace conveyor::detail {

void RepeatStream::plan(std::optional<std::uint64_t> epochs) {
  if (count_ < 0 || !epochs)
    child_->plan(std::nullopt);
  else
    child_->plan(*epochs * static_cast<std::uint64_t>(count_));
}

void RepeatStream::begin_epoch(std::uint64_t epoch) {
  if (count_ == 0) return;
  first_child_epoch_ = repeat_child_epoch(epoch, count_);
  child_epoch_ = first_child_epoch_;
  child_epoch_ += resume_.start(epoch);
  child_->begin_epoch(child_epoch_);
}

std::optional<Sample> RepeatStream::next() {
  if (count_ == 0) return std::nullopt;
  for (bool fresh = false;; fresh = true) {
    if (auto sample = child_->next()) {
      resume_.stamp(sample->stamp, child_epoch_ - first_child_epoch_);
      return sample;
    }
    // The child's pass is over. A finite repeat ends after its count; an endless one ends only
    // when a whole pass is empty, which would otherwise spin forever.
    bool last = count_ < 0 ? fresh : (child_epoch_ + 1) % static_cast<std::uint64_t>(count_) == 0;
    if (last) return std::nullopt;
    child_->begin_epoch(++child_epoch_);
  }
}

void TakeSkipStream::begin_epoch(std::uint64_t epoch) {
  child_->begin_epoch(epoch);
  seen_ = resume_.start(epoch);
}

std::optional<Sample> TakeSkipStream::next() {
  if (mode_ == Mode::take) {
    if (seen_ >= count_) return std::nullopt;
    ++seen_;
    auto sample = child_->next();
    if (sample) resume_.stamp(sample->stamp, seen_);
    return sample;
  }
  for (; seen_ < count_; ++seen_)
    if (!child_->next()) return std::nullopt;
  return child_->next();
}

Row select_columns(const Row& row, const std::vector<std::size_t>& columns) {
  Row out;
  out.reserve(columns.size());
  for (std::size_t c : columns) out.push_back(row[c]);
  return out;
}

std::optional<Sample> ProjectStream::next() {
  auto sample = child_->next();
  if (sample) sample->row = select_columns(sample->row, columns_);
  return sample;
}

}  // namespace conveyor::detail
