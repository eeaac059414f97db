#include "runtime/engine_thread.hpp"

namespace conveyor::detail {
namespace {
thread_local bool engine_thread = false;
}

bool on_engine_thread() noexcept { return engine_thread; }

EngineThreadScope::EngineThreadScope() noexcept : was_(engine_thread) { engine_thread = true; }
EngineThreadScope::~EngineThreadScope() { engine_thread = was_; }

}  // namespace conveyor::detail
