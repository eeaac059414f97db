// Process-wide defaults (conveyor::config) as keyword functions.
#include <pybind11/stl.h>

#include <conveyor/config.hpp>

#include "registry.hpp"

namespace conveyor::python {

void register_config(py::module_& m) {
  m.def("get_config", [] {
    Config c = config();
    py::dict d;
    d["seed"] = c.seed;
    d["prefetch_size"] = c.prefetch_size;
    d["num_parallel_workers"] = c.num_parallel_workers;
    d["rows_per_task"] = c.rows_per_task;
    return d;
  }, "The current defaults as a dict.");
  m.def(
      "set_config",
      [](std::optional<std::uint64_t> seed, std::optional<std::size_t> prefetch_size,
         std::optional<std::size_t> num_parallel_workers, std::optional<std::size_t> rows_per_task) {
        Config c = config();
        if (seed) c.seed = *seed;
        if (prefetch_size) c.prefetch_size = *prefetch_size;
        if (num_parallel_workers) c.num_parallel_workers = *num_parallel_workers;
        if (rows_per_task) c.rows_per_task = *rows_per_task;
        set_config(c);
      },
      py::kw_only(), py::arg("seed") = py::none(), py::arg("prefetch_size") = py::none(),
      py::arg("num_parallel_workers") = py::none(), py::arg("rows_per_task") = py::none(),
      "Changes the given defaults; pipelines started later use them.");
}

}  // namespace conveyor::python
