#pragma once
// ErrorPolicy: what a stream does with a sample that failed (Config::error_samples_mode).

#include <exception>
#include <memory>
#include <optional>
#include <vector>

#include "conveyor/config.hpp"
#include "stages/stream.hpp"

namespace conveyor::detail {

/// Applies an ErrorSamplesMode to the samples of one stream, in the order it hands them out.
/// Used by the thread calling that stream's next() only.
class ErrorPolicy {
 public:
  explicit ErrorPolicy(ErrorSamplesMode mode) : mode_(mode) {}

  /// Adds a stage whose failures are counted in `counters` (found by the failing stage's name).
  void count_in(std::shared_ptr<StageCounters> counters) { stages_.push_back(std::move(counters)); }

  /// Forgets the last epoch's samples.
  void begin_epoch();
  /// A good sample on its way out; remembered when replacing.
  Sample passed(Sample sample);
  /// A failed sample (`error`, a conveyor::Error): rethrows it in raise mode or when it names no
  /// sample (a failure of the sampler); else counts it and returns its replacement, or nullopt
  /// when it is skipped or its replacement is owed until a good sample comes.
  std::optional<Sample> failed(const std::exception_ptr& error);
  /// A replacement owed for a failure before the first good sample, once there is one.
  std::optional<Sample> owed();
  /// At an epoch's end: throws the first failure when replacements are still owed (the epoch
  /// had no good sample to replace it with).
  void end_epoch();

 private:
  ErrorSamplesMode mode_;
  std::vector<std::shared_ptr<StageCounters>> stages_;
  std::optional<Sample> last_good_;
  std::size_t owed_ = 0;
  std::exception_ptr first_owed_;
  bool warned_ = false;
};

}  // namespace conveyor::detail
