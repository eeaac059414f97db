#pragma once
// The compiled form of a pipeline: a tree of pull-based streams. Serial stages (shuffle buffer,
// batch, take, zip, ...) are streams that pull from their children on the thread that calls
// next(); a ParallelStream runs a run of row-wise stages (fetch, map, filter) in a oneTBB flow
// graph fed by its own thread.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "conveyor/row.hpp"
#include "conveyor/stats.hpp"

namespace conveyor::detail {

/// Words of a sample's stamp: the source's, then one per take, batch, shuffle buffer and repeat
/// stage (upstream first) of a pipeline that records where it is (see resume/resume.hpp).
inline constexpr std::size_t kStampWords = 5;
/// A stamp word whose stage could not record its state (a shuffle buffer fed rows out of order).
inline constexpr std::uint64_t kNoStamp = ~std::uint64_t{0};

/// Where the pipeline stands once a sample is out (see resume/resume.hpp): word 0, the rows of
/// the source's pass read through it; word k, the count of the stateful stage (take, batch,
/// shuffle buffer, repeat) with stamp slot k, numbered upstream first. Words never set read 0.
/// Fixed-size, so that stamping a row never allocates: 40 bytes, copied with it. (A stamp
/// whose extra words lived on the heap cost the engine's cheapest rows 10 % in
/// engine_bench BM_EngineOverhead/1, moved with every sample.)
class Stamp {
 public:
  std::uint64_t operator[](std::size_t k) const noexcept { return words_[k]; }
  /// Sets word `k` < kStampWords.
  void set(std::size_t k, std::uint64_t value) noexcept { words_[k] = value; }

 private:
  std::array<std::uint64_t, kStampWords> words_{};
};

/// The count a stateful stage resumes from in epoch `epoch`, its first (see resume/resume.hpp).
struct ResumeCount {
  std::uint64_t epoch = 0;
  std::uint64_t count = 0;
};

/// What a stateful stage (take, batch, repeat) keeps for resuming: the stamp word it writes its
/// count into (none: it is not stamped, as a skip or a stage past the stamp's words is not), and
/// the count it resumes from.
struct StageResume {
  std::optional<std::size_t> slot;
  std::optional<ResumeCount> from;
  /// Writes `count` into `stamp`'s word for this stage, if it has one.
  void stamp(Stamp& stamp, std::uint64_t count) const {
    if (slot) stamp.set(*slot, count);
  }
  /// The count to start epoch `epoch` from: the resumed one the first time that epoch starts,
  /// 0 otherwise.
  std::uint64_t start(std::uint64_t epoch) {
    return from && from->epoch == epoch ? std::exchange(from, std::nullopt)->count : 0;
  }
};

/// One row on its way through the pipeline.
struct Sample {
  Row row;
  /// Source index of the row (batch number after a batch stage): names it in errors.
  std::uint64_t index = 0;
  /// Where the pipeline stands once this sample is out: word 0 is set by the source and kept by
  /// row-wise stages; a stateful stage writes its own word as the sample leaves it; a batch
  /// takes its last row's stamp.
  Stamp stamp{};
};

/// Thrown by a stream's next() after cancel(); the pipeline is being torn down.
struct Cancelled {};

/// Counters of one stage, updated by its workers. Thread-safe.
struct StageCounters {
  StageCounters(std::string stage_name, std::size_t stage_workers)
      : name(std::move(stage_name)), workers(stage_workers) {}
  StageStats snapshot() const;

  const std::string name;
  const std::size_t workers;
  std::atomic<std::uint64_t> rows{0};
  std::atomic<std::uint64_t> errors{0};
  std::atomic<std::int64_t> busy_ns{0};
  std::atomic<std::int64_t> wait_input_ns{0};
  std::atomic<std::int64_t> wait_output_ns{0};
};

using Clock = std::chrono::steady_clock;

/// Nanoseconds since `start`.
inline std::int64_t elapsed_ns(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count();
}

/// A source of samples, read by one thread at a time (except cancel()).
class Stream {
 public:
  virtual ~Stream() = default;
  /// Called once, before anything else: the consumer will ask for epochs 0 .. epochs-1 (nullopt:
  /// without end), in order. Streams that work ahead start here.
  virtual void plan(std::optional<std::uint64_t> epochs) = 0;
  /// Starts epoch `epoch`; what was left of the previous one is discarded.
  virtual void begin_epoch(std::uint64_t epoch) = 0;
  /// The next sample of the current epoch, nullopt at its end. Throws conveyor::Error for a
  /// failure, Cancelled after cancel().
  virtual std::optional<Sample> next() = 0;
  /// Stops background work and unblocks next(); callable from any thread, more than once.
  virtual void cancel() noexcept = 0;
};

/// Times one next() call of a serial stage: the time spent pulling from children is waiting
/// for input, the rest is busy. (Pulls are timed together, not row by row: two clock reads a
/// row cost a batch of cheap rows more than the rest of their way through the stage.)
class StageClock {
 public:
  explicit StageClock(StageCounters& counters) : counters_(counters), start_(Clock::now()) {}
  ~StageClock() {
    counters_.busy_ns += elapsed_ns(start_) - waited_;
    counters_.wait_input_ns += waited_;
  }
  StageClock(const StageClock&) = delete;
  StageClock& operator=(const StageClock&) = delete;

  /// Runs `pulls` (the loop that reads the stage's children), timed as waiting for input.
  template <class Pulls>
  void pulling(Pulls&& pulls) {
    const struct Timed {
      std::int64_t& waited;
      Clock::time_point start = Clock::now();
      ~Timed() { waited += elapsed_ns(start); }
    } timed{waited_};
    pulls();
  }

 private:
  StageCounters& counters_;
  Clock::time_point start_;
  std::int64_t waited_ = 0;
};

}  // namespace conveyor::detail
