#pragma once
// Python objects as conveyor sources: random access (__getitem__ + __len__), an iterable
// (__iter__), or a generator function. Each call into Python takes the GIL.

#include <memory>

#include <pybind11/pybind11.h>

#include <conveyor/source.hpp>

#include "core/python_callables.hpp"

namespace conveyor::python {

/// The source for `object`, by what it offers: a WorkerPool (its __conveyor_worker_pool__
/// attribute says so) gives rows from worker processes (workers/source.hpp); __getitem__ and
/// __len__ give random access; an iterable, or a callable returning one (a generator function),
/// gives an iterable source read afresh each epoch. Throws std::invalid_argument for anything else.
AnySource python_source(py::object object);

}  // namespace conveyor::python
