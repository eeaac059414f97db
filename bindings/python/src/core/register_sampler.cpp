// The engine's samplers, for GeneratorDataset(sampler=...).
#include <pybind11/stl.h>

#include <conveyor/sampler.hpp>

#include "core/registry.hpp"

namespace conveyor::python {

void register_sampler(py::module_& m) {
  py::class_<Sampler, std::shared_ptr<Sampler>>(m, "Sampler")
      .def("num_samples", &Sampler::num_samples, py::arg("dataset_size"))
      .def("indices", &Sampler::indices, py::arg("dataset_size"), py::arg("epoch") = 0,
           "The indices of `epoch`, in order: a pure function of (dataset_size, epoch).")
      .def("set_epoch", &Sampler::set_epoch, py::arg("epoch"))
      .def_property_readonly("epoch", &Sampler::epoch);
  py::class_<SequentialSampler, Sampler, std::shared_ptr<SequentialSampler>>(m, "SequentialSampler")
      .def(py::init<std::size_t, std::optional<std::size_t>>(), py::arg("start_index") = 0,
           py::arg("num_samples") = py::none());
  py::class_<RandomSampler, Sampler, std::shared_ptr<RandomSampler>>(m, "RandomSampler")
      .def(py::init<std::uint64_t, bool, std::optional<std::size_t>>(), py::arg("seed"),
           py::arg("replacement") = false, py::arg("num_samples") = py::none());
  py::class_<DistributedSampler, Sampler, std::shared_ptr<DistributedSampler>>(m, "DistributedSampler")
      .def(py::init<std::size_t, std::size_t, bool, std::uint64_t, bool>(), py::arg("num_shards"),
           py::arg("shard_id"), py::arg("shuffle") = true, py::arg("seed") = 0, py::arg("drop_last") = false);
  py::class_<SubsetRandomSampler, Sampler, std::shared_ptr<SubsetRandomSampler>>(m, "SubsetRandomSampler")
      .def(py::init<std::vector<std::size_t>, std::uint64_t>(), py::arg("indices"), py::arg("seed"));
  py::class_<WeightedRandomSampler, Sampler, std::shared_ptr<WeightedRandomSampler>>(m, "WeightedRandomSampler")
      .def(py::init<std::vector<double>, std::size_t, bool, std::uint64_t>(), py::arg("weights"),
           py::arg("num_samples"), py::arg("replacement") = true, py::arg("seed") = 0);
}

}  // namespace conveyor::python
