#pragma once
/// \file row.hpp
/// Row: the columns of one sample. Batch: named columns as the iterator hands them out.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "conveyor/tensor.hpp"

namespace conveyor {

/// The columns of one sample, in the order of the dataset's column names. A source returns one
/// per index (`return {Tensor::scalar(i), image};`); a map op receives and returns one holding
/// just its input and output columns.
using Row = std::vector<Tensor>;

/// Named columns as the iterator yields them: after a batch stage each is one contiguous tensor
/// whose leading dimension is the batch; without one, the columns of a single row. Copying
/// shares the tensors. A batch's buffers are the engine's (they return to its pool when the last
/// handle to them goes, from any thread) or a source's that laid its rows out itself
/// (SourceHints::rows_laid_out): never memory a source keeps.
class Batch {
 public:
  Batch(std::shared_ptr<const std::vector<std::string>> names, Row columns);

  /// The column called `name`; throws std::out_of_range naming it and the columns there are.
  const Tensor& operator[](std::string_view name) const;
  /// The column at `index` (column order).
  const Tensor& operator[](std::size_t index) const { return columns_.at(index); }
  /// Number of columns.
  std::size_t size() const noexcept { return columns_.size(); }
  const std::vector<std::string>& column_names() const noexcept { return *names_; }
  const Row& columns() const noexcept { return columns_; }

 private:
  std::shared_ptr<const std::vector<std::string>> names_;
  Row columns_;
};

}  // namespace conveyor
