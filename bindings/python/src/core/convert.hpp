#pragma once
// Conversions between Python values and conveyor tensors and rows, without copying array data.
// Every function here needs the GIL.

#include <memory>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <conveyor/row.hpp>

#include "core/deferred_release.hpp"

namespace conveyor::python {

namespace py = pybind11;

/// A tensor over a NumPy array (or anything np.asarray accepts: scalars, lists) without copying
/// it, the array released through `release` once the tensor and its views are gone (see
/// DeferredRelease); Python's bool, int and float and bytes and str (as UTF-8) become tensors of
/// their own (copied). Throws std::invalid_argument naming the type for values NumPy cannot
/// make a numeric array of, and for a str UTF-8 cannot encode (a lone surrogate).
Tensor tensor_from_python(py::handle value, const std::shared_ptr<DeferredRelease>& release);

/// A row from a Python value: a tuple gives one column per element, anything else one column;
/// each converted by tensor_from_python().
Row row_from_python(py::handle value, const std::shared_ptr<DeferredRelease>& release);

/// A NumPy array over the tensor's memory, keeping the tensor alive; `bytes` tensors come out as
/// uint8 arrays.
py::array array_from_tensor(const Tensor& tensor);

/// A tuple of NumPy arrays, one per column.
py::tuple arrays_from_row(const Row& row);

/// The NumPy dtype of a conveyor dtype.
py::dtype numpy_dtype(DType dtype);

}  // namespace conveyor::python
