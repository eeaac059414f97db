#include "stages/combine.hpp"

#include <utility>

namespace conveyor::detail {

void CombineStream::plan(std::optional<std::uint64_t> epochs) {
  for (auto& child : children_) child->plan(epochs);
}

void CombineStream::begin_epoch(std::uint64_t epoch) {
  epoch_ = epoch;
  current_ = 0;
  over_ = false;
  if (mode_ == Mode::zip)
    for (auto& child : children_) child->begin_epoch(epoch);
  else
    children_[0]->begin_epoch(epoch);
}

std::optional<Sample> CombineStream::next() {
  if (over_) return std::nullopt;
  if (mode_ == Mode::concat) {
    for (;;) {
      if (auto sample = children_[current_]->next()) return sample;
      if (++current_ == children_.size()) {
        over_ = true;
        return std::nullopt;
      }
      children_[current_]->begin_epoch(epoch_);
    }
  }
  Sample zipped;
  for (auto& child : children_) {
    auto sample = child->next();
    if (!sample) {
      over_ = true;
      return std::nullopt;
    }
    if (&child == &children_.front()) zipped.index = sample->index;
    for (auto& column : sample->row) zipped.row.push_back(std::move(column));
  }
  return zipped;
}

void CombineStream::cancel() noexcept {
  for (auto& child : children_) child->cancel();
}

}  // namespace conveyor::detail
