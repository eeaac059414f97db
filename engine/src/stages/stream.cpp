#include "stages/stream.hpp"

namespace conveyor::detail {

StageStats StageCounters::snapshot() const {
  StageStats s;
  s.name = name;
  s.workers = workers;
  s.rows = rows.load();
  s.errors = errors.load();
  s.busy = std::chrono::nanoseconds(busy_ns.load());
  s.wait_input = std::chrono::nanoseconds(wait_input_ns.load());
  s.wait_output = std::chrono::nanoseconds(wait_output_ns.load());
  return s;
}

}  // namespace conveyor::detail
