#pragma once
// GeneratorDataset's worker processes as a source: __getitem__ runs in the processes of a
// conveyor.dataset._workers.WorkerPool, read through a WorkerGroup (workers/group.hpp).

#include <memory>

#include <pybind11/pybind11.h>

#include <conveyor/source.hpp>

namespace conveyor::python {

namespace py = pybind11;

/// A random-access source of len(pool) rows read from the workers of `pool`, a started
/// WorkerPool (see WorkerGroup for what it must offer; pool.rows_per_chunk is the
/// SourceHints::block it asks the engine for). The GIL held. read_many() is thread-safe and sends
/// one request per call.
std::shared_ptr<RandomAccessSource> worker_source(py::object pool);

}  // namespace conveyor::python
