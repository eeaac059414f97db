#include "runtime/worker_limit.hpp"

#include <algorithm>
#include <mutex>
#include <optional>
#include <set>

#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/info.h>

namespace conveyor::detail {
namespace {

// The process-wide limit (see the header for why it must be one).
struct Limit {
  std::mutex mutex;
  std::multiset<std::size_t> requests;
  std::optional<tbb::global_control> control;

  void apply() {
    control.reset();
    if (requests.empty()) return;
    std::size_t threads = std::max<std::size_t>(*requests.rbegin(), tbb::info::default_concurrency());
    control.emplace(tbb::global_control::max_allowed_parallelism, threads);
  }
};

Limit& limit() {
  // Never destroyed: an iterator dropped from inside its own pipeline is torn down on a detached
  // thread (iterator.cpp), which may still release its lease while exit handlers run.
  static Limit* instance = new Limit;
  return *instance;
}

}  // namespace

WorkerLease::WorkerLease(std::size_t threads) : threads_(threads) {
  std::lock_guard lock(limit().mutex);
  limit().requests.insert(threads_);
  limit().apply();
}

WorkerLease::~WorkerLease() {
  std::lock_guard lock(limit().mutex);
  limit().requests.erase(limit().requests.find(threads_));
  limit().apply();
}

}  // namespace conveyor::detail
