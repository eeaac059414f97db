#pragma once
// Shared helpers for the engine's tests: small sources and ways to read a pipeline out.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <conveyor/conveyor.hpp>

namespace conveyor::testing {

/// Row i is {int64 i}; counts get() calls.
struct RangeSource {
  std::size_t n;
  std::shared_ptr<std::atomic<std::size_t>> calls = std::make_shared<std::atomic<std::size_t>>(0);
  std::size_t size() const { return n; }
  Row get(std::size_t i) const {
    ++*calls;
    return {Tensor::scalar<std::int64_t>(static_cast<std::int64_t>(i))};
  }
};

/// Iterable: yields {int64 0..n-1} per pass; reset() restarts.
struct CountingStream {
  std::int64_t n;
  std::int64_t next_value = 0;
  std::optional<Row> next() {
    if (next_value == n) return std::nullopt;
    return Row{Tensor::scalar<std::int64_t>(next_value++)};
  }
  void reset() { next_value = 0; }
};

/// Every int64 value of column `column` of every output, flattened in order.
inline std::vector<std::int64_t> read_all(Iterator it, const std::string& column = "index") {
  std::vector<std::int64_t> values;
  while (auto b = it.next()) {
    Tensor t = (*b)[column].contiguous();
    auto v = t.view<std::int64_t>();
    values.insert(values.end(), v.begin(), v.end());
  }
  return values;
}

/// Outputs per epoch: the leading extent of each batch of column `column`.
inline std::vector<std::int64_t> batch_sizes(Iterator it, const std::string& column = "index") {
  std::vector<std::int64_t> sizes;
  while (auto b = it.next()) sizes.push_back((*b)[column].shape().at(0));
  return sizes;
}

/// Threads of this process now (from /proc).
inline int thread_count() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("Threads:", 0) == 0) return std::stoi(line.substr(8));
  return -1;
}

/// Waits until `value()` stops changing for `quiet`, then returns it.
template <class F>
auto settled(F value, std::chrono::milliseconds quiet = std::chrono::milliseconds(200)) {
  auto last = value();
  for (;;) {
    std::this_thread::sleep_for(quiet);
    auto now = value();
    if (now == last) return now;
    last = now;
  }
}

}  // namespace conveyor::testing
