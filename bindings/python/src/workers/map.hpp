#pragma once
// map(python_multiprocessing=True): a run of Python map functions in the worker processes of a
// conveyor.dataset._workers.WorkerPool, read through a WorkerGroup (workers/group.hpp).

#include <pybind11/pybind11.h>

#include <conveyor/op.hpp>

namespace conveyor::python {

namespace py = pybind11;

/// A map op that sends each row's columns to a worker of `pool` (a started WorkerPool over a
/// conveyor.dataset._workers.MapJob), which applies the functions and answers with the output
/// columns in its shared memory. The GIL held to make it; the op is thread-safe, blocks for the
/// reply, and never takes the GIL but to raise a worker's exception or death.
ContextOp worker_map_op(py::object pool);

}  // namespace conveyor::python
