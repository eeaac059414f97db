#pragma once
// Which threads are the engine's own. A pipeline must not be torn down from one of them (a
// feeder would join itself, a graph task would wait for its own graph): that happens when user
// code running in a pipeline, e.g. Python's garbage collector inside a map function, drops the
// last handle to an iterator. Iterator's destructor asks, and hands teardown to another thread.

namespace conveyor::detail {

/// True on a thread that is running pipeline work.
bool on_engine_thread() noexcept;

/// Marks the current thread as running pipeline work for the scope's lifetime. Nests.
class EngineThreadScope {
 public:
  EngineThreadScope() noexcept;
  ~EngineThreadScope();
  EngineThreadScope(const EngineThreadScope&) = delete;
  EngineThreadScope& operator=(const EngineThreadScope&) = delete;

 private:
  bool was_;
};

}  // namespace conveyor::detail
