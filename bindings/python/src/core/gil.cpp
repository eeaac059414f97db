#include "core/gil.hpp"

namespace conveyor::python {

void keep_thread_state() {
  if (PyGILState_GetThisThreadState() != nullptr) return;
  PyGILState_Ensure();  // makes the thread state (its count at 1, never released) and takes the GIL
  PyEval_SaveThread();  // lets go of the GIL, keeping the state
}

}  // namespace conveyor::python
