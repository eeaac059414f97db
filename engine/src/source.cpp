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

std::shared_ptr<Source> function_source(std::size_t size, std::function<Row(std::size_t)> row) {
  return make_source(FunctionSource{size, std::move(row)});
}

}  // namespace conveyor
