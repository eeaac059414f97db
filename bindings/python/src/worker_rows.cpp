// conveyor._core._RowWriter: a worker process's side of a row (conveyor/dataset/_workers.py
// documents the protocol): the row's columns copied into one of the worker's shared-memory slots,
// and the reply that tells the parent where they lie. In C++ because the same in Python cost a
// worker ~10 µs a row beside __getitem__ (py-heavy's rows of an array and an int).
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <array>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "registry.hpp"

namespace conveyor::python {
namespace {

constexpr std::uint8_t kRow = 0;  // reply status
constexpr std::uint8_t kArray = 0;  // column kinds
constexpr std::uint8_t kBytes = 1;
constexpr std::uint32_t kNoSlot = 0xFFFFFFFF;
constexpr std::size_t kAlignment = 64;  // of a column's offset in its slot
constexpr std::size_t kSmallestSlot = 4096;

// One column of a row as a slot holds it: an array's bytes in C order (dtype set), the bytes of
// a bytes column (dtype empty), or an int64 or float64 written from a Python int or float.
struct Column {
  py::object owner;  // keeps `data` alive
  const void* data = nullptr;
  std::size_t nbytes = 0;
  std::string dtype;
  std::vector<std::int64_t> shape;
  std::array<unsigned char, 8> scalar{};  // the value when `data` is null and nbytes is 8
  std::size_t offset = 0;
};

// NumPy's name of `dtype`, which is conveyor's; computed from its kind and size where NumPy's
// dtype.name costs several µs.
std::string dtype_name(const py::dtype& dtype) {
  const auto bits = std::to_string(8 * dtype.itemsize());
  switch (dtype.kind()) {
    case 'b': return "bool";
    case 'i': return "int" + bits;
    case 'u': return "uint" + bits;
    case 'f': return "float" + bits;
    default: return dtype.attr("name").cast<std::string>();
  }
}

template <class T>
Column scalar(T value, const char* dtype) {
  Column column;
  column.dtype = dtype;
  column.nbytes = sizeof value;
  std::memcpy(column.scalar.data(), &value, sizeof value);
  return column;
}

// `value`, column `position` of a row, as _workers.py's contract says: a Python int (that fits)
// or float as int64 or float64; str as its UTF-8 bytes, bytes, bytearray and memoryview as bytes;
// anything else through np.asarray, which must give booleans, integers or floats (else a
// TypeError naming the column), in native byte order. Its bytes are taken C-contiguous when
// written, once a slot was found for them (a broadcast view may stand for more than memory).
Column column_of(py::handle value, std::size_t position) {
  PyObject* raw = value.ptr();
  if (PyLong_CheckExact(raw)) {
    int overflow = 0;
    const long long integer = PyLong_AsLongLongAndOverflow(raw, &overflow);
    if (!overflow) return scalar<std::int64_t>(integer, "int64");
  } else if (PyFloat_CheckExact(raw)) {
    return scalar<double>(PyFloat_AS_DOUBLE(raw), "float64");
  }
  py::object object = py::reinterpret_borrow<py::object>(value);
  if (!py::isinstance<py::array>(object)) {
    if (PyUnicode_Check(raw))
      object = object.attr("encode")();
    else if (PyMemoryView_Check(raw))
      object = object.attr("tobytes")();
    if (PyBytes_Check(object.ptr()) || PyByteArray_Check(object.ptr())) {
      Column column;
      const bool bytes = PyBytes_Check(object.ptr());
      column.data = bytes ? PyBytes_AS_STRING(object.ptr()) : PyByteArray_AS_STRING(object.ptr());
      column.nbytes = static_cast<std::size_t>(bytes ? PyBytes_GET_SIZE(object.ptr()) : PyByteArray_GET_SIZE(object.ptr()));
      column.owner = std::move(object);
      return column;
    }
  }
  const py::module_ numpy = py::module_::import("numpy");
  py::array array = py::isinstance<py::array>(object) ? py::reinterpret_borrow<py::array>(object)
                                                       : py::array(numpy.attr("asarray")(object));
  if (std::string("biuf").find(array.dtype().kind()) == std::string::npos)
    throw py::type_error("column " + std::to_string(position) + ": a value of type " +
                         py::str(py::type::handle_of(value).attr("__name__")).cast<std::string>() + " (NumPy dtype " +
                         py::str(array.dtype()).cast<std::string>() +
                         ") is not supported; give NumPy arrays of booleans, integers or floats, scalars, bytes or str");
  if (!array.dtype().attr("isnative").cast<bool>())
    array = array.attr("astype")(array.dtype().attr("newbyteorder")("="));
  Column column;
  column.dtype = dtype_name(array.dtype());
  column.shape.assign(array.shape(), array.shape() + array.ndim());
  column.data = array.data();
  column.nbytes = static_cast<std::size_t>(array.nbytes());
  column.owner = std::move(array);
  return column;
}

template <class T>
void append(std::string& out, T value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof value);
}

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
    std::vector<Column> columns;
    if (PyTuple_Check(row.ptr())) {
      const auto values = py::reinterpret_borrow<py::tuple>(row);
      for (std::size_t i = 0; i < values.size(); ++i) columns.push_back(column_of(values[i], i));
    } else {
      columns.push_back(column_of(row, 0));
    }
    std::string reply;
    append(reply, kRow);
    if (columns.empty()) {
      append(reply, kNoSlot);
      append(reply, std::uint64_t{0});
      append(reply, std::uint32_t{0});
      return {py::bytes(reply), py::none()};
    }
    std::size_t size = 0;
    for (Column& column : columns) {
      column.offset = (size + kAlignment - 1) / kAlignment * kAlignment;
      size = column.offset + column.nbytes;
    }
    const auto [slot, fd] = take(size, index);
    std::byte* memory = slots_[slot].memory;
    append(reply, static_cast<std::uint32_t>(slot));
    append(reply, static_cast<std::uint64_t>(fd.is_none() ? 0 : slots_[slot].size));
    append(reply, static_cast<std::uint32_t>(columns.size()));
    for (Column& column : columns) {
      if (column.nbytes) {
        if (column.owner && py::isinstance<py::array>(column.owner) &&
            !(py::reinterpret_borrow<py::array>(column.owner).flags() & py::array::c_style)) {
          column.owner = py::module_::import("numpy").attr("ascontiguousarray")(column.owner);
          column.data = py::reinterpret_borrow<py::array>(column.owner).data();
        }
        std::memcpy(memory + column.offset, column.data ? column.data : column.scalar.data(), column.nbytes);
      }
      if (column.dtype.empty()) {
        append(reply, kBytes);
        append(reply, static_cast<std::uint64_t>(column.offset));
        append(reply, static_cast<std::uint64_t>(column.nbytes));
        continue;
      }
      append(reply, kArray);
      append(reply, static_cast<std::uint8_t>(column.dtype.size()));
      reply += column.dtype;
      append(reply, static_cast<std::uint32_t>(column.shape.size()));
      for (std::int64_t extent : column.shape) append(reply, extent);
      append(reply, static_cast<std::uint64_t>(column.offset));
    }
    return {py::bytes(reply), fd};
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

  py::object new_slot_;
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
