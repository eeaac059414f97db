#pragma once
// GeneratorDataset's worker processes as a source: __getitem__ runs in the processes of a
// conveyor.dataset._workers.WorkerPool, read through a WorkerGroup (worker_group.hpp).

#include <memory>

#include <pybind11/pybind11.h>

#include <conveyor/source.hpp>

namespace conveyor::python {

namespace py = pybind11;

/// A random-access source of len(pool) rows read from the workers of `pool`, a started
/// WorkerPool (see WorkerGroup for what it must offer; pool.rows_per_chunk is the fetch_block()
/// it asks the engine for). The GIL held. fetch_many() is thread-safe and sends one request per
/// chunk.
std::shared_ptr<Source> worker_source(py::object pool);

}  // namespace conveyor::python
