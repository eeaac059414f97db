#include "core/python_callables.hpp"

#include "core/convert.hpp"
#include "core/gil.hpp"

namespace conveyor::python {

SharedObject::SharedObject(py::object object)
    : object_(new py::object(std::move(object)), [](py::object* p) {
        if (!Py_IsInitialized()) return;
        GilScopedAcquire gil;
        delete p;
      }) {}

RowOp python_op(py::object fn) {
  return [fn = SharedObject(std::move(fn)), release = std::make_shared<DeferredRelease>()](Row columns) {
    GilScopedAcquire gil;
    release->drain();
    py::object result = fn.get()(*arrays_from_row(columns));
    return row_from_python(result, release);
  };
}

Predicate python_predicate(py::object fn) {
  return [fn = SharedObject(std::move(fn))](const Row& columns) {
    GilScopedAcquire gil;
    return py::bool_(fn.get()(*arrays_from_row(columns))).cast<bool>();
  };
}

std::shared_ptr<Sampler> python_sampler(py::object indices) {
  return std::make_shared<UserSampler>([source = SharedObject(std::move(indices))](std::size_t, std::uint64_t epoch) {
    GilScopedAcquire gil;
    if (py::hasattr(source.get(), "set_epoch")) source.get().attr("set_epoch")(epoch);
    std::vector<std::size_t> out;
    for (py::handle index : source.get()) {
      auto value = index.cast<std::int64_t>();
      if (value < 0) throw std::out_of_range("conveyor: sampler yielded the negative index " + std::to_string(value));
      out.push_back(static_cast<std::size_t>(value));
    }
    return out;
  });
}

std::function<std::vector<Row>(std::vector<Row>, const BatchInfo&)> python_batch_map(py::object fn) {
  return [fn = SharedObject(std::move(fn)), release = std::make_shared<DeferredRelease>()](std::vector<Row> rows,
                                                                                           const BatchInfo& info) {
    GilScopedAcquire gil;
    release->drain();
    py::list in;
    for (const Row& row : rows) in.append(arrays_from_row(row));
    py::object result = fn.get()(in, info.batch_num, info.epoch_num);
    std::vector<Row> out;
    for (py::handle row : result) out.push_back(row_from_python(row, release));
    return out;
  };
}

}  // namespace conveyor::python
