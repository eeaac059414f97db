#include "core/python_source.hpp"

#include <stdexcept>

#include "core/convert.hpp"
#include "core/gil.hpp"
#include "workers/source.hpp"

namespace conveyor::python {
namespace {

class PythonRandomAccessSource final : public RandomAccessSource {
 public:
  PythonRandomAccessSource(py::object object, std::size_t size) : object_(std::move(object)), size_(size) {}
  std::size_t size() const override { return size_; }
  Row read(std::size_t index, std::uint64_t) const override {
    GilScopedAcquire gil;
    release_->drain();
    const py::object row = object_.get()[py::int_(index)];
    return row_from_python(row, release_);
  }
  // The whole chunk under one hold of the GIL: taking it is a hand-over between threads when
  // another one holds it, which costs more than a cheap __getitem__.
  void read_many(std::span<const std::uint64_t> indices, std::uint64_t, std::span<Row> rows,
                 std::span<std::exception_ptr> errors, std::stop_token stop) const override {
    GilScopedAcquire gil;
    release_->drain();
    const py::object& object = object_.get();
    for (std::size_t i = 0; i < indices.size() && !stop.stop_requested(); ++i) {
      try {
        rows[i] = row_from_python(object[py::int_(indices[i])], release_);
      } catch (...) {
        errors[i] = std::current_exception();
      }
    }
  }

 private:
  SharedObject object_;
  std::size_t size_;
  std::shared_ptr<DeferredRelease> release_ = std::make_shared<DeferredRelease>();
};

// Reads iter(object) each epoch, or iter(object()) for a generator function.
class PythonIterableSource final : public IterableSource {
 public:
  explicit PythonIterableSource(SharedObject object) : object_(std::move(object)) {}
  void reset() override {
    GilScopedAcquire gil;
    iterator_.reset();
  }
  std::optional<Row> next() override {
    GilScopedAcquire gil;
    release_->drain();
    if (!iterator_) {
      const py::object& o = object_.get();
      py::object iterable = py::hasattr(o, "__iter__") ? o : o();
      iterator_.emplace(py::iter(iterable));
    }
    PyObject* item = PyIter_Next(iterator_->get().ptr());
    if (!item) {
      if (PyErr_Occurred()) throw py::error_already_set();
      return std::nullopt;
    }
    return row_from_python(py::reinterpret_steal<py::object>(item), release_);
  }
  // Another reader with its own iter(): a container or generator function reads afresh; a
  // generator object, which iter() returns unchanged, is still one shared stream.
  std::shared_ptr<IterableSource> fork() const override { return std::make_shared<PythonIterableSource>(object_); }

 private:
  SharedObject object_;
  std::optional<SharedObject> iterator_;
  std::shared_ptr<DeferredRelease> release_ = std::make_shared<DeferredRelease>();
};

}  // namespace

AnySource python_source(py::object object) {
  if (py::hasattr(object, "__conveyor_worker_pool__")) return worker_source(std::move(object));
  if (py::hasattr(object, "__getitem__") && py::hasattr(object, "__len__")) {
    auto size = py::len(object);
    return std::make_shared<PythonRandomAccessSource>(std::move(object), size);
  }
  if (py::hasattr(object, "__iter__") || PyCallable_Check(object.ptr()))
    return std::make_shared<PythonIterableSource>(SharedObject(std::move(object)));
  throw std::invalid_argument("conveyor: a source needs __getitem__ and __len__, __iter__, or to be a generator function");
}

}  // namespace conveyor::python
