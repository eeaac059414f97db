#pragma once
// ShuffleStream: a streaming shuffle buffer, the only shuffle an iterable source can have.

#include <memory>
#include <vector>

#include "conveyor/detail/random.hpp"
#include "stream.hpp"

namespace conveyor::detail {

/// Keeps up to buffer_size rows; each next() emits a uniformly chosen one and refills its place
/// from the child. Epoch e draws from an Rng seeded by (seed, e): deterministic, different each
/// epoch. The buffer starts empty each epoch.
class ShuffleStream final : public Stream {
 public:
  ShuffleStream(std::unique_ptr<Stream> child, std::size_t buffer_size, std::uint64_t seed,
                std::shared_ptr<StageCounters> counters);
  void plan(std::optional<std::uint64_t> epochs) override { child_->plan(epochs); }
  void begin_epoch(std::uint64_t epoch) override;
  std::optional<Sample> next() override;
  void cancel() noexcept override { child_->cancel(); }

 private:
  std::unique_ptr<Stream> child_;
  std::size_t buffer_size_;
  std::uint64_t seed_;
  std::shared_ptr<StageCounters> counters_;
  std::vector<Sample> buffer_;
  Rng rng_{0};
  bool child_over_ = false;
};

}  // namespace conveyor::detail
