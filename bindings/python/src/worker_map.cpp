#include "worker_map.hpp"

#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#include "worker_group.hpp"

namespace conveyor::python {
namespace {

constexpr std::size_t kAlignment = 64;  // of each column's bytes in a request, as in the slots
constexpr std::uint8_t kArray = 0;
constexpr std::uint8_t kBytes = 1;

template <class T>
void put(std::vector<unsigned char>& out, T value) {
  const auto at = out.size();
  out.resize(at + sizeof(T));
  std::memcpy(&out[at], &value, sizeof(T));
}

/// A request's body: ``<QQQI`` (epoch, sample, op position, column count), each column's header
/// as a reply writes it (offsets from the body's start), then the columns' bytes, each aligned.
std::vector<unsigned char> encode(const Row& columns, const OpContext& context) {
  std::vector<unsigned char> body;
  put(body, context.epoch);
  put(body, context.sample);
  put(body, context.op);
  put(body, static_cast<std::uint32_t>(columns.size()));
  std::vector<std::size_t> offset_fields;  // where each column's offset goes, once known
  for (const Tensor& t : columns) {
    if (t.dtype() == DType::bytes) {
      put(body, kBytes);
      offset_fields.push_back(body.size());
      put(body, std::uint64_t{0});
      put(body, static_cast<std::uint64_t>(t.nbytes()));
      continue;
    }
    const std::string_view dtype = name(t.dtype());
    put(body, kArray);
    put(body, static_cast<std::uint8_t>(dtype.size()));
    body.insert(body.end(), dtype.begin(), dtype.end());
    put(body, static_cast<std::uint32_t>(t.ndim()));
    for (auto extent : t.shape()) put(body, static_cast<std::int64_t>(extent));
    offset_fields.push_back(body.size());
    put(body, std::uint64_t{0});
  }
  for (std::size_t c = 0; c < columns.size(); ++c) {
    const std::uint64_t offset = (body.size() + kAlignment - 1) / kAlignment * kAlignment;
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
