#include "conveyor/iterator.hpp"

#include "execution.hpp"

namespace conveyor {

Iterator::Iterator(std::unique_ptr<detail::Execution> execution) : execution_(std::move(execution)) {}
Iterator::Iterator(Iterator&&) noexcept = default;
Iterator& Iterator::operator=(Iterator&&) noexcept = default;
Iterator::~Iterator() = default;

std::optional<Batch> Iterator::next() { return execution_->next(); }
bool Iterator::wait(std::chrono::milliseconds timeout) { return execution_->wait(timeout); }
std::uint64_t Iterator::epoch() const { return execution_->epoch(); }
std::vector<StageStats> Iterator::stats() const { return execution_->stats(); }
const std::vector<std::string>& Iterator::column_names() const { return execution_->column_names(); }

}  // namespace conveyor
