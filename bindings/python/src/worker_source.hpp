#pragma once
// The parent's side of GeneratorDataset's worker processes (conveyor/dataset/_workers.py, which
// starts them and documents the protocol): requests and replies over each worker's socket, and
// rows wrapped as tensors straight from the workers' shared-memory slots, all without the GIL.
// Python is called only for an exception raised in a worker and for a worker that died.

#include <memory>

#include <pybind11/pybind11.h>

#include <conveyor/source.hpp>

namespace conveyor::python {

namespace py = pybind11;

/// A random-access source reading its rows from the worker processes of `pool`, a started
/// conveyor.dataset._workers.WorkerPool: len(pool) rows; pool.count workers; pool.channel(i)
/// gives worker i's (socket fd, exit sentinel fd, pid), whose descriptors stay open while the
/// pool lives; pool.error(payload, i, index) turns an exception a worker sent into the exception
/// to raise; pool.dead(i, index, pid) replaces worker i if it is still process `pid` and returns
/// the exception that describes that process's death.
/// fetch() is thread-safe; rows keep their slot until the last tensor over it is released.
std::shared_ptr<Source> worker_source(py::object pool);

}  // namespace conveyor::python
