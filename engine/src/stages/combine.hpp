#pragma once
// CombineStream: the rows of several children side by side (zip), or one child's epoch after
// another's (concat).

#include <memory>
#include <optional>
#include <vector>

#include "stages/stream.hpp"

namespace conveyor::detail {

/// Rows of several children side by side, until the shortest ends (zip), or one child's epoch
/// after another's (concat).
class CombineStream final : public Stream {
 public:
  enum class Mode { zip, concat };
  CombineStream(std::vector<std::unique_ptr<Stream>> children, Mode mode)
      : children_(std::move(children)), mode_(mode) {}
  void plan(std::optional<std::uint64_t> epochs) override;
  void begin_epoch(std::uint64_t epoch) override;
  std::optional<Sample> next() override;
  void cancel() noexcept override;

 private:
  std::vector<std::unique_ptr<Stream>> children_;
  Mode mode_;
  std::uint64_t epoch_ = 0;
  std::size_t current_ = 0;  // concat: the child being read
  bool over_ = false;
};

}  // namespace conveyor::detail
