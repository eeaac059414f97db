// libFuzzer target for the conversion of Python rows into tensors: conveyor::python::row_from_python
// (bindings/python/src/core/convert.cpp), the function the bindings call on every value a Python
// source or map function returns, run in an embedded interpreter.
//
// row_values.py turns the fuzzer's bytes into a Python value (arrays of any dtype, byte order,
// shape and strides, over or under the copy limit; bytes, str, numbers, ragged lists, None) and
// says what conveyor must make of each column. A finding is: a crash or sanitizer report; an
// exception other than std::invalid_argument; a refusal of a value NumPy reads as a supported
// dtype, or an acceptance of one it does not; a tensor whose dtype, shape or elements differ from
// NumPy's C-order copy, read after Python dropped the value (so a tensor that does not own its
// bytes reads freed memory); a Python array still alive once the value and the row are gone.
//
// Build and run: scripts/fuzz.sh [seconds]. Reproduce a saved input: <build>/row_fuzz <file>.
// Run with ASAN_OPTIONS=detect_leaks=0: the interpreter keeps its caches until exit.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>

#include <pybind11/embed.h>

#include "core/convert.hpp"

namespace py = pybind11;

namespace {

/// The interpreter and row_values.build, made once for the process (libFuzzer's model: one
/// process, many inputs) and never torn down: libFuzzer leaves through exit().
py::object& build_function() {
  static py::scoped_interpreter* interpreter = new py::scoped_interpreter();
  static py::object* build = [] {
    py::module_::import("sys").attr("path").attr("insert")(0, CONVEYOR_FUZZ_DIR);
    return new py::object(py::module_::import("row_values").attr("build"));
  }();
  (void)interpreter;
  return *build;
}

/// Traps (a finding libFuzzer saves) unless `tensor` is what `expected` describes.
void check_column(const conveyor::Tensor& tensor, py::handle expected) {
  const auto entry = expected.cast<py::tuple>();
  if (conveyor::name(tensor.dtype()) != entry[0].cast<std::string>()) __builtin_trap();
  const auto shape = entry[1].cast<py::tuple>();
  if (tensor.ndim() != shape.size()) __builtin_trap();
  for (std::size_t i = 0; i < shape.size(); ++i)
    if (tensor.shape()[i] != shape[i].cast<std::int64_t>()) __builtin_trap();
  const auto bytes = entry[2].cast<std::string>();
  if (tensor.nbytes() != bytes.size()) __builtin_trap();
  const conveyor::Tensor dense = tensor.contiguous();
  if (!bytes.empty() && std::memcmp(dense.data(), bytes.data(), bytes.size()) != 0) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  py::object& build = build_function();
  auto made = build(py::bytes(reinterpret_cast<const char*>(data), size)).cast<py::tuple>();
  py::object value = made[0];
  const auto expected = made[1].cast<py::list>();
  const auto arrays = made[2].cast<py::list>();
  made = py::tuple();  // `value` is now the only reference this frame holds

  bool refuse = false;
  for (py::handle e : expected) refuse = refuse || e.is_none();
  std::optional<conveyor::Row> row;
  try {
    row = conveyor::python::row_from_python(value, std::make_shared<conveyor::python::DeferredRelease>());
  } catch (const std::invalid_argument&) {
    if (!refuse) __builtin_trap();  // refused a value NumPy reads as a supported dtype
  }
  if (row) {
    if (refuse || row->size() != expected.size()) __builtin_trap();
    value = py::none();  // the tensors must now hold their bytes themselves
    py::module_::import("gc").attr("collect")();
    for (std::size_t i = 0; i < row->size(); ++i) check_column((*row)[i], expected[i]);
    row.reset();
  }
  value = py::none();
  for (py::handle ref : arrays)
    if (!ref().is_none()) __builtin_trap();  // a reference to a Python array leaked
  return 0;
}
