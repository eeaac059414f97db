#pragma once
/// \file error.hpp
/// The one exception type conveyor throws for pipeline failures.

#include <cstdint>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>

namespace conveyor {

/// What an Error's index counts: a sample (for row-wise stages) or a batch (for batch-level
/// stages: batch, per_batch_map).
enum class ErrorUnit { sample, batch };

/// A failure inside a pipeline, naming where it happened. `what()` reads
/// "conveyor: <stage> failed on sample <index>: <message>" ("on batch <number>" for batch-level
/// stages; no index when none is known). Copyable; immutable.
class Error : public std::runtime_error {
 public:
  /// `stage` names the pipeline stage ("source", "map[0]", "batch", ...); `index` is the sample
  /// index or the batch number (as `unit` says) when one is known; `cause` keeps the original
  /// exception, if any, so bindings can re-raise its type.
  Error(std::string stage, std::optional<std::uint64_t> index, const std::string& message,
        std::exception_ptr cause = nullptr, ErrorUnit unit = ErrorUnit::sample);

  /// The stage that failed.
  const std::string& stage() const noexcept { return stage_; }
  /// The sample index, when the failure concerns one sample.
  std::optional<std::uint64_t> sample() const noexcept { return unit_ == ErrorUnit::sample ? index_ : std::nullopt; }
  /// The batch number within its epoch, when the failure concerns a whole batch.
  std::optional<std::uint64_t> batch() const noexcept { return unit_ == ErrorUnit::batch ? index_ : std::nullopt; }
  /// The message without the stage and index prefix.
  const std::string& message() const noexcept { return message_; }
  /// The exception that caused this one; null when conveyor itself raised it.
  std::exception_ptr cause() const noexcept { return cause_; }

 private:
  std::string stage_;
  std::optional<std::uint64_t> index_;
  ErrorUnit unit_;
  std::string message_;
  std::exception_ptr cause_;
};

/// Wraps the exception in flight (call from a catch block) as an Error of `stage` and `index`
/// (counting `unit`s); an Error passes through unchanged so that the innermost stage stays named.
Error wrap_current_exception(const std::string& stage, std::optional<std::uint64_t> index,
                             ErrorUnit unit = ErrorUnit::sample);

}  // namespace conveyor
