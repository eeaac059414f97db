// Skipping and replacing failed samples. A replacement is a copy of a neighbouring good sample
// (its tensors shared, not copied): deterministic, because the order samples come out in is.

#include "runtime/error_policy.hpp"

#include <iostream>
#include <string>

#include "conveyor/error.hpp"

namespace conveyor::detail {

void ErrorPolicy::begin_epoch() {
  last_good_.reset();
  owed_ = 0;
  first_owed_ = nullptr;
}

Sample ErrorPolicy::passed(Sample sample) {
  if (mode_ == ErrorSamplesMode::replace) last_good_ = sample;
  return sample;
}

std::optional<Sample> ErrorPolicy::failed(const std::exception_ptr& error) {
  if (mode_ == ErrorSamplesMode::raise) std::rethrow_exception(error);
  try {
    std::rethrow_exception(error);
  } catch (const Error& e) {
    if (!e.sample()) throw;
    for (const auto& stage : stages_)
      if (stage->name == e.stage()) ++stage->errors;
    if (!warned_) {
      warned_ = true;
      // One write: a decoder on another thread may be printing its own complaint meanwhile, and
      // pieces written one by one would interleave with it.
      const std::string line = std::string("conveyor: ") +
                               (mode_ == ErrorSamplesMode::skip ? "skipping" : "replacing") +
                               " samples that fail (error_samples_mode), counted in the stage stats; the first: " +
                               e.stage() + " failed on sample " + std::to_string(*e.sample()) + ": " + e.message() +
                               "\n";
      std::cerr.write(line.data(), static_cast<std::streamsize>(line.size()));
      std::cerr.flush();
    }
  }
  if (mode_ == ErrorSamplesMode::skip) return std::nullopt;
  if (last_good_) return *last_good_;
  if (!first_owed_) first_owed_ = error;
  ++owed_;
  return std::nullopt;
}

std::optional<Sample> ErrorPolicy::owed() {
  if (owed_ == 0 || !last_good_) return std::nullopt;
  --owed_;
  return *last_good_;
}

void ErrorPolicy::end_epoch() {
  if (owed_ > 0) std::rethrow_exception(first_owed_);
}

}  // namespace conveyor::detail
