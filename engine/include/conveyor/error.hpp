#pragma once
/// \file error.hpp
/// The one exception type conveyor throws for pipeline failures.

#include <cstdint>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>

namespace conveyor {

/// A failure inside a pipeline, naming where it happened. `what()` reads
/// "conveyor: <stage> failed on sample <index>: <message>". Copyable; immutable.
class Error : public std::runtime_error {
 public:
  /// `stage` names the pipeline stage ("source", "map[0]", "batch", ...); `sample` is the
  /// sample index (or batch number for batch-level stages) when one is known; `cause` keeps the
  /// original exception, if any, so bindings can re-raise its type.
  Error(std::string stage, std::optional<std::uint64_t> sample, const std::string& message,
        std::exception_ptr cause = nullptr);

  /// The stage that failed.
  const std::string& stage() const noexcept { return stage_; }
  /// The sample (or batch) index, when the failure concerns one.
  std::optional<std::uint64_t> sample() const noexcept { return sample_; }
  /// The message without the stage and sample prefix.
  const std::string& message() const noexcept { return message_; }
  /// The exception that caused this one; null when conveyor itself raised it.
  std::exception_ptr cause() const noexcept { return cause_; }

 private:
  std::string stage_;
  std::optional<std::uint64_t> sample_;
  std::string message_;
  std::exception_ptr cause_;
};

/// Wraps the exception in flight (call from a catch block) as an Error of `stage` and `sample`;
/// an Error passes through unchanged so that the innermost stage stays named.
Error wrap_current_exception(const std::string& stage, std::optional<std::uint64_t> sample);

}  // namespace conveyor
