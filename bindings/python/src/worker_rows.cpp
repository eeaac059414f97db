// conveyor._core._RowWriter: a worker process's side of a row (conveyor/dataset/_workers.py
// documents the protocol): the row's columns copied into one of the worker's shared-memory slots,
// and the reply that tells the parent where they lie. In C++ because the same in Python cost a
// worker ~10 µs a row beside __getitem__ (py-heavy's rows of an array and an int).
#include <pybind11/stl.h>

#include <algorithm>
#include <map>
#include <memory>
#include <stdexcept>
#include <vector>

#include "convert.hpp"
#include "registry.hpp"
#include "worker_protocol.hpp"

namespace conveyor::python {
namespace {

constexpr std::size_t kSmallestSlot = 4096;

/// Writes rows into a worker's slots and encodes their replies. Not thread-safe (a worker reads
/// one row at a time); the GIL held throughout.
class RowWriter {
 public:
  /// new_slot(capacity, sample) -> (fd, mmap): a new shared-memory slot of `capacity` bytes
  /// for `sample` (raising MemoryError when there is no room for it).
  explicit RowWriter(py::object new_slot) : new_slot_(std::move(new_slot)) {}

  /// The reply for `row` (sample `index`: a tuple of columns, or one column), written into a
  /// slot, and the descriptor of that slot when it is new (to send after the reply), else None.
  std::pair<py::bytes, py::object> write(py::handle row, std::uint64_t index) {
    // Converted as in-process rows are, so that both give the same tensors; a value that cannot
    // be is the TypeError the worker sends back.
    Row columns;
    try {
      columns = row_from_python(with_bytes(row), release_);
    } catch (const std::invalid_argument& e) {
      throw py::type_error(e.what());
    }
    std::vector<unsigned char> reply;
    workers::put(reply, workers::kOk);
    if (columns.empty()) {
      workers::put(reply, workers::kNoSlot);
      workers::put(reply, std::uint64_t{0});
      workers::put(reply, std::uint32_t{0});
      return {bytes_of(reply), py::none()};
    }
    std::vector<std::size_t> offsets;
    std::size_t size = 0;
    for (const Tensor& column : columns) {
      offsets.push_back(workers::aligned(size));
      size = offsets.back() + column.nbytes();
    }
    const auto [slot, fd] = take(size, index);
    workers::put(reply, static_cast<std::uint32_t>(slot));
    workers::put(reply, static_cast<std::uint64_t>(fd.is_none() ? 0 : slots_[slot].size));
    workers::put(reply, static_cast<std::uint32_t>(columns.size()));
    for (std::size_t c = 0; c < columns.size(); ++c) {
      // In C order whatever the column's strides: the header says how to read them.
      if (columns[c].nbytes()) columns[c].copy_to(slots_[slot].memory + offsets[c]);
      workers::put_column_header(reply, columns[c], offsets[c]);
    }
    return {bytes_of(reply), fd};
  }

  /// Frees `slots`: the parent no longer reads them.
  void give_back(const std::vector<std::uint32_t>& slots) {
    for (std::uint32_t slot : slots) free_[slots_.at(slot).size].push_back(slot);
  }

 private:
  struct Slot {
    py::object map;  // keeps `memory` mapped
    std::byte* memory;
    std::size_t size;
  };

  // The smallest free slot of at least `size` bytes (slots are powers of two, at least a page),
  // or a new one: (its id, its fd when it is new, else None).
  std::pair<std::size_t, py::object> take(std::size_t size, std::uint64_t index) {
    std::size_t capacity = kSmallestSlot;
    while (capacity < size) capacity *= 2;
    for (auto it = free_.lower_bound(capacity); it != free_.end(); ++it) {
      if (it->second.empty()) continue;
      const std::size_t slot = it->second.back();
      it->second.pop_back();
      return {slot, py::none()};
    }
    const auto made = new_slot_(capacity, index).cast<py::tuple>();
    const py::buffer_info buffer = made[1].cast<py::buffer>().request(true);
    slots_.push_back(Slot{made[1], static_cast<std::byte*>(buffer.ptr), capacity});
    return {slots_.size() - 1, made[0]};
  }

  // `row` with its bytearray and memoryview columns as bytes: a worker has always sent them as
  // bytes columns, where in-process conversion makes arrays of them.
  static py::object with_bytes(py::handle row) {
    const auto is_buffer = [](py::handle v) { return PyByteArray_Check(v.ptr()) || PyMemoryView_Check(v.ptr()); };
    const auto as_bytes = [](py::handle v) {
      PyObject* bytes = PyBytes_FromObject(v.ptr());
      if (!bytes) throw py::error_already_set();
      return py::reinterpret_steal<py::object>(bytes);
    };
    if (!PyTuple_Check(row.ptr())) return is_buffer(row) ? as_bytes(row) : py::reinterpret_borrow<py::object>(row);
    const auto columns = py::reinterpret_borrow<py::tuple>(row);
    if (std::none_of(columns.begin(), columns.end(), is_buffer)) return columns;
    py::tuple out(columns.size());
    for (std::size_t i = 0; i < columns.size(); ++i)
      out[i] = is_buffer(columns[i]) ? as_bytes(columns[i]) : py::reinterpret_borrow<py::object>(columns[i]);
    return out;
  }

  static py::bytes bytes_of(const std::vector<unsigned char>& data) {
    return {reinterpret_cast<const char*>(data.data()), data.size()};
  }

  py::object new_slot_;
  // The arrays rows are views of, let go of here, with the GIL held, as the write ends.
  std::shared_ptr<DeferredRelease> release_ = std::make_shared<DeferredRelease>();
  std::vector<Slot> slots_;
  std::map<std::size_t, std::vector<std::uint32_t>> free_;  // by capacity
};

}  // namespace

void register_worker_rows(py::module_& m) {
  py::class_<RowWriter>(m, "_RowWriter",
                        "A worker process's writer of rows into its shared-memory slots (see "
                        "conveyor/dataset/_workers.py).")
      .def(py::init<py::object>(), py::arg("new_slot"))
      .def("write", &RowWriter::write, py::arg("row"), py::arg("index"),
           "(reply, the new slot's fd or None) for `row`, sample `index`, written into a slot.")
      .def("give_back", &RowWriter::give_back, py::arg("slots"), "Frees slots the parent no longer reads.");
}

}  // namespace conveyor::python
