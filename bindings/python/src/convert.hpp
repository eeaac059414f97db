#pragma once
// Conversions between Python values and conveyor tensors and rows, without copying array data.
// Every function here needs the GIL.

#include <memory>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <conveyor/row.hpp>

namespace conveyor::python {

namespace py = pybind11;

/// Keeps `object` alive as a tensor owner; the last owner to let go takes the GIL to release it
/// (or leaks it when the interpreter is already gone).
std::shared_ptr<void> python_owner(py::object object);

/// A tensor over a NumPy array (or anything np.asarray accepts: scalars, lists) without copying
/// it; bytes and str (as UTF-8) become `bytes` tensors (copied). Throws std::invalid_argument
/// naming the type for values NumPy cannot make a numeric array of, and for a str UTF-8 cannot
/// encode (a lone surrogate).
Tensor tensor_from_python(py::handle value);

/// A row from a Python value: a tuple gives one column per element, anything else one column.
Row row_from_python(py::handle value);

/// A NumPy array over the tensor's memory, keeping the tensor alive; `bytes` tensors come out as
/// uint8 arrays.
py::array array_from_tensor(const Tensor& tensor);

/// A tuple of NumPy arrays, one per column.
py::tuple arrays_from_row(const Row& row);

/// The NumPy dtype of a conveyor dtype.
py::dtype numpy_dtype(DType dtype);

}  // namespace conveyor::python
