// conveyor._core: the compiled half of the conveyor package.
#include "core/registry.hpp"

PYBIND11_MODULE(_core, m) {
  m.doc() = "conveyor's native engine; use the conveyor package rather than this module.";
  conveyor::python::register_config(m);
  conveyor::python::register_tensor(m);
  conveyor::python::register_sampler(m);
  conveyor::python::register_ops(m);
  conveyor::python::register_dataset(m);
  conveyor::python::register_bench(m);
  conveyor::python::register_worker_rows(m);
}
