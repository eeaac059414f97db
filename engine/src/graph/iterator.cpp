#include "conveyor/iterator.hpp"

#include <thread>

#include "graph/execution.hpp"
#include "runtime/engine_thread.hpp"

namespace conveyor {

Iterator::Iterator(std::unique_ptr<detail::Execution> execution) : execution_(std::move(execution)) {}
Iterator::Iterator(Iterator&&) noexcept = default;
Iterator& Iterator::operator=(Iterator&&) noexcept = default;
Iterator::~Iterator() {
  if (execution_ && detail::on_engine_thread()) {
    // Dropped from inside a pipeline (user code in a stage): joining here could wait on this
    // very thread, so stop the pipeline and let another thread join it.
    execution_->cancel();
    std::thread([execution = std::move(execution_)]() mutable { execution.reset(); }).detach();
  }
}

std::optional<Batch> Iterator::next() { return execution_->next(false); }
std::optional<Batch> Iterator::next_in_epoch() { return execution_->next(true); }
bool Iterator::done() const { return execution_->done(); }
void Iterator::cancel() noexcept { execution_->cancel(); }
bool Iterator::wait(std::chrono::milliseconds timeout) { return execution_->wait(timeout); }
std::uint64_t Iterator::epoch() const { return execution_->epoch(); }
Position Iterator::position() const { return execution_->position(); }
std::vector<StageStats> Iterator::stats() const { return execution_->stats(); }
const std::vector<std::string>& Iterator::column_names() const { return execution_->column_names(); }

}  // namespace conveyor
