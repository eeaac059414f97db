#include "graph/execution.hpp"

#include <algorithm>
#include <stdexcept>

#include "conveyor/error.hpp"
#include "graph/compile.hpp"
#include "resume/resume.hpp"
#include "runtime/engine_thread.hpp"

namespace conveyor::detail {

Execution::Execution(const Node& root, std::int64_t num_epochs, Position start, const Config& config)
    : config_(config),
      names_(std::make_shared<const std::vector<std::string>>(root.columns)),
      output_(config_.prefetch_size),
      epoch_(start.epoch),
      start_(start),
      position_(start) {
  if (num_epochs >= 0) epochs_ = static_cast<std::uint64_t>(num_epochs);
  // A replaced sample copies the last good one before it, which a resumed pipeline has not read.
  if (start.outputs > 0 && config_.error_samples_mode == ErrorSamplesMode::replace)
    throw std::invalid_argument("conveyor: cannot resume in the middle of an epoch with error_samples_mode "
                                "'replace' (a replaced sample copies one read before the position); resume at an "
                                "epoch's start (outputs = 0), or use 'raise' or 'skip'");
  Start plan = plan_start(root, start);
  recorder_.emplace(root, config_.seed, plan);
  Compiler compiler(arena_, config_, std::move(plan));
  top_ = compiler.compile(root);
  counters_ = compiler.counters();
  output_counters_ = std::make_shared<StageCounters>("output", 1);
  counters_.push_back(output_counters_);

  int workers = static_cast<int>(compiler.max_workers());
  workers_.emplace(static_cast<std::size_t>(workers) + 1);
  // One slot more for the driver thread, which joins to help copy large batches.
  arena_.initialize(workers + 1, 1);
  top_->plan(epochs_);
  driver_ = std::thread([this] {
    EngineThreadScope engine_thread;
    drive();
  });
}

Execution::~Execution() {
  cancel();
  if (driver_.joinable()) driver_.join();
}

void Execution::cancel() noexcept {
  output_.abort();
  top_->cancel();
}

void Execution::drive() {
  try {
    for (std::uint64_t epoch = start_.epoch; !epochs_ || epoch < *epochs_; ++epoch) {
      top_->begin_epoch(epoch);
      while (auto sample = top_->next()) {
        auto start = Clock::now();
        bool pushed = output_.push(Output{std::move(sample->row), epoch, nullptr, false, sample->stamp});
        output_counters_->wait_output_ns += elapsed_ns(start);
        if (!pushed) return;
      }
      if (!output_.push(Output{{}, epoch, nullptr, true})) return;
    }
  } catch (const Cancelled&) {
    return;
  } catch (...) {
    output_.push(Output{{}, 0, std::make_exception_ptr(wrap_current_exception("pipeline", std::nullopt)), false});
  }
  output_.close();
}

std::optional<Batch> Execution::next(bool stop_at_epoch_end) {
  for (;;) {
    if (finished_) return std::nullopt;
    auto start = Clock::now();
    auto out = output_.pop();
    output_counters_->wait_input_ns += elapsed_ns(start);
    if (!out) {
      finished_ = true;
      return std::nullopt;
    }
    if (out->error) {
      finished_ = true;
      cancel();
      std::rethrow_exception(out->error);
    }
    epoch_ = out->epoch;
    if (out->end_of_epoch) {
      position_ = Position{out->epoch + 1, 0};
      stamp_.reset();
      if (stop_at_epoch_end) return std::nullopt;
      continue;
    }
    if (position_.epoch != out->epoch) position_ = Position{out->epoch, 0};
    ++position_.outputs;
    stamp_ = out->stamp;
    ++output_counters_->rows;
    return Batch(names_, std::move(out->row));
  }
}

Position Execution::position() {
  Position position = position_;
  if (stamp_) position.cut = recorder_->record(position.epoch, *stamp_);
  return position;
}

std::vector<StageStats> Execution::stats() const {
  std::vector<StageStats> out;
  for (const auto& c : counters_) out.push_back(c->snapshot());
  return out;
}

}  // namespace conveyor::detail
