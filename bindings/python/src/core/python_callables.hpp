#pragma once
// Python functions as the engine's ops, predicates, samplers and per-batch maps. The engine
// copies and calls these from its worker threads: each takes the GIL for the call only.

#include <functional>
#include <memory>
#include <vector>

#include <pybind11/pybind11.h>

#include <conveyor/dataset_options.hpp>
#include <conveyor/op.hpp>
#include <conveyor/sampler.hpp>

namespace conveyor::python {

namespace py = pybind11;

/// A Python object that C++ may copy on any thread: copies share one reference, and the last
/// one takes the GIL to let go of it.
class SharedObject {
 public:
  explicit SharedObject(py::object object);
  /// The object; use only while holding the GIL.
  const py::object& get() const noexcept { return *object_; }

 private:
  std::shared_ptr<py::object> object_;
};

/// A map op calling fn(*columns) with the input columns as NumPy arrays; a tuple result gives
/// one column per element, anything else one column.
RowOp python_op(py::object fn);

/// A filter predicate calling fn(*columns) and taking its truth value.
Predicate python_predicate(py::object fn);

/// A sampler reading the indices of each epoch from iter(indices); calls set_epoch(epoch) first
/// when the object has it (torch samplers do).
std::shared_ptr<Sampler> python_sampler(py::object indices);

/// A per_batch_map calling fn(rows, batch_num, epoch_num) with rows as a list of tuples of NumPy
/// arrays, and reading back a sequence of rows (tuples, or single values).
std::function<std::vector<Row>(std::vector<Row>, const BatchInfo&)> python_batch_map(py::object fn);

}  // namespace conveyor::python
