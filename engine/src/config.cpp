#include "conveyor/config.hpp"

#include <mutex>
#include <stdexcept>

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

void set_config(const Config& config) {
  if (config.prefetch_size == 0) throw std::invalid_argument("conveyor: prefetch_size must be at least 1");
  std::lock_guard lock(defaults().mutex);
  defaults().config = config;
}

}  // namespace conveyor
