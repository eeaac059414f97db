#pragma once
// Letting go of Python objects from the engine's threads without a GIL hand-over for each.

#include <memory>
#include <mutex>
#include <vector>

#include <pybind11/pybind11.h>

namespace conveyor::python {

namespace py = pybind11;

/// Python objects (arrays that tensors were viewing) dropped on threads that do not hold the
/// GIL, kept until a holder of the GIL releases them all in one go. Taking the GIL on an engine
/// thread is a hand-over between threads whenever another thread holds it, which costs more
/// than a small row's whole trip through the pipeline; queueing costs a lock. A source drains
/// its queue each time it takes the GIL to read rows, so what waits is bounded by the rows in
/// flight. Thread-safe.
class DeferredRelease {
 public:
  DeferredRelease() = default;
  DeferredRelease(const DeferredRelease&) = delete;
  DeferredRelease& operator=(const DeferredRelease&) = delete;
  /// Releases what is left, taking the GIL; after the interpreter has finalized it leaks them.
  ~DeferredRelease();

  /// A tensor owner keeping `object` alive: dropped on a thread that holds the GIL it releases
  /// the object at once, elsewhere it queues it on `queue`. Needs the GIL.
  static std::shared_ptr<void> owner(py::object object, std::shared_ptr<DeferredRelease> queue);

  /// Releases every queued object. Needs the GIL.
  void drain();

 private:
  void push(PyObject* object);

  std::mutex mutex_;
  std::vector<PyObject*> queued_;
};

}  // namespace conveyor::python
