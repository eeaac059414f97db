#include "core/convert.hpp"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace conveyor::python {
namespace {

DType dtype_from_numpy(const py::dtype& dt) {
  const char kind = dt.kind();
  const auto size = dt.itemsize();
  if (kind == 'b') return DType::boolean;
  if (kind == 'i') {
    switch (size) {
      case 1: return DType::i8;
      case 2: return DType::i16;
      case 4: return DType::i32;
      case 8: return DType::i64;
    }
  }
  if (kind == 'u') {
    switch (size) {
      case 1: return DType::u8;
      case 2: return DType::u16;
      case 4: return DType::u32;
      case 8: return DType::u64;
    }
  }
  if (kind == 'f') {
    switch (size) {
      case 2: return DType::f16;
      case 4: return DType::f32;
      case 8: return DType::f64;
    }
  }
  throw std::invalid_argument("NumPy dtype " + std::string(py::str(dt)) + " is not supported");
}

/// False for a dtype whose bytes are in the other order than this machine's (e.g. '>f4' here).
bool is_native(const py::dtype& dt) {
  const char order = dt.byteorder();
  return order == '=' || order == '|' || order == (std::endian::native == std::endian::little ? '<' : '>');
}

}  // namespace

Tensor tensor_from_python(py::handle value, const std::shared_ptr<DeferredRelease>& release) {
  if (py::isinstance<py::bytes>(value)) return Tensor::bytes(std::string_view(value.cast<py::bytes>()));
  if (py::isinstance<py::str>(value)) {
    Py_ssize_t size = 0;
    const char* utf8 = PyUnicode_AsUTF8AndSize(value.ptr(), &size);
    if (utf8 == nullptr) {  // a lone surrogate (e.g. from errors="surrogateescape") has no UTF-8
      PyErr_Clear();
      throw std::invalid_argument("a str that cannot be encoded as UTF-8 (it holds a lone surrogate)");
    }
    return Tensor::bytes(std::string_view(utf8, static_cast<std::size_t>(size)));
  }
  // Python's own scalars (labels, mostly) become what NumPy would make of them, without making
  // a NumPy array for each.
  if (PyBool_Check(value.ptr())) return Tensor::scalar<bool>(value.ptr() == Py_True);
  if (PyLong_CheckExact(value.ptr())) {
    int overflow = 0;
    const long long integer = PyLong_AsLongLongAndOverflow(value.ptr(), &overflow);
    if (overflow == 0) return Tensor::scalar<std::int64_t>(integer);  // else NumPy decides (uint64 or an error)
  }
  if (PyFloat_CheckExact(value.ptr())) return Tensor::scalar<double>(PyFloat_AS_DOUBLE(value.ptr()));
  // An array as it is (NumPy's own conversion of one costs more than a cheap __getitem__);
  // anything else as NumPy converts it.
  py::array array = py::isinstance<py::array>(value) ? py::reinterpret_borrow<py::array>(value)
                                                      : py::array::ensure(value);
  if (!array) {
    PyErr_Clear();
    throw std::invalid_argument("a value of type " + std::string(py::str(py::type::of(value).attr("__name__"))) +
                                " is not array-like");
  }
  if (!is_native(array.dtype()))  // e.g. '>f4': bytes in the other order
    array = py::array::ensure(array.attr("astype")(array.dtype().attr("newbyteorder")("=")));
  DType dtype;
  try {
    dtype = dtype_from_numpy(array.dtype());
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string(e.what()) + " (a value of type " +
                                std::string(py::str(py::type::of(value).attr("__name__"))) + ")");
  }
  Shape shape(array.shape(), array.shape() + array.ndim());
  Strides strides(array.strides(), array.strides() + array.ndim());
  const auto item = static_cast<std::int64_t>(itemsize(dtype));
  bool negative = std::any_of(strides.begin(), strides.end(), [](std::int64_t s) { return s < 0; });
  bool aligned = reinterpret_cast<std::uintptr_t>(array.data()) % item == 0 &&
                 std::all_of(strides.begin(), strides.end(), [&](std::int64_t s) { return s % item == 0; });
  if (negative || !aligned) {
    // Reversed or unaligned views are rare; one C-order copy makes them ordinary, and C order's
    // own strides describe it. numpy.array raises where it fails (a MemoryError for a reversed
    // broadcast view of exabytes), where py::array::ensure would swallow the error; and it makes
    // a plain ndarray of the same shape whatever the subclass.
    const py::object copy = py::module_::import("numpy").attr("array")(array, py::arg("order") = "C");
    array = py::reinterpret_borrow<py::array>(copy);
    strides.clear();
  }
  void* data = const_cast<void*>(array.data());
  return Tensor::from_memory(data, dtype, std::move(shape), std::move(strides),
                             DeferredRelease::owner(std::move(array), release));
}

Row row_from_python(py::handle value, const std::shared_ptr<DeferredRelease>& release) {
  Row row;
  if (py::isinstance<py::tuple>(value)) {
    auto tuple = value.cast<py::tuple>();
    row.reserve(tuple.size());
    for (std::size_t i = 0; i < tuple.size(); ++i) {
      try {
        row.push_back(tensor_from_python(tuple[i], release));
      } catch (const std::invalid_argument& e) {
        throw std::invalid_argument("column " + std::to_string(i) + ": " + e.what());
      }
    }
  } else {
    row.push_back(tensor_from_python(value, release));
  }
  return row;
}

py::dtype numpy_dtype(DType dtype) {
  return py::dtype(std::string(dtype == DType::bytes ? "uint8" : name(dtype)));
}

py::array array_from_tensor(const Tensor& tensor) {
  auto* held = new Tensor(tensor);
  py::capsule base(held, [](void* p) { delete static_cast<Tensor*>(p); });
  std::vector<py::ssize_t> shape(tensor.shape().begin(), tensor.shape().end());
  std::vector<py::ssize_t> strides(tensor.strides().begin(), tensor.strides().end());
  return py::array(numpy_dtype(tensor.dtype()), std::move(shape), std::move(strides), tensor.data(), base);
}

py::tuple arrays_from_row(const Row& row) {
  py::tuple out(row.size());
  for (std::size_t i = 0; i < row.size(); ++i) out[i] = array_from_tensor(row[i]);
  return out;
}

}  // namespace conveyor::python
