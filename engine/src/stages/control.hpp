#pragma once
// Streams that change which rows of one child flow, not what is in them: repeat, take, skip,
// and project (a column selection where no parallel stage precedes it). Zip and concat, which
// read several children, are in combine.hpp.

#include <memory>
#include <optional>
#include <vector>

#include "stages/stream.hpp"

namespace conveyor::detail {

/// The child epoch that a repeat of `count` passes (< 0: forever) starts its epoch `epoch` with:
/// its passes are the child's epochs, numbered on across its own.
inline std::uint64_t repeat_child_epoch(std::uint64_t epoch, std::int64_t count) {
  return count < 0 ? 0 : epoch * static_cast<std::uint64_t>(count);
}

/// Each epoch runs `count` epochs of the child (count*e .. count*e + count-1); count < 0: forever.
/// Stamps rows with the passes completed in the epoch (see StageResume); a resumed one starts
/// with the resumed count of passes completed.
class RepeatStream final : public Stream {
 public:
  RepeatStream(std::unique_ptr<Stream> child, std::int64_t count, StageResume resume = {})
      : child_(std::move(child)), count_(count), resume_(std::move(resume)) {}
  void plan(std::optional<std::uint64_t> epochs) override;
  void begin_epoch(std::uint64_t epoch) override;
  std::optional<Sample> next() override;
  void cancel() noexcept override { child_->cancel(); }

 private:
  std::unique_ptr<Stream> child_;
  std::int64_t count_;
  StageResume resume_;
  std::uint64_t first_child_epoch_ = 0;
  std::uint64_t child_epoch_ = 0;
};

/// The first `count` rows of each epoch (take) or all but them (skip). A take stamps rows with
/// the rows it passed in the epoch (see StageResume); resumed, it starts with the resumed count
/// passed, and a resumed skip (resumed from `count`) has skipped its rows already (a position
/// after an output is past them).
class TakeSkipStream final : public Stream {
 public:
  enum class Mode { take, skip };
  TakeSkipStream(std::unique_ptr<Stream> child, Mode mode, std::size_t count, StageResume resume = {})
      : child_(std::move(child)), mode_(mode), count_(count), resume_(std::move(resume)) {}
  void plan(std::optional<std::uint64_t> epochs) override { child_->plan(epochs); }
  void begin_epoch(std::uint64_t epoch) override;
  std::optional<Sample> next() override;
  void cancel() noexcept override { child_->cancel(); }

 private:
  std::unique_ptr<Stream> child_;
  Mode mode_;
  std::size_t count_;
  StageResume resume_;
  std::size_t seen_ = 0;
};

/// Keeps the columns `columns`, in that order.
class ProjectStream final : public Stream {
 public:
  ProjectStream(std::unique_ptr<Stream> child, std::vector<std::size_t> columns)
      : child_(std::move(child)), columns_(std::move(columns)) {}
  void plan(std::optional<std::uint64_t> epochs) override { child_->plan(epochs); }
  void begin_epoch(std::uint64_t epoch) override { child_->begin_epoch(epoch); }
  std::optional<Sample> next() override;
  void cancel() noexcept override { child_->cancel(); }

 private:
  std::unique_ptr<Stream> child_;
  std::vector<std::size_t> columns_;
};

/// A row of handles to `columns` of `row`, in that order.
Row select_columns(const Row& row, const std::vector<std::size_t>& columns);

}  // namespace conveyor::detail
