// Native operators for Python: their declarations (from which conveyor.dataset.vision and
// .transforms generate classes) and NativeOp, an operator with its arguments, which map() runs
// without the GIL.
#include <pybind11/stl.h>

#include <conveyor/config.hpp>
#include <conveyor/ops/operator.hpp>

#include "core/convert.hpp"
#include "core/registry.hpp"

namespace conveyor::python {
namespace {

py::object to_python(const ops::Value& value) {
  return std::visit(
      [](const auto& v) -> py::object {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>)
          return py::none();
        else
          return py::cast(v);
      },
      value);
}

}  // namespace

void register_ops(py::module_& m) {
  m.def(
      "operators",
      [] {
        py::list out;
        for (const ops::Operator& op : ops::operators()) {
          py::list params;
          for (const ops::Param& p : op.params)
            params.append(py::make_tuple(p.name, to_python(p.default_value),
                                         std::holds_alternative<std::monostate>(p.default_value), p.doc));
          py::dict d;
          d["name"] = op.name;
          d["module"] = op.module;
          d["doc"] = op.doc;
          d["params"] = params;
          out.append(d);
        }
        return out;
      },
      "Declarations of the native operators: name, module, doc, params as (name, default, required, doc).");

  py::class_<ops::OpSpec>(m, "NativeOp", "A native operator with its arguments; map() runs it without the GIL.")
      .def(py::init([](std::string name, std::map<std::string, ops::Value> values) {
             ops::OpSpec spec{std::move(name), std::move(values)};
             ops::make_ops({spec});  // rejects unknown names and bad arguments now, not in the pipeline
             return spec;
           }),
           py::arg("name"), py::arg("values"))
      .def_readonly("name", &ops::OpSpec::name)
      .def_property_readonly("values",
                             [](const ops::OpSpec& s) {
                               py::dict d;
                               for (const auto& [k, v] : s.values) d[py::str(k)] = to_python(v);
                               return d;
                             })
      .def(
          "__call__",
          [](const ops::OpSpec& spec, py::args args) {
            const auto release = std::make_shared<DeferredRelease>();  // outlives the op: drained with the GIL
            Row row;
            for (py::handle a : args) row.push_back(tensor_from_python(a, release));
            OpContext context{config().seed, 0, 0, 0};
            Row out;
            {
              py::gil_scoped_release release;
              out = ops::make_ops({spec}).front()(std::move(row), context);
            }
            if (out.size() == 1) return py::object(array_from_tensor(out[0]));
            return py::object(arrays_from_row(out));
          },
          "Runs the op eagerly on NumPy inputs (seed from the config, epoch 0, sample 0).");
}

}  // namespace conveyor::python
