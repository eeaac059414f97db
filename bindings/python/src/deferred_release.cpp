#include "deferred_release.hpp"

#include "gil.hpp"

namespace conveyor::python {
namespace {

// A pending call: runs on the interpreter's main thread, with the GIL. Owns `queue`.
int drain_pending(void* queue) {
  auto* weak = static_cast<std::weak_ptr<DeferredRelease>*>(queue);
  if (auto alive = weak->lock()) alive->drain();
  delete weak;
  return 0;
}

}  // namespace

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
  {
    std::lock_guard lock(mutex_);
    queued_.push_back(object);
    if (drain_asked_ || !Py_IsInitialized()) return;
    drain_asked_ = true;
  }
  // Needs neither the GIL nor a thread state. Refused when the interpreter's queue of pending
  // calls is full: the objects then wait for the next drain(), which asks again.
  auto* weak = new std::weak_ptr<DeferredRelease>(weak_from_this());
  if (Py_AddPendingCall(drain_pending, weak) != 0) {
    delete weak;
    std::lock_guard lock(mutex_);
    drain_asked_ = false;
  }
}

void DeferredRelease::drain() {
  std::vector<PyObject*> queued;
  {
    std::lock_guard lock(mutex_);
    queued.swap(queued_);
    drain_asked_ = false;
  }
  for (PyObject* object : queued) Py_DECREF(object);
}

}  // namespace conveyor::python
