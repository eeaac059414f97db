#pragma once
// WorkerLimit: how many TBB worker threads the process may run. oneTBB starts one worker fewer
// than the cores (the application's thread is meant to work too), but no application thread
// works in conveyor's arenas, so each running pipeline asks for as many workers as its arena
// holds. oneTBB applies the smallest of all live tbb::global_control limits, so one per pipeline
// would let a small pipeline cap a large one: one process-wide limit, the largest any live
// pipeline asked for, is kept instead.

#include <cstddef>

namespace conveyor::detail {

/// Holds a request for `threads` threads in all (workers + 1) while it lives. Thread-safe.
class WorkerLease {
 public:
  explicit WorkerLease(std::size_t threads);
  ~WorkerLease();
  WorkerLease(const WorkerLease&) = delete;
  WorkerLease& operator=(const WorkerLease&) = delete;

 private:
  std::size_t threads_;
};

}  // namespace conveyor::detail
