#include "conveyor/config.hpp"

#include <mutex>
#include <stdexcept>
#include <string>

namespace conveyor {
namespace {

struct Defaults {
  std::mutex mutex;
  Config config;
};

// The one process-wide object conveyor has; config.hpp says why it exists.
Defaults& defaults() {
  static Defaults instance;
  return instance;
}

}  // namespace

Config config() {
  std::lock_guard lock(defaults().mutex);
  return defaults().config;
}

void check(const Config& config) {
  if (config.prefetch_size == 0) throw std::invalid_argument("conveyor: prefetch_size must be at least 1");
  if (config.rows_per_task > kMaxRowsPerTask)
    throw std::invalid_argument("conveyor: rows_per_task must be at most " + std::to_string(kMaxRowsPerTask) +
                                " (a task's rows are all held at once), not " + std::to_string(config.rows_per_task));
}

void set_config(const Config& config) {
  check(config);
  std::lock_guard lock(defaults().mutex);
  defaults().config = config;
}

}  // namespace conveyor
