#include "conveyor/iterator.hpp"

#include "execution.hpp"

namespace conveyor {

Iterator::Iterator(std::unique_ptr<detail::Execution> execution) : execution_(std::move(execution)) {}
Iterator::Iterator(Iterator&&) noexcept = default;
Iterator& Iterator::operator=(Iterator&&) noexcept = default;
Iterator::~Iterator() = default;

std::optional<Batch> Iterator::next() { return execution_->next(); }
std::vector<StageStats> Iterator::stats() const { return execution_->stats(); }
const std::vector<std::string>& Iterator::column_names() const { return execution_->column_names(); }

}  // namespace conveyor
