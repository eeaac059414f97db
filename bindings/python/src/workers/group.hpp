#pragma once
// The parent's side of a pool of conveyor worker processes (conveyor/dataset/_workers.py starts
// them; docs/worker-protocol.md specifies the protocol): requests over each worker's socket, and the rows of the
// replies wrapped as tensors straight from the workers' shared-memory slots, all without the
// GIL. Python is called only for an exception raised in a worker and for a worker that died.

#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <stop_token>
#include <vector>

#include <pybind11/pybind11.h>

#include <conveyor/row.hpp>

#include "core/python_callables.hpp"

namespace conveyor::python {

namespace py = pybind11;

namespace workers {
class Channel;
}

/// The workers of `pool`, a started conveyor.dataset._workers pool: pool.count workers;
/// pool.channel(i) gives worker i's (socket, exit sentinel and progress page descriptors, pid),
/// whose descriptors stay open while the pool lives; pool.error(payload, i, index) turns an
/// exception a worker sent into the exception to raise; pool.dead(i, index, pid) replaces
/// worker i if it is still process `pid` and returns the exception that describes that
/// process's death.
class WorkerGroup {
 public:
  /// The GIL held.
  explicit WorkerGroup(py::object pool);
  ~WorkerGroup();

  /// How a source's request is read again when its worker dies (see request()).
  struct Rereads {
    /// `body` answering only its first `k` rows, seeded as before.
    std::function<std::vector<unsigned char>(std::span<const unsigned char> body, std::size_t k)> first;
    /// A request of its own for `indices`, seeded per `chunk` rows from its first.
    std::function<std::vector<unsigned char>(std::span<const std::uint64_t> indices)> own;
    /// The rows a request seeds together (0: the whole request).
    std::size_t chunk = 0;
  };

  /// Sends `body` to the least busy worker, which answers with one row per entry of `indices`
  /// (the samples they are, which errors name): rows[i], or errors[i] when the worker raised
  /// or died. A dead worker is replaced for the next request; with `rereads` given, only the
  /// row it died on fails: the rows before it are requested again the same way
  /// (`rereads.first`); those after it up to the next whole chunk as a request of their own,
  /// and the whole chunks after them as another, seeded as before (`rereads.own`). Thread-safe;
  /// blocks until every reply is read, or, once `stop` is requested, until the worker has
  /// given up the request (it asks between rows, at most once a millisecond: after the row it is
  /// reading, or a millisecond's worth of short rows; rows it did not read get an error).
  /// Rows keep their slot until the last tensor over it is released.
  void request(std::span<const unsigned char> body, std::span<const std::uint64_t> indices, std::span<Row> rows,
               std::span<std::exception_ptr> errors, std::stop_token stop = {},
               const Rereads* rereads = nullptr) const;

  /// The pool.
  py::handle pool() const noexcept { return pool_.get(); }

 private:
  /// How a worker's death ended a request: the position in its indices of the row it died on,
  /// unset when it had read none of them (the request was queued behind the one it died on, or
  /// the worker never started).
  struct Death {
    std::optional<std::size_t> at;
  };
  /// request(), which sends the request again, unchanged, when its worker died before reading
  /// any of its rows and `may_resend`.
  void read(std::span<const unsigned char> body, std::span<const std::uint64_t> indices, std::span<Row> rows,
            std::span<std::exception_ptr> errors, std::stop_token stop, const Rereads* rereads,
            bool may_resend) const;
  /// One request to one worker (see request()); returns how its worker's death ended it, if it did.
  std::optional<Death> exchange(std::span<const unsigned char> body, std::span<const std::uint64_t> indices,
                                std::span<Row> rows, std::span<std::exception_ptr> errors, std::stop_token stop) const;
  std::shared_ptr<workers::Channel> open_channel(std::size_t worker) const;
  [[noreturn]] void raise_dead(std::size_t worker, const workers::Channel& dead,
                               std::optional<std::uint64_t> index) const;
  [[noreturn]] void raise_error(std::span<const unsigned char> reply, std::size_t worker, std::uint64_t index) const;

  std::size_t count_;
  SharedObject pool_;
  mutable std::mutex mutex_;
  mutable std::vector<std::shared_ptr<workers::Channel>> channels_;
  mutable std::atomic<std::size_t> next_{0};
};

}  // namespace conveyor::python
