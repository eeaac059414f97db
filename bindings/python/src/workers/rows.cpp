// conveyor._core._RowWriter: a worker process's side of a row (docs/worker-protocol.md
// specifies the protocol): the row's columns copied into one of the worker's shared-memory slots,
// and the reply that tells the parent where they lie; and a source's whole request, read and
// answered row by row. In C++ because the same in Python cost a worker ~10 µs a row beside
// __getitem__ (py-heavy's rows of an array and an int), and the loop over a request's rows ~5
// more.
#include <pybind11/stl.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <new>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "core/convert.hpp"
#include "core/registry.hpp"
#include "workers/protocol.hpp"

namespace conveyor::python {
namespace {

constexpr std::size_t kSmallestSlot = 4096;
constexpr std::size_t kLargestSlot = std::size_t{1} << 62;  // powers of two up to it do not overflow

/// Writes rows into a worker's slots and encodes their replies. Not thread-safe (a worker reads
/// one row at a time); the GIL held throughout.
class RowWriter {
 public:
  /// new_slot(capacity, sample) -> (fd, mmap): a new shared-memory slot of `capacity` bytes
  /// for `sample` (raising MemoryError when there is no room for it). `progress`: the worker's
  /// progress page (a writable buffer of at least 24 bytes, kept), where mark() and answer()
  /// note each row before it is read.
  RowWriter(py::object new_slot, py::buffer progress) : new_slot_(std::move(new_slot)), progress_(progress) {
    const py::buffer_info page = progress_.request(true);
    if (page.size * page.itemsize < static_cast<py::ssize_t>(sizeof(workers::Progress)))
      throw py::value_error("conveyor: a progress page needs " + std::to_string(sizeof(workers::Progress)) + " bytes");
    progress_page_ = static_cast<workers::Progress*>(page.ptr);
    mark(workers::kNoSample, 0, 0);
  }

  /// Notes in the progress page that the worker reads `sample`, at `position` in request number
  /// `request` (kNoSample: none). The sample is cleared first and written last (the fences keep
  /// that order), so that a worker killed in between has noted no row rather than a row of
  /// another position.
  void mark(std::uint64_t sample, std::uint64_t request, std::uint64_t position) {
    std::atomic_ref(progress_page_->sample).store(workers::kNoSample, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    std::atomic_ref(progress_page_->request).store(request, std::memory_order_relaxed);
    std::atomic_ref(progress_page_->position).store(position, std::memory_order_relaxed);
    std::atomic_ref(progress_page_->sample).store(sample, std::memory_order_release);
  }

  /// Starts a request of `rows` rows: until the next start(), the rows written may share one
  /// slot, laid out as a batch of them (each column's rows back to back, by position), so that
  /// the engine can take a batch of them without copying it.
  void start(std::size_t rows) {
    request_rows_ = rows;
    shared_.reset();
    tried_sharing_ = false;
  }

  /// The reply for `row` (sample `index`, at `position` in the request: a tuple of columns, or
  /// one column), written into a slot, and the descriptor of that slot when it is new (to send
  /// after the reply), else None. A row lies in the request's shared slot when its columns have
  /// the byte sizes of the request's first row; any other row gets a slot of its own.
  std::pair<py::bytes, py::object> write(py::handle row, std::uint64_t index, std::size_t position) {
    std::vector<unsigned char> reply;
    py::object fd = write_into(reply, row, index, position);
    return {bytes_of(reply), std::move(fd)};
  }

  /// Answers a source's request, number `request`: reads source[index] for each of `indices` in
  /// order and writes it (at its position, after start()), calling seed(position) before every
  /// `chunk` rows and noting each row (mark()) before reading it. An exception a row raises is
  /// that row's reply, error_reply(exception, traceback) (bytes). Between rows it asks
  /// cancelled() at most once a millisecond (a poll of the socket per row costs a cheap row
  /// more than the rest of its way back); once it says so, one cancelled reply stands in for
  /// the rows left. Returns the message (each reply after its <I length) and the descriptors of
  /// the new slots it names, in order.
  std::pair<py::bytes, py::list> answer(py::handle source, std::uint64_t request,
                                        const std::vector<std::uint64_t>& indices, std::size_t chunk,
                                        py::handle seed, py::handle cancelled, py::handle error_reply) {
    using Clock = std::chrono::steady_clock;
    constexpr auto kCancelPoll = std::chrono::milliseconds(1);
    if (chunk == 0) throw py::value_error("conveyor: a chunk has at least one row");
    std::vector<unsigned char> message, reply;
    py::list fds;
    auto polled = Clock::now();
    for (std::size_t position = 0; position < indices.size(); ++position) {
      if (position && Clock::now() - polled >= kCancelPoll) {
        polled = Clock::now();
        if (cancelled().cast<bool>()) {
          const unsigned char given_up[] = {workers::kCancelled};
          append(message, given_up);
          break;
        }
      }
      if (position % chunk == 0) seed(position);
      const std::uint64_t index = indices[position];
      mark(index, request, position);
      reply.clear();
      try {
        const py::object row = py::reinterpret_steal<py::object>(PyObject_GetItem(source.ptr(), py::int_(index).ptr()));
        if (!row) throw py::error_already_set();
        py::object fd = write_into(reply, row, index, position);
        if (!fd.is_none()) fds.append(std::move(fd));
      } catch (...) {
        const py::error_already_set error = python_error();
        reply = as_reply(error_reply(error.value(), error.trace() ? error.trace() : py::none()));
      }
      mark(workers::kNoSample, request, position);  // a death until the next row is no row's
      append(message, reply);
    }
    return {bytes_of(message), std::move(fds)};
  }

  /// Frees `slots`: the parent no longer reads them. A slot already free stays free once (two
  /// rows must never be written into one slot).
  void give_back(const std::vector<std::uint32_t>& slots) {
    for (std::uint32_t slot : slots)
      if (!std::exchange(slots_.at(slot).free, true)) free_[slots_[slot].size].push_back(slot);
  }

 private:
  // write()'s work: the reply for `row` appended to `reply`; the new slot's fd or None.
  py::object write_into(std::vector<unsigned char>& reply, py::handle row, std::uint64_t index,
                        std::size_t position) {
    // Converted as in-process rows are, so that both give the same tensors; a value that cannot
    // be is the TypeError the worker sends back.
    Row columns;
    try {
      columns = row_from_python(row, release_);
    } catch (const std::invalid_argument& e) {
      throw py::type_error(e.what());
    }
    workers::put(reply, workers::kOk);
    if (columns.empty()) {
      workers::put(reply, workers::kNoSlot);
      workers::put(reply, std::uint64_t{0});
      workers::put(reply, std::uint32_t{0});
      return py::none();
    }
    if (request_rows_ > 1 && position < request_rows_ && !tried_sharing_) {
      tried_sharing_ = true;
      share(columns, index);
    }
    std::vector<std::size_t> offsets;
    std::size_t slot;
    py::object fd = py::none();
    if (shared_ && position < request_rows_ && fits(columns)) {
      slot = shared_->slot;
      fd = std::exchange(shared_->fd, py::none());
      for (std::size_t c = 0; c < columns.size(); ++c)
        offsets.push_back(shared_->offsets[c] + position * shared_->bytes[c]);
    } else {
      std::size_t size = 0;
      for (const Tensor& column : columns) {
        offsets.push_back(workers::aligned(size));
        size = offsets.back() + column.nbytes();
      }
      std::tie(slot, fd) = take(size, index);
    }
    workers::put(reply, static_cast<std::uint32_t>(slot));
    workers::put(reply, static_cast<std::uint64_t>(fd.is_none() ? 0 : slots_[slot].size));
    workers::put(reply, static_cast<std::uint32_t>(columns.size()));
    for (std::size_t c = 0; c < columns.size(); ++c) {
      // In C order whatever the column's strides: the header says how to read them.
      if (columns[c].nbytes()) columns[c].copy_to(slots_[slot].memory + offsets[c]);
      workers::put_column_header(reply, columns[c], offsets[c]);
    }
    return fd;
  }

  struct Slot {
    py::object map;  // keeps `memory` mapped
    std::byte* memory;
    std::size_t size;
    bool free = false;
  };

  // The request's slot, shared by its rows of the same column sizes as `first` (see start()).
  struct Shared {
    std::size_t slot;
    py::object fd;  // the slot's descriptor, when it is new, until the first reply sends it
    std::vector<std::size_t> bytes;  // a row's, by column
    std::vector<std::size_t> offsets;  // where each column's rows begin
  };

  // Takes the request's shared slot, laid out for rows like `first`. When there is no room for
  // it, the rows get slots of their own, as they would without it.
  void share(const Row& first, std::uint64_t index) {
    Shared shared;
    std::size_t size = 0;
    for (const Tensor& column : first) {
      shared.bytes.push_back(column.nbytes());
      shared.offsets.push_back(workers::aligned(size));
      std::size_t rows_bytes;
      if (__builtin_mul_overflow(request_rows_, column.nbytes(), &rows_bytes) ||
          __builtin_add_overflow(shared.offsets.back(), rows_bytes, &size) || size > kLargestSlot)
        return;
    }
    try {
      std::tie(shared.slot, shared.fd) = take(size, index);
    } catch (const py::error_already_set& e) {
      if (!e.matches(PyExc_MemoryError)) throw;
      return;
    }
    shared_ = std::move(shared);
  }

  bool fits(const Row& columns) const {
    if (columns.size() != shared_->bytes.size()) return false;
    for (std::size_t c = 0; c < columns.size(); ++c)
      if (columns[c].nbytes() != shared_->bytes[c]) return false;
    return true;
  }

  // The smallest free slot of at least `size` bytes (slots are powers of two, at least a page),
  // or a new one: (its id, its fd when it is new, else None).
  std::pair<std::size_t, py::object> take(std::size_t size, std::uint64_t index) {
    if (size > 2 * kLargestSlot) {  // the doubling below would wrap
      PyErr_Format(PyExc_MemoryError, "conveyor worker: sample %llu needs a shared-memory slot of more than 2**63 bytes",
                   static_cast<unsigned long long>(index));
      throw py::error_already_set();
    }
    std::size_t capacity = kSmallestSlot;
    while (capacity < size) capacity *= 2;
    for (auto it = free_.lower_bound(capacity); it != free_.end(); ++it) {
      if (it->second.empty()) continue;
      const std::size_t slot = it->second.back();
      it->second.pop_back();
      slots_[slot].free = false;
      return {slot, py::none()};
    }
    const auto made = new_slot_(capacity, index).cast<py::tuple>();
    const py::buffer_info buffer = made[1].cast<py::buffer>().request(true);
    slots_.push_back(Slot{made[1], static_cast<std::byte*>(buffer.ptr), capacity});
    return {slots_.size() - 1, made[0]};
  }

  static py::bytes bytes_of(const std::vector<unsigned char>& data) {
    return {reinterpret_cast<const char*>(data.data()), data.size()};
  }

  // Appends `reply` to `message`, after its <I length.
  static void append(std::vector<unsigned char>& message, std::span<const unsigned char> reply) {
    workers::put(message, static_cast<std::uint32_t>(reply.size()));
    message.insert(message.end(), reply.begin(), reply.end());
  }

  // The exception being handled, as a Python exception: one Python raised, or a C++ one as
  // pybind11 turns it into one at a call's boundary (a TypeError from write_into, MemoryError
  // for std::bad_alloc, RuntimeError for the rest). Call in a catch block.
  static py::error_already_set python_error() {
    try {
      throw;
    } catch (py::error_already_set& e) {
      return std::move(e);
    } catch (const py::builtin_exception& e) {
      e.set_error();
    } catch (const std::bad_alloc&) {
      PyErr_SetString(PyExc_MemoryError, "conveyor worker: out of memory writing a row");
    } catch (const std::exception& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what());
    }
    return py::error_already_set();
  }

  static std::vector<unsigned char> as_reply(const py::object& payload) {
    const auto bytes = std::string_view(payload.cast<py::bytes>());
    return {bytes.begin(), bytes.end()};
  }

  py::object new_slot_;
  py::buffer progress_;  // keeps progress_page_ mapped
  workers::Progress* progress_page_;
  // The arrays rows are views of, let go of here, with the GIL held, as the write ends.
  std::shared_ptr<DeferredRelease> release_ = std::make_shared<DeferredRelease>();
  std::vector<Slot> slots_;
  std::size_t request_rows_ = 1;
  std::optional<Shared> shared_;
  bool tried_sharing_ = false;  // in this request
  std::map<std::size_t, std::vector<std::uint32_t>> free_;  // by capacity
};

}  // namespace

void register_worker_rows(py::module_& m) {
  py::class_<RowWriter>(m, "_RowWriter",
                        "A worker process's writer of rows into its shared-memory slots (see "
                        "docs/worker-protocol.md).")
      .def(py::init<py::object, py::buffer>(), py::arg("new_slot"), py::arg("progress"))
      .def("start", &RowWriter::start, py::arg("rows"),
           "Starts a request of `rows` rows, which may share one slot, laid out as a batch.")
      .def("write", &RowWriter::write, py::arg("row"), py::arg("index"), py::arg("position") = 0,
           "(reply, the new slot's fd or None) for `row`, sample `index` at `position` in the request, "
           "written into a slot.")
      .def("mark", &RowWriter::mark, py::arg("sample"), py::arg("request"), py::arg("position"),
           "Notes in the progress page that the worker reads `sample` at `position` of request `request`.")
      .def("answer", &RowWriter::answer, py::arg("source"), py::arg("request"), py::arg("indices"), py::arg("chunk"),
           py::arg("seed"), py::arg("cancelled"), py::arg("error_reply"),
           "(message, new slots' fds) answering a source's request for `indices`, read in order.")
      .def("give_back", &RowWriter::give_back, py::arg("slots"), "Frees slots the parent no longer reads.");
}

}  // namespace conveyor::python
