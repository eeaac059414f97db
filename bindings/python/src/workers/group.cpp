#include "workers/group.hpp"

#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <system_error>
#include <tuple>
#include <vector>

#include <conveyor/dtype.hpp>
#include <conveyor/tensor.hpp>

#include "core/gil.hpp"
#include "workers/protocol.hpp"

namespace conveyor::python {
namespace workers {

/// Thrown when a worker's socket or process ends: the caller asks Python what happened.
struct WorkerGone {};

/// A slot mapped here; unmapped when the last row over it is gone.
class Mapping {
 public:
  Mapping(int fd, std::size_t size) : size_(size) {
    data_ = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (data_ == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "conveyor: mapping a worker's slot");
  }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() { ::munmap(data_, size_); }
  std::byte* data() const noexcept { return static_cast<std::byte*>(data_); }
  std::size_t size() const noexcept { return size_; }

 private:
  void* data_;
  std::size_t size_;
};

/// Reads a reply's fields in order.
class Reader {
 public:
  explicit Reader(std::span<const unsigned char> data) : data_(data) {}
  template <class T>
  T take() {
    if (at_ + sizeof(T) > data_.size()) throw std::runtime_error("conveyor: a worker's reply is cut short");
    T value;
    std::memcpy(&value, &data_[at_], sizeof(T));
    at_ += sizeof(T);
    return value;
  }
  std::string take_string(std::size_t size) {
    if (at_ + size > data_.size()) throw std::runtime_error("conveyor: a worker's reply is cut short");
    std::string s(reinterpret_cast<const char*>(&data_[at_]), size);
    at_ += size;
    return s;
  }

 private:
  std::span<const unsigned char> data_;
  std::size_t at_ = 0;
};

/// One row's reply, within the message that answers a request, and the slot it names.
struct Reply {
  std::span<const unsigned char> bytes;
  std::uint32_t slot_id = kNoSlot;  // a row's (kOk) only
  std::shared_ptr<Mapping> slot;
};

/// The parent's end of one worker: its socket, its slots, and the slots to give back.
class Channel {
 public:
  /// `progress`: the worker's progress page, or -1 when it has none (it failed to start).
  Channel(int socket, int sentinel, int progress, long pid)
      : pid(pid),
        socket_(socket),
        sentinel_(sentinel),
        progress_(progress < 0 ? nullptr : std::make_unique<Mapping>(progress, sizeof(Progress))) {}

  /// The worker's process id.
  const long pid;
  /// Requests sent or about to be, whose replies are not read yet.
  std::atomic<int> pending{0};

  /// The row the worker notes it is reading in its progress page, if any: once it is dead, the
  /// row it died on. None when the worker is not known dead but out of step (a message did not
  /// parse): it may still be reading, and no row of its is to blame.
  std::optional<Progress> reading() const noexcept {
    if (!progress_ || broken_) return std::nullopt;
    Progress progress;
    std::memcpy(&progress, progress_->data(), sizeof progress);
    return progress.sample == kNoSample ? std::nullopt : std::optional(progress);
  }

  /// Sends a request, the slots to give back then `body`, and returns its ticket (requests are
  /// numbered from 0, as the worker counts them); the replies are read with read_replies() in the
  /// ticket's turn.
  std::uint64_t send(std::span<const unsigned char> body) {
    std::lock_guard lock(send_mutex_);
    std::vector<std::uint32_t> released;
    {
      std::lock_guard released_lock(released_mutex_);
      released.swap(released_);
    }
    const auto given_back = static_cast<std::uint32_t>(released.size());
    std::vector<unsigned char> frame(4 + 1 + 4 + 4 * released.size() + body.size());
    frame[4] = kRequest;
    std::memcpy(&frame[5], &given_back, 4);
    if (given_back) std::memcpy(&frame[9], released.data(), 4 * released.size());
    std::memcpy(&frame[9 + 4 * released.size()], body.data(), body.size());
    const auto payload = static_cast<std::uint32_t>(frame.size() - 4);
    for (int i = 0; i < 4; ++i) frame[i] = static_cast<unsigned char>(payload >> (24 - 8 * i));  // big-endian length
    write_all(frame.data(), frame.size());  // a dead worker is found when its reply is awaited
    return sent_++;
  }

  /// Asks the worker to give up request `ticket`: it answers the rest of it with one cancelled
  /// reply, or not at all when it has answered it already. Thread-safe.
  /// Nothing here may throw: it runs in a std::stop_callback.
  void cancel(std::uint64_t ticket) noexcept {
    std::array<unsigned char, 4 + 1 + 8> frame{0, 0, 0, 1 + 8, kCancel};
    std::memcpy(&frame[5], &ticket, 8);
    std::lock_guard lock(send_mutex_);
    write_all(frame.data(), frame.size());
  }

  /// Waits until the replies to `ticket` are next (requests are answered in order) and holds
  /// that turn until finish_request(ticket).
  void await_turn(std::uint64_t ticket) {
    std::unique_lock lock(turn_mutex_);
    turn_.wait(lock, [&] { return read_ == ticket; });
  }
  /// Passes the turn to the next request.
  void finish_request() {
    {
      std::lock_guard lock(turn_mutex_);
      ++read_;
    }
    turn_.notify_all();
  }

  /// Reads the message answering the request whose turn it is (the caller holds the turn) into
  /// `message`, and returns its replies, one per row answered and at most `rows`, with the slots
  /// they name; receives and maps the new slots it announces. Throws WorkerGone; on any other
  /// failure, the slots the message names are given back.
  std::vector<Reply> read_replies(std::vector<unsigned char>& message, std::size_t rows) {
    unsigned char header[8];
    read_all(header, 4);
    std::uint64_t size = 0;
    for (int i = 0; i < 4; ++i) size = size << 8 | header[i];
    if (size == 0xFFFFFFFF) {  // multiprocessing's framing of 2 GiB and more: a big-endian u64 follows
      read_all(header, 8);
      size = 0;
      for (int i = 0; i < 8; ++i) size = size << 8 | header[i];
    }
    message.resize(size);
    read_all(message.data(), size);
    std::vector<Reply> replies;
    std::vector<std::pair<std::uint32_t, std::uint64_t>> announced;  // new slots: (id, size)
    try {
      for (std::size_t at = 0; at < message.size();) {
        std::uint32_t length;
        if (message.size() - at < sizeof length) throw std::runtime_error("conveyor: a worker's reply is cut short");
        std::memcpy(&length, &message[at], sizeof length);
        at += sizeof length;
        if (length == 0 || length > message.size() - at)
          throw std::runtime_error("conveyor: a worker's reply is cut short");
        Reply& reply = replies.emplace_back(Reply{std::span(message).subspan(at, length), kNoSlot, nullptr});
        at += length;
        Reader in(reply.bytes);
        if (in.take<std::uint8_t>() != kOk) continue;
        reply.slot_id = in.take<std::uint32_t>();
        if (const auto new_size = in.take<std::uint64_t>()) announced.emplace_back(reply.slot_id, new_size);
      }
      if (replies.size() > rows) throw std::runtime_error("conveyor: a worker sent more rows than asked for");
    } catch (...) {
      broken_ = true;  // the descriptors it announced are still in the socket: the worker is replaced
      throw;
    }
    // The new slots' descriptors follow the message, one per reply that announces one: all are
    // received before any is mapped, so that a mapping that fails leaves none in the socket.
    std::vector<int> fds;
    const struct Close {
      std::vector<int>& fds;
      ~Close() {
        for (int fd : fds) ::close(fd);  // a mapping keeps its own reference
      }
    } close_fds{fds};
    try {
      for (std::size_t k = 0; k < announced.size(); ++k) fds.push_back(receive_fd());
    } catch (...) {
      broken_ = true;  // those not received yet are still in the socket
      throw;
    }
    std::exception_ptr failure;
    for (std::size_t k = 0; k < announced.size(); ++k) {
      const auto [id, new_size] = announced[k];
      try {
        if (id == kNoSlot) throw std::runtime_error("conveyor: a worker announced a slot without an id");
        if (slots_.size() <= id) slots_.resize(id + 1);
        slots_[id] = std::make_shared<Mapping>(fds[k], new_size);
      } catch (...) {
        if (!failure) failure = std::current_exception();
      }
    }
    for (Reply& reply : replies) {
      if (reply.slot_id == kNoSlot) continue;
      if (reply.slot_id < slots_.size() && slots_[reply.slot_id])
        reply.slot = slots_[reply.slot_id];
      else if (!failure)
        failure = std::make_exception_ptr(std::runtime_error("conveyor: a worker named a slot it never sent"));
    }
    if (failure) {
      // No row is made of this message: its slots (rows may share one) go back to the worker now.
      std::vector<std::uint32_t> named;
      for (const Reply& reply : replies)
        if (reply.slot && std::find(named.begin(), named.end(), reply.slot_id) == named.end())
          named.push_back(reply.slot_id);
      for (std::uint32_t id : named) release(id);
      std::rethrow_exception(failure);
    }
    return replies;
  }

  /// Gives slot `id` back to the worker with the next request.
  void release(std::uint32_t id) {
    std::lock_guard lock(released_mutex_);
    released_.push_back(id);
  }

 private:
  /// Blocks until the socket has data, or throws WorkerGone when the process ended first.
  void await_readable() {
    for (;;) {
      pollfd fds[2] = {{socket_, POLLIN, 0}, {sentinel_, POLLIN, 0}};
      const int ready = ::poll(fds, 2, -1);
      if (ready < 0 && errno == EINTR) continue;
      if (ready < 0) throw std::system_error(errno, std::generic_category(), "conveyor: poll on a worker");
      if (fds[0].revents) return;  // data, end of file or an error: read() tells which
      if (fds[1].revents) throw WorkerGone{};
    }
  }

  void read_all(unsigned char* data, std::size_t size) {
    if (broken_) throw WorkerGone{};
    while (size > 0) {
      await_readable();
      const ssize_t n = ::read(socket_, data, size);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) throw WorkerGone{};
      data += n;
      size -= static_cast<std::size_t>(n);
    }
  }

  void write_all(const unsigned char* data, std::size_t size) noexcept {
    while (size > 0) {
      const ssize_t n = ::send(socket_, data, size, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return;  // EPIPE: the worker is gone; read_replies() says so
      data += n;
      size -= static_cast<std::size_t>(n);
    }
  }

  /// The descriptor a worker passed with SCM_RIGHTS (one byte of data beside it).
  int receive_fd() {
    await_readable();
    char byte;
    iovec io{&byte, 1};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
    msghdr message{};
    message.msg_iov = &io;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof control;
    ssize_t n;
    do n = ::recvmsg(socket_, &message, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n > 0 && (message.msg_flags & MSG_CTRUNC))  // out of descriptors here, not a dead worker
      throw std::system_error(EMFILE, std::generic_category(), "conveyor: receiving a worker's shared-memory slot");
    const cmsghdr* header = CMSG_FIRSTHDR(&message);
    if (n <= 0 || header == nullptr || header->cmsg_type != SCM_RIGHTS) throw WorkerGone{};
    int fd;
    std::memcpy(&fd, CMSG_DATA(header), sizeof fd);
    return fd;
  }

  int socket_;
  int sentinel_;
  std::unique_ptr<Mapping> progress_;
  bool broken_ = false;  // a message did not parse: the stream is out of step; touched in a turn
  std::mutex send_mutex_;
  std::uint64_t sent_ = 0;
  std::mutex turn_mutex_;
  std::condition_variable turn_;
  std::uint64_t read_ = 0;
  std::vector<std::shared_ptr<Mapping>> slots_;  // by id; touched only by the reader holding the turn
  std::mutex released_mutex_;
  std::vector<std::uint32_t> released_;
};

/// What keeps a slot busy: every tensor of the rows a message puts in the slot shares it; the
/// last one gives the slot back.
class Lease {
 public:
  Lease(std::shared_ptr<Channel> channel, std::shared_ptr<Mapping> mapping, std::uint32_t id)
      : channel_(std::move(channel)), mapping_(std::move(mapping)), id_(id) {}
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  ~Lease() { channel_->release(id_); }

 private:
  std::shared_ptr<Channel> channel_;
  std::shared_ptr<Mapping> mapping_;
  std::uint32_t id_;
};

void check_within(const std::shared_ptr<Mapping>& slot, std::uint64_t offset, std::uint64_t length) {
  if (!slot || offset > slot->size() || length > slot->size() - offset)
    throw std::runtime_error("conveyor: a worker's reply points outside its slot");
}

/// The row of `reply`, whose tensors lie in `slot` and share `lease`.
Row decode(std::span<const unsigned char> reply, const std::shared_ptr<Mapping>& slot,
           const std::shared_ptr<void>& lease) {
  Reader in(reply);
  in.take<std::uint8_t>();  // status
  in.take<std::uint32_t>();  // slot id and new slot size, handled by read_replies()
  in.take<std::uint64_t>();
  const auto columns = in.take<std::uint32_t>();
  Row row;
  row.reserve(columns);
  for (std::uint32_t c = 0; c < columns; ++c) {
    const auto kind = in.take<std::uint8_t>();
    if (kind == kBytes) {
      const auto offset = in.take<std::uint64_t>();
      const auto length = in.take<std::uint64_t>();
      check_within(slot, offset, length);
      row.push_back(Tensor::from_memory(slot->data() + offset, DType::bytes, {static_cast<std::int64_t>(length)}, {},
                                        lease));
      continue;
    }
    if (kind != kArray) throw std::runtime_error("conveyor: a worker sent a column of unknown kind");
    const DType dtype = dtype_named(in.take_string(in.take<std::uint8_t>()));  // NumPy's names are conveyor's
    const auto ndim = in.take<std::uint32_t>();
    Shape shape(ndim);
    std::int64_t elements = 1;
    for (auto& extent : shape) elements *= (extent = in.take<std::int64_t>());
    const auto offset = in.take<std::uint64_t>();
    check_within(slot, offset, static_cast<std::uint64_t>(elements) * itemsize(dtype));
    row.push_back(Tensor::from_memory(slot->data() + offset, dtype, std::move(shape), {}, lease));
  }
  return row;
}

}  // namespace workers

using workers::Channel;
using workers::Mapping;
using workers::WorkerGone;

WorkerGroup::WorkerGroup(py::object pool)
    : count_(pool.attr("count").cast<std::size_t>()), pool_(std::move(pool)) {
  for (std::size_t i = 0; i < count_; ++i) channels_.push_back(open_channel(i));
}

WorkerGroup::~WorkerGroup() = default;

void WorkerGroup::request(std::span<const unsigned char> body, std::span<const std::uint64_t> indices,
                          std::span<Row> rows, std::span<std::exception_ptr> errors, std::stop_token stop,
                          const Rereads* rereads) const {
  read(body, indices, rows, errors, std::move(stop), rereads, true);
}

void WorkerGroup::read(std::span<const unsigned char> body, std::span<const std::uint64_t> indices,
                       std::span<Row> rows, std::span<std::exception_ptr> errors, std::stop_token stop,
                       const Rereads* rereads, bool may_resend) const {
  const std::optional<Death> died = exchange(body, indices, rows, errors, stop);
  if (!died || !rereads || stop.stop_requested()) return;
  if (!died->at) {
    // It read none of the rows: send the request again as it was, once (a worker that dies at
    // once again, say a replacement that cannot start, fails them all).
    if (!may_resend) return;
    std::fill(errors.begin(), errors.end(), nullptr);
    read(body, indices, rows, errors, stop, rereads, false);
    return;
  }
  // The rows of the request went with the worker: all but the one it died on are read again,
  // on a worker that lives. A row before it that fails again keeps the death as its error:
  // that is what the user needs to see first; a row after it keeps its own.
  const std::size_t at = *died->at, after = at + 1;
  const std::exception_ptr death = errors[at];
  std::fill(errors.begin(), errors.end(), nullptr);
  errors[at] = death;
  if (at > 0) {
    read(rereads->first(body, at), indices.first(at), rows.first(at), errors.first(at), stop, rereads, true);
    for (std::size_t i = 0; i < at; ++i)
      if (errors[i]) errors[i] = death;
  }
  // The rest of the killing row's chunk cannot be drawn as before (its generators went with
  // the worker): it is seeded from its own rows. The chunks after it are read as they were.
  const std::size_t n = indices.size();
  const std::size_t chunk = rereads->chunk ? rereads->chunk : n;
  const std::size_t whole = std::min(n, (after + chunk - 1) / chunk * chunk);
  for (const auto& [from, to] : {std::pair{after, whole}, std::pair{whole, n}})
    if (from < to)
      read(rereads->own(indices.subspan(from, to - from)), indices.subspan(from, to - from),
           rows.subspan(from, to - from), errors.subspan(from, to - from), stop, rereads, true);
}

std::optional<WorkerGroup::Death> WorkerGroup::exchange(std::span<const unsigned char> body,
                                                       std::span<const std::uint64_t> indices, std::span<Row> rows,
                                                       std::span<std::exception_ptr> errors,
                                                       std::stop_token stop) const {
  // The least busy worker, the first of them from a rotating start.
  std::size_t worker = next_.fetch_add(1, std::memory_order_relaxed) % count_;
  std::shared_ptr<Channel> channel;
  {
    std::lock_guard lock(mutex_);
    for (std::size_t k = 1, first = worker; k < count_; ++k) {
      const std::size_t candidate = (first + k) % count_;
      if (channels_[candidate]->pending < channels_[worker]->pending) worker = candidate;
    }
    channel = channels_[worker];
    ++channel->pending;
  }
  struct Pending {
    Channel& c;
    ~Pending() { --c.pending; }
  } pending{*channel};
  const std::uint64_t ticket = channel->send(body);
  // Runs here at once when the stop came first, else on the thread that requests it.
  const std::stop_callback on_stop(stop, [&channel = *channel, ticket] { channel.cancel(ticket); });
  channel->await_turn(ticket);
  struct Turn {
    Channel& c;
    ~Turn() { c.finish_request(); }
  } turn{*channel};
  const auto fail_from = [&](std::size_t i, std::exception_ptr error) {
    std::fill(errors.begin() + static_cast<std::ptrdiff_t>(i), errors.end(), error);
  };
  std::vector<unsigned char> message;
  std::vector<workers::Reply> replies;
  std::optional<Death> died;
  try {
    try {
      replies = channel->read_replies(message, indices.size());
    } catch (const WorkerGone&) {
      // The row it died on is this request's when its progress page names this request (by
      // position: a sample may come twice in a request); a request queued behind the one it
      // died in has none of its rows.
      died = Death{};
      const auto row = channel->reading();
      if (row && row->request == ticket && row->position < indices.size() && indices[row->position] == row->sample)
        died->at = static_cast<std::size_t>(row->position);
      raise_dead(worker, *channel, died->at ? std::optional(row->sample) : std::nullopt);
    }
  } catch (...) {
    // Its rows went with the worker (or the message is unreadable); all but the one it died on
    // are the caller's to read again.
    fail_from(0, std::current_exception());
    return died;
  }
  // One lease per slot the message names: rows of a request may share a slot.
  std::vector<std::pair<std::uint32_t, std::shared_ptr<void>>> leases;
  const auto lease_of = [&](const workers::Reply& reply) -> std::shared_ptr<void> {
    if (!reply.slot) return nullptr;
    for (const auto& [id, lease] : leases)
      if (id == reply.slot_id) return lease;
    return leases.emplace_back(reply.slot_id, std::make_shared<workers::Lease>(channel, reply.slot, reply.slot_id))
        .second;
  };
  for (std::size_t i = 0; i < indices.size(); ++i) {
    if (i == replies.size()) {
      fail_from(i, std::make_exception_ptr(std::runtime_error("conveyor: a worker sent fewer rows than asked for")));
      return std::nullopt;
    }
    const workers::Reply& reply = replies[i];
    if (reply.bytes[0] == workers::kCancelled) {
      fail_from(i, std::make_exception_ptr(std::runtime_error("conveyor: the read was cancelled")));
      return std::nullopt;
    }
    try {
      if (reply.bytes[0] == workers::kError) raise_error(reply.bytes, worker, indices[i]);
      rows[i] = workers::decode(reply.bytes, reply.slot, lease_of(reply));
    } catch (...) {
      errors[i] = std::current_exception();
    }
  }
  return std::nullopt;
}

std::shared_ptr<Channel> WorkerGroup::open_channel(std::size_t worker) const {
  const auto [socket, sentinel, progress, pid] =
      pool_.get().attr("channel")(worker).cast<std::tuple<int, int, int, long>>();
  return std::make_shared<Channel>(socket, sentinel, progress, pid);
}

void WorkerGroup::raise_dead(std::size_t worker, const Channel& dead, std::optional<std::uint64_t> index) const {
  GilScopedAcquire gil;
  py::object error = pool_.get().attr("dead")(worker, index ? py::object(py::int_(*index)) : py::none(), dead.pid);
  {
    std::lock_guard lock(mutex_);
    if (channels_[worker]->pid == dead.pid) channels_[worker] = open_channel(worker);
  }
  PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(error.ptr())), error.ptr());
  throw py::error_already_set();
}

void WorkerGroup::raise_error(std::span<const unsigned char> reply, std::size_t worker, std::uint64_t index) const {
  GilScopedAcquire gil;
  const py::bytes payload(reinterpret_cast<const char*>(reply.data() + 1), reply.size() - 1);
  py::object error = pool_.get().attr("error")(payload, worker, index);
  PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(error.ptr())), error.ptr());
  throw py::error_already_set();
}

}  // namespace conveyor::python
