#include "conveyor/row.hpp"

#include <stdexcept>

namespace conveyor {

Batch::Batch(std::shared_ptr<const std::vector<std::string>> names, Row columns)
    : names_(std::move(names)), columns_(std::move(columns)) {}

const Tensor& Batch::operator[](std::string_view name) const {
  for (std::size_t i = 0; i < names_->size(); ++i)
    if ((*names_)[i] == name) return columns_[i];
  std::string known;
  for (const auto& n : *names_) known += (known.empty() ? "" : ", ") + n;
  throw std::out_of_range("conveyor: no column '" + std::string(name) + "' (columns: " + known + ")");
}

}  // namespace conveyor
