#pragma once
// ShuffleStream: a streaming shuffle buffer, the only shuffle an iterable source can have; and
// ShuffleShadow, which follows its picks without its rows, to tell what it holds at a position.

#include <memory>
#include <optional>
#include <vector>

#include "conveyor/detail/random.hpp"
#include "conveyor/position.hpp"
#include "stages/stream.hpp"

namespace conveyor::detail {

/// The generator of a shuffle buffer seeded `seed` in epoch `epoch`.
Rng shuffle_rng(std::uint64_t seed, std::uint64_t epoch);

/// Removes a uniformly chosen element of non-empty `buffer` (the last one takes its place) and
/// returns it: one pick of a shuffle buffer.
template <class T>
T pick(std::vector<T>& buffer, Rng& rng) {
  const std::size_t i = rng.below(buffer.size());
  T out = std::move(buffer[i]);
  buffer[i] = std::move(buffer.back());
  buffer.pop_back();
  return out;
}

/// Where a resumed shuffle buffer starts: `emitted` rows out in the epoch, its child's rows read
/// through the `rows`-th, holding `state`. The child yields the rows of `state` first, then the
/// rows after `rows`; a child reading whole chunks of a source (see SamplerStream) yields other
/// rows before `rows` among them, and the buffer drops those.
struct ShuffleResume {
  std::uint64_t emitted = 0;
  std::uint64_t rows = 0;
  ShuffleState state;
};

/// Keeps up to buffer_size rows; each next() emits a uniformly chosen one and refills its place
/// from the child. Epoch e draws from shuffle_rng(seed, e): deterministic, different each
/// epoch. The buffer starts empty each epoch, except epoch `first_epoch` when resumed. Stamps
/// each row with the rows emitted in the epoch (stamp word `slot`, when set) and with the stamp
/// of the last row it read below that word; when the child's rows do not follow each other (word 0 not rising
/// by one), with kNoStamp, since a shadow could not follow it.
class ShuffleStream final : public Stream {
 public:
  ShuffleStream(std::unique_ptr<Stream> child, std::size_t buffer_size, std::uint64_t seed,
                std::shared_ptr<StageCounters> counters, std::optional<std::size_t> slot = std::nullopt,
                std::uint64_t first_epoch = 0,
                std::optional<ShuffleResume> resume = std::nullopt);
  void plan(std::optional<std::uint64_t> epochs) override { child_->plan(epochs); }
  void begin_epoch(std::uint64_t epoch) override;
  std::optional<Sample> next() override;
  void cancel() noexcept override { child_->cancel(); }

 private:
  std::unique_ptr<Stream> child_;
  std::size_t buffer_size_;
  std::uint64_t seed_;
  std::shared_ptr<StageCounters> counters_;
  std::optional<std::size_t> slot_;
  std::uint64_t first_epoch_;
  std::optional<ShuffleResume> resume_;
  std::vector<Sample> buffer_;
  Rng rng_{0};
  bool child_over_ = false;
  std::uint64_t emitted_ = 0;
  Stamp last_read_{};
  bool in_order_ = true;
  // In a resumed epoch, the child's rows through this one are dropped (word 0 of their stamp).
  std::uint64_t drop_through_ = 0;
};

/// Follows a shuffle buffer that is fed rows 0, 1, 2, ... of its epoch, from its seed and the
/// stamps of the rows it emits, without the rows: what it holds after any pick. Not thread-safe.
class ShuffleShadow {
 public:
  ShuffleShadow(std::size_t buffer_size, std::uint64_t seed) : buffer_size_(buffer_size), seed_(seed) {}
  /// Starts from a resumed buffer in epoch `epoch`.
  void restore(std::uint64_t epoch, const ShuffleResume& resume);
  /// What the buffer holds after its `emitted`-th pick of epoch `epoch`, when it had read `rows`
  /// rows by then. Steps forward from the last call when it can, else from the epoch's start.
  ShuffleState at(std::uint64_t epoch, std::uint64_t emitted, std::uint64_t rows);

 private:
  std::size_t buffer_size_;
  std::uint64_t seed_;
  bool started_ = false;
  std::uint64_t epoch_ = 0;
  std::uint64_t emitted_ = 0;
  std::uint64_t rows_ = 0;
  std::vector<std::uint64_t> buffer_;
  Rng rng_{0};
};

}  // namespace conveyor::detail
