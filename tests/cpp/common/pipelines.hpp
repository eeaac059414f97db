#pragma once
// Shared helpers for the engine's tests: small sources and ways to read a pipeline out.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <fstream>
#include <mutex>
#include <span>
#include <stdexcept>
#include <stop_token>
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

/// Reads chunks of `block` positions (0: any): records each read_many() call's indices, in the
/// order of the calls, and fails index `bad`.
class Blocks final : public RandomAccessSource {
 public:
  Blocks(std::size_t n, std::size_t block, std::uint64_t bad) : n_(n), block_(block), bad_(bad) {}
  std::size_t size() const override { return n_; }
  Row read(std::size_t, std::uint64_t) const override { throw std::logic_error("the engine calls read_many()"); }
  void read_many(std::span<const std::uint64_t> indices, std::uint64_t, std::span<Row> rows,
                 std::span<std::exception_ptr> errors, std::stop_token) const override {
    {
      std::lock_guard lock(mutex_);
      chunks_.emplace_back(indices.begin(), indices.end());
    }
    for (std::size_t i = 0; i < indices.size(); ++i) {
      if (indices[i] == bad_)
        errors[i] = std::make_exception_ptr(std::runtime_error("bad row"));
      else
        rows[i] = {Tensor::scalar(static_cast<std::int64_t>(indices[i]))};
    }
  }
  SourceHints hints() const noexcept override { return {.block = block_}; }
  /// The calls' indices, sorted.
  std::vector<std::vector<std::uint64_t>> chunks() const {
    auto sorted = calls();
    std::sort(sorted.begin(), sorted.end());
    return sorted;
  }
  /// The calls' indices, in the order of the calls.
  std::vector<std::vector<std::uint64_t>> calls() const {
    std::lock_guard lock(mutex_);
    return chunks_;
  }

 private:
  std::size_t n_, block_;
  std::uint64_t bad_;
  mutable std::mutex mutex_;
  mutable std::vector<std::vector<std::uint64_t>> chunks_;
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
