#pragma once
// One registration function per area of conveyor._core; module.cpp only calls them.

#include <pybind11/pybind11.h>

namespace conveyor::python {

namespace py = pybind11;

void register_config(py::module_& m);
void register_tensor(py::module_& m);
void register_sampler(py::module_& m);
void register_ops(py::module_& m);
void register_dataset(py::module_& m);
void register_bench(py::module_& m);
void register_worker_rows(py::module_& m);

}  // namespace conveyor::python
