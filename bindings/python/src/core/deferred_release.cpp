#include "core/deferred_release.hpp"

#include "core/gil.hpp"

namespace conveyor::python {

DeferredRelease::~DeferredRelease() {
  if (queued_.empty() || !Py_IsInitialized()) return;  // the interpreter is gone: nothing left to release into
  GilScopedAcquire gil;
  drain();
}

std::shared_ptr<void> DeferredRelease::owner(py::object object, std::shared_ptr<DeferredRelease> queue) {
  return std::shared_ptr<void>(object.release().ptr(), [queue = std::move(queue)](void* p) {
    auto* object = static_cast<PyObject*>(p);
    if (Py_IsInitialized() && PyGILState_Check()) {
      Py_DECREF(object);
      return;
    }
    queue->push(object);
  });
}

void DeferredRelease::push(PyObject* object) {
  std::lock_guard lock(mutex_);
  queued_.push_back(object);
}

void DeferredRelease::drain() {
  std::vector<PyObject*> queued;
  {
    std::lock_guard lock(mutex_);
    queued.swap(queued_);
  }
  for (PyObject* object : queued) Py_DECREF(object);
}

}  // namespace conveyor::python
