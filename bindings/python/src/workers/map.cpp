#include "workers/map.hpp"

#include <cstring>
#include <memory>
#include <vector>

#include "workers/group.hpp"
#include "workers/protocol.hpp"

namespace conveyor::python {
namespace {

/// A request's body: ``<QQQI`` (epoch, sample, op position, column count), each column's header
/// as a reply writes it (offsets from the body's start), then the columns' bytes, each aligned.
std::vector<unsigned char> encode(const Row& columns, const OpContext& context) {
  std::vector<unsigned char> body;
  workers::put(body, context.epoch);
  workers::put(body, context.sample);
  workers::put(body, context.op);
  workers::put(body, static_cast<std::uint32_t>(columns.size()));
  std::vector<std::size_t> offset_fields;  // where each column's offset goes, once known
  for (const Tensor& t : columns) offset_fields.push_back(workers::put_column_header(body, t, 0));
  for (std::size_t c = 0; c < columns.size(); ++c) {
    const std::uint64_t offset = workers::aligned(body.size());
    std::memcpy(&body[offset_fields[c]], &offset, sizeof offset);
    body.resize(offset + columns[c].nbytes());
    columns[c].copy_to(reinterpret_cast<std::byte*>(body.data() + offset));
  }
  return body;
}

}  // namespace

ContextOp worker_map_op(py::object pool) {
  auto workers = std::make_shared<const WorkerGroup>(std::move(pool));
  return [workers](Row columns, const OpContext& context) {
    const std::uint64_t index[1] = {context.sample};
    Row rows[1];
    std::exception_ptr errors[1];
    workers->request(encode(columns, context), index, rows, errors);
    if (errors[0]) std::rethrow_exception(errors[0]);
    return std::move(rows[0]);
  };
}

}  // namespace conveyor::python
