#pragma once
// Taking the GIL from the engine's threads.

#include <pybind11/pybind11.h>

namespace conveyor::python {

namespace py = pybind11;

/// Gives the calling thread a Python thread state for the rest of its life, once: a no-op on a
/// thread that has one. The engine's threads are not Python's; on such a thread a bare
/// py::gil_scoped_acquire makes a thread state and destroys it again around every call, which
/// cost more than a trivial __getitem__ itself. The states live until the interpreter
/// finalizes (which frees them); there is one per engine thread that ever called Python.
/// Call without holding the GIL.
void keep_thread_state();

/// The GIL, held for this object's lifetime, on any thread (see keep_thread_state()).
class GilScopedAcquire {
 public:
  GilScopedAcquire() = default;
  GilScopedAcquire(const GilScopedAcquire&) = delete;
  GilScopedAcquire& operator=(const GilScopedAcquire&) = delete;

 private:
  struct KeepThreadState {
    KeepThreadState() { keep_thread_state(); }
  } keep_;
  py::gil_scoped_acquire gil_;
};

}  // namespace conveyor::python
