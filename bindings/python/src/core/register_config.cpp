// Process-wide defaults (conveyor::config) as keyword functions, and the memory this process
// may still take (conveyor::available_memory).
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <conveyor/config.hpp>
#include <conveyor/memory.hpp>

#include "core/registry.hpp"

namespace conveyor::python {
namespace {

constexpr const char* kModes[] = {"raise", "skip", "replace"};  // by ErrorSamplesMode's value

ErrorSamplesMode mode_named(const std::string& name) {
  for (int i = 0; i < 3; ++i)
    if (name == kModes[i]) return static_cast<ErrorSamplesMode>(i);
  throw py::value_error("error_samples_mode must be 'raise', 'skip' or 'replace', not '" + name + "'");
}

}  // namespace

void register_config(py::module_& m) {
  m.def(
      "available_memory",
      [](const std::filesystem::path& root) {
        MemoryRoom room = available_memory(root);
        return py::make_tuple(room.bytes ? py::int_(*room.bytes) : py::object(py::none()), room.words);
      },
      py::arg("root") = "/",
      "(bytes, words): the memory this process may still take, the least of MemAvailable and the "
      "room under every memory cgroup limit above it (None where nothing can be read), and that in "
      "words. `root` is where /proc and /sys are found (for tests).");
  m.def("get_config", [] {
    Config c = config();
    py::dict d;
    d["seed"] = c.seed;
    d["prefetch_size"] = c.prefetch_size;
    d["num_parallel_workers"] = c.num_parallel_workers;
    d["rows_per_task"] = c.rows_per_task;
    d["error_samples_mode"] = kModes[static_cast<int>(c.error_samples_mode)];
    return d;
  }, "The current defaults as a dict.");
  m.def(
      "set_config",
      [](std::optional<std::uint64_t> seed, std::optional<std::size_t> prefetch_size,
         std::optional<std::size_t> num_parallel_workers, std::optional<std::size_t> rows_per_task,
         std::optional<std::string> error_samples_mode) {
        Config c = config();
        if (seed) c.seed = *seed;
        if (prefetch_size) c.prefetch_size = *prefetch_size;
        if (num_parallel_workers) c.num_parallel_workers = *num_parallel_workers;
        if (rows_per_task) c.rows_per_task = *rows_per_task;
        if (error_samples_mode) c.error_samples_mode = mode_named(*error_samples_mode);
        set_config(c);
      },
      py::kw_only(), py::arg("seed") = py::none(), py::arg("prefetch_size") = py::none(),
      py::arg("num_parallel_workers") = py::none(), py::arg("rows_per_task") = py::none(),
      py::arg("error_samples_mode") = py::none(),
      "Changes the given defaults; pipelines started later use them.");
}

}  // namespace conveyor::python
