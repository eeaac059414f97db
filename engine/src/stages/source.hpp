#pragma once
// The streams that start a pipeline: a sampler's tickets for a random-access source (the rows
// are fetched by a parallel "source" stage, see fetch_stage), or an iterable source read in order.

#include <memory>
#include <optional>
#include <vector>

#include "conveyor/sampler.hpp"
#include "conveyor/source.hpp"
#include "stages/parallel.hpp"
#include "stages/stream.hpp"

namespace conveyor::detail {

/// Yields samples with no row, only the index the sampler chose, stamped with its position in
/// the epoch's order + 1: epoch e reads sampler.indices(size, sampler.epoch() + e). Epoch
/// `first_epoch` yields the positions `replay` first, then starts at position `skip`.
///
/// With `block` set (a source that reads fixed chunks of that many positions, from multiples of
/// it, and may seed per chunk: see SourceHints::block), `skip` must be a multiple of it, and a
/// position of `replay` comes in the whole chunk it lies in, so that its row is read as it was
/// the first time: the chunks of those before `skip` first, each once, in the epoch's order;
/// those from `skip` on come in the chunk read from `skip`. The reader drops the rows before the
/// resumed position that `replay` does not name (see ShuffleStream).
///
/// With `whole` set (a batch(drop_remainder) of that size reads this stream's rows one for one),
/// an epoch ends after its last multiple of `whole` positions, rounded up to a whole `block`
/// (a chunk is read whole, as it would be without the cut).
class SamplerStream final : public Stream {
 public:
  SamplerStream(std::shared_ptr<const Sampler> sampler, std::size_t dataset_size, std::uint64_t first_epoch = 0,
                std::uint64_t skip = 0, std::vector<std::uint64_t> replay = {}, std::size_t block = 0,
                std::size_t whole = 0);
  void plan(std::optional<std::uint64_t>) override {}
  void begin_epoch(std::uint64_t epoch) override;
  std::optional<Sample> next() override;
  void cancel() noexcept override {}

 private:
  std::shared_ptr<const Sampler> sampler_;
  std::size_t dataset_size_;
  std::vector<std::size_t> indices_;
  std::size_t position_ = 0;
  std::uint64_t first_epoch_;
  std::uint64_t skip_;
  std::vector<std::uint64_t> replay_;
  std::size_t block_;
  std::size_t whole_;
  // The positions yielded before `skip_` in the first epoch (replay_, or their whole chunks), and
  // how many were.
  std::vector<std::uint64_t> replaying_;
  std::size_t replayed_ = 0;
};

/// The stage that turns a ticket into its row: source.read_many(), checked to have `columns`
/// columns. When its rows have Places, the chunk is read a SourceHints::block of rows at a time
/// (16 when 0) and each piece's rows are placed at once, still in cache: the copy the batch stage
/// would make, spread over this stage's workers. Rows of a source that lays them out itself
/// (SourceHints::rows_laid_out) stay where it put them.
RowStage fetch_stage(std::shared_ptr<const RandomAccessSource> source, std::size_t columns,
                     std::shared_ptr<StageCounters> counters);

/// Reads an iterable source in order, calling reset() before every epoch (the first included,
/// so that each new pipeline reads from the start), `limit` rows of it at most; numbers its rows
/// from 0 in each epoch and stamps them with their number + 1. Of epoch `first_epoch`, the first
/// `skip` rows are read and dropped (an iterable cannot jump), except those `replay` names,
/// which it yields first, in that order.
class IterableStream final : public Stream {
 public:
  IterableStream(std::shared_ptr<IterableSource> source, std::size_t columns, std::shared_ptr<StageCounters> counters,
                 std::uint64_t first_epoch = 0, std::uint64_t skip = 0, std::vector<std::uint64_t> replay = {},
                 std::optional<std::uint64_t> limit = std::nullopt);
  void plan(std::optional<std::uint64_t>) override {}
  void begin_epoch(std::uint64_t epoch) override;
  std::optional<Sample> next() override;
  void cancel() noexcept override {}

 private:
  std::shared_ptr<IterableSource> source_;
  std::size_t columns_;
  std::optional<Sample> read();

  std::shared_ptr<StageCounters> counters_;
  std::uint64_t index_ = 0;
  std::uint64_t first_epoch_;
  std::uint64_t skip_;
  std::vector<std::uint64_t> replay_;
  std::optional<std::uint64_t> limit_;
  // The replayed rows, read while skipping, in replay order; and how many were yielded.
  std::vector<Sample> replayed_;
  std::size_t yielded_ = 0;
};

}  // namespace conveyor::detail
