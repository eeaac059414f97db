#include "conveyor/source.hpp"

namespace conveyor {
namespace {

struct FunctionSource {
  std::size_t length;
  std::function<Row(std::size_t)> row;
  std::size_t size() const { return length; }
  Row get(std::size_t index) const { return row(index); }
};

}  // namespace

void RandomAccessSource::read_many(std::span<const std::uint64_t> indices, std::uint64_t epoch, std::span<Row> rows,
                                   std::span<std::exception_ptr> errors, std::stop_token stop) const {
  for (std::size_t i = 0; i < indices.size() && !stop.stop_requested(); ++i) {
    try {
      rows[i] = read(static_cast<std::size_t>(indices[i]), epoch);
    } catch (...) {
      errors[i] = std::current_exception();
    }
  }
}

std::shared_ptr<RandomAccessSource> function_source(std::size_t size, std::function<Row(std::size_t)> row) {
  return make_source(FunctionSource{size, std::move(row)});
}

}  // namespace conveyor
