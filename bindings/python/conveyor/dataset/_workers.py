"""Worker processes for ``python_multiprocessing=True``: a dataset's ``__getitem__``
(``GeneratorDataset``: a ``SourceJob``) or a run of Python map functions (``map``: a ``MapJob``)
runs in the processes of a ``WorkerPool``, and the rows come back through shared memory without a
copy. The processes start with the ``forkserver`` method and re-import the main module, so a
script must build and iterate its pipelines under ``if __name__ == "__main__":``, and the job
must pickle. Workers live as long as the pool, across epochs and iterators.

The wire format and the workers' life are specified in docs/worker-protocol.md; the C++ side is
bindings/python/src/workers/.
"""

from __future__ import annotations

import collections
import mmap
import multiprocessing
import multiprocessing.connection
import os
import pickle
import random
import select
import signal
import struct
import sys
import threading
import traceback
import weakref
from multiprocessing import reduction
from typing import Any, Callable, Deque, Dict, List, Optional, Set, Tuple

import numpy as np

from conveyor._core import _RowWriter, available_memory

#: Rows of a chunk: the engine reads a source's rows in whole chunks of consecutive positions,
#: and a worker seeds per chunk (docs/worker-protocol.md, section 4.1). Part of what the random
#: draws of a dataset depend on: changing it changes them.
ROWS_PER_CHUNK = 16
#: Seconds a worker waits for a request before checking that its parent is still there.
PARENT_CHECK_S = 1.0
#: Seconds close() gives a worker to exit before killing it.
EXIT_GRACE_S = 2.0


class WorkerError(RuntimeError):
    """A worker process died, or could not be started or fed."""


# -- the worker process ----------------------------------------------------------------------------

CANCELLED, READY, ERROR = 3, 2, 1  # reply statuses; a row's (0) is written by _RowWriter
REQUEST, CANCEL = 0, 1
BYTES = 1  # a column kind (arrays are 0)
NO_SAMPLE = 0xFFFFFFFFFFFFFFFF


def _seed_everything(seed: int, epoch: int, indices: Tuple[int, ...]) -> None:
    """Seeds the generators a dataset may use from (seed, epoch, a chunk's indices)."""
    value = hash((seed, epoch) + indices) & 0xFFFFFFFF  # tuples of ints hash the same in every process
    random.seed(value)
    np.random.seed(value)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.default_generator.manual_seed(value)  # the CPU generator: torch.manual_seed costs 100x more


class _WorkerSlots:
    """The worker's side of its shared memory: its slots, which ``rows`` (a ``_RowWriter``,
    native) writes rows into and takes back when the parent gives them back, and the progress
    page, where it notes the row it is reading (sample, request, position) before it reads it
    and clears it after (the parent reads it when the worker dies, to name that row)."""

    def __init__(self, worker_id: int):
        self.worker_id = worker_id
        self.progress_fd = os.memfd_create(f"conveyor-worker{worker_id}-progress", os.MFD_CLOEXEC)
        os.ftruncate(self.progress_fd, mmap.PAGESIZE)
        self._progress_map = mmap.mmap(self.progress_fd, mmap.PAGESIZE)
        self.rows = _RowWriter(self.new_slot, self._progress_map)  # which notes no sample yet

    def mark(self, sample: int, request: int = 0, position: int = 0) -> None:
        """Notes that the worker reads `sample`, at `position` of request number `request`
        (NO_SAMPLE: none)."""
        self.rows.mark(sample, request, position)

    def new_slot(self, capacity: int, index: int) -> Tuple[int, mmap.mmap]:
        """A new slot of `capacity` bytes (a power of two) for sample `index`: its fd, to send to
        the parent, and its map here. A MemoryError saying what was needed and what is
        available when there is no room for it."""
        available, words = available_memory()
        if available is not None and capacity > available:
            # Refused here: fallocate on a memfd takes pages until the OOM killer steps in, and
            # the pages belong to no process's RSS, so it may kill the parent instead.
            raise MemoryError(
                f"conveyor worker {self.worker_id}: sample {index} needs a shared-memory slot of {capacity} bytes, "
                f"more than the memory available; {words}")
        fd = os.memfd_create(f"conveyor-worker{self.worker_id}", os.MFD_CLOEXEC)
        try:
            os.posix_fallocate(fd, 0, capacity)  # fail here, clearly, rather than SIGBUS on write
        except OSError as error:
            os.close(fd)
            raise MemoryError(
                f"conveyor worker {self.worker_id}: sample {index} needs a shared-memory slot of {capacity} bytes "
                f"and the system refused it ({error.strerror}); {available_memory()[1]}") from None
        return fd, mmap.mmap(fd, capacity)


def _decode_columns(body: bytearray, at: int, count: int) -> List[np.ndarray]:
    """The columns of a map request: arrays over `body` (writable, as map functions may expect);
    bytes columns as uint8 arrays, as map functions see them in-process."""
    columns = []
    for _ in range(count):
        kind = body[at]
        if kind == BYTES:
            offset, length = struct.unpack_from("<QQ", body, at + 1)
            at += 17
            columns.append(np.frombuffer(body, np.uint8, length, offset))
            continue
        size = body[at + 1]
        dtype = np.dtype(bytes(body[at + 2:at + 2 + size]).decode())
        at += 2 + size
        ndim, = struct.unpack_from("<I", body, at)
        shape = struct.unpack_from(f"<{ndim}q", body, at + 4)
        offset, = struct.unpack_from("<Q", body, at + 4 + 8 * ndim)
        at += 12 + 8 * ndim
        columns.append(np.frombuffer(body, dtype, int(np.prod(shape, dtype=np.int64)), offset).reshape(shape))
    return columns


def _error_reply(error: BaseException, trace) -> bytes:
    """The reply for a row that raised `error` (its traceback `trace`)."""
    text = "".join(traceback.format_exception(type(error), error, trace))
    return bytes([ERROR]) + pickle.dumps(_portable_exception(error, text))


def _message(reply: bytes) -> bytes:
    """A message of one reply."""
    return struct.pack("<I", len(reply)) + reply


class SourceJob:
    """A pool's job of reading rows of a random-access `source` by index."""

    def __init__(self, source: Any):
        self.source = source

    def __len__(self) -> int:
        return len(self.source)

    def describe(self) -> str:
        return f"the dataset ({type(self.source).__qualname__} object {self.source!r:.80})"

    def answer(self, body: bytes, slots: _WorkerSlots, seed: int, request: int, cancelled: Callable[[], bool]):
        """The message answering request number `request`, and the descriptors of the new slots
        it names; once ``cancelled()`` (asked between rows), one cancelled reply instead of the
        rest."""
        epoch, count, answer = struct.unpack_from("<QII", body)
        indices = struct.unpack_from(f"<{count}Q", body, 16)
        # Rows share a slot only in a request longer than a chunk, which the engine sends only
        # when a batch takes it in place: a shared slot is freed when its last row is, and rows
        # kept apart (a shuffle buffer) would hold several rows' memory each.
        slots.rows.start(answer if count > ROWS_PER_CHUNK else 1)
        return slots.rows.answer(
            self.source, request, indices[:answer], ROWS_PER_CHUNK,
            lambda position: _seed_everything(seed, epoch, indices[position:position + ROWS_PER_CHUNK]),
            cancelled, _error_reply)


class MapJob:
    """A pool's job of applying `functions` in order to the columns of each row it is sent: each
    gets the columns (NumPy arrays) as arguments and returns an array or a tuple of them."""

    def __init__(self, functions: List[Callable[..., Any]]):
        self.functions = functions

    def describe(self) -> str:
        return f"the map function {self.functions[0]!r:.80}" if len(self.functions) == 1 else \
            f"the map functions {self.functions!r:.120}"

    def answer(self, body: bytes, slots: _WorkerSlots, seed: int, request: int, cancelled: Callable[[], bool]):
        """The message answering the one row request number `request` carries, and the new
        slot's descriptor if it names one (``cancelled`` is not asked: a single row is not given
        up part-way)."""
        epoch, index, op, count = struct.unpack_from("<QQQI", body)
        slots.mark(index, request)
        try:
            values = _decode_columns(bytearray(body), 28, count)
            _seed_everything(seed, epoch, (index, op))
            for function in self.functions:
                result = function(*values)
                values = result if isinstance(result, tuple) else (result,)
            slots.rows.start(1)
            reply, fd = slots.rows.write(values, index)
            return _message(reply), [] if fd is None else [fd]
        except BaseException as error:  # noqa: B902 - everything goes back to the parent
            return _message(_error_reply(error, error.__traceback__)), []


class _Inbox:
    """The worker's side of its socket: requests queue here, so that the worker can read ahead
    between rows and see whether the parent cancelled the request it is answering."""

    def __init__(self, conn, slots: _WorkerSlots):
        self.conn, self.slots = conn, slots
        self.poller = select.poll()
        self.poller.register(conn.fileno(), select.POLLIN)
        self.requests: Deque[Tuple[int, memoryview]] = collections.deque()
        self.received = 0  # requests read so far: the next one's number
        self.current = -1  # the request being answered
        self.cancelled: Set[int] = set()  # requests not answered yet that the parent gave up
        self.closed = False  # the parent said stop, or went away

    def _read(self) -> None:
        try:
            message = self.conn.recv_bytes()
        except (EOFError, OSError):
            message = b""
        if not message:
            self.closed = True
        elif message[0] == REQUEST:
            given_back, = struct.unpack_from("<I", message, 1)
            self.slots.rows.give_back(struct.unpack_from(f"<{given_back}I", message, 5))
            self.requests.append((self.received, memoryview(message)[5 + 4 * given_back:]))
            self.received += 1
        else:
            ticket, = struct.unpack_from("<Q", message, 1)
            if ticket >= self.current:
                self.cancelled.add(ticket)

    def next_request(self, parent: int) -> Optional[memoryview]:
        """The next request's body, waiting for it (None when the worker should exit: the parent
        said stop, or `parent`, the fork server, is gone)."""
        while not self.requests and not self.closed:
            if self.poller.poll(PARENT_CHECK_S * 1000):
                self._read()
            elif os.getppid() != parent:
                return None
        if self.closed:
            return None
        self.cancelled.discard(self.current)
        self.current, body = self.requests.popleft()
        return body

    def current_cancelled(self) -> bool:
        """Whether the request being answered was cancelled, or the worker should exit; reads
        what has arrived without waiting."""
        while not self.closed and self.poller.poll(0):
            self._read()
        return self.closed or self.current in self.cancelled


def _worker_main(conn, pickled_job: bytes, worker_id: int, seed: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    job, worker_init = pickle.loads(pickled_job)
    if worker_init is not None:
        worker_init(worker_id)
    parent = os.getppid()  # the fork server; the socket's end of file says when the dataset's process is gone
    slots = _WorkerSlots(worker_id)
    inbox = _Inbox(conn, slots)
    conn.send_bytes(bytes([READY]))
    reduction.send_handle(conn, slots.progress_fd, None)  # SCM_RIGHTS: the pid is only used on Windows
    while True:
        body = inbox.next_request(parent)
        if body is None:
            return
        # One message per request: a write wakes the parent, and waking it per row costs the
        # worker ~20 us a row on two cores.
        message, fds = (_message(bytes([CANCELLED])), []) if inbox.current in inbox.cancelled else \
            job.answer(body, slots, seed, inbox.current, inbox.current_cancelled)
        try:
            slots.mark(NO_SAMPLE)
            conn.send_bytes(message)
            for fd in fds:
                reduction.send_handle(conn, fd, None)
        except OSError:
            return
        finally:
            for fd in fds:
                os.close(fd)
        if inbox.closed:
            return


def _portable_exception(error: BaseException, text: str) -> Tuple[BaseException, str]:
    """`error` when it survives pickling, else a RuntimeError that names its type and message."""
    try:
        pickle.loads(pickle.dumps(error))
        return error, text
    except Exception:
        return RuntimeError(f"{type(error).__module__}.{type(error).__qualname__}: {error}"), text


# -- the parent ----------------------------------------------------------------------------------------

class _Worker:
    """One worker process and the parent's end of its socket."""

    def __init__(self, context, pickled_job: bytes, worker_id: int, seed: int):
        self.id = worker_id
        self.conn, child = context.Pipe(duplex=True)
        self.process = context.Process(target=_worker_main, args=(child, pickled_job, worker_id, seed),
                                       name=f"conveyor-worker-{worker_id}", daemon=True)
        self.process.start()
        child.close()
        self.progress: Optional[int] = None  # the progress page's descriptor, once ready

    def wait_ready(self) -> None:
        """Waits for the worker to say it has started (unpickled the dataset) and to send its
        progress page."""
        ready = multiprocessing.connection.wait([self.conn, self.process.sentinel])
        try:
            if self.conn in ready and self.conn.recv_bytes() == bytes([READY]):
                self.progress = reduction.recv_handle(self.conn)
                return
        except (EOFError, OSError):
            pass
        raise WorkerError(
            f"conveyor worker {self.id} (pid {self.process.pid}) {self.death()} while starting (its error is on stderr "
            f"above). A new process unpickles the dataset and re-imports the main module: a script that builds or "
            f"iterates a pipeline at import time must do so under `if __name__ == '__main__':`.")

    def death(self) -> str:
        """How the process ended."""
        self.process.join(timeout=EXIT_GRACE_S)
        code = self.process.exitcode
        if code is None:
            return "stopped answering"
        if code < 0:
            return f"was killed by signal {signal.Signals(-code).name}"
        return f"exited with status {code}"

    def stop(self) -> None:
        """Asks the worker to exit, waits up to EXIT_GRACE_S, then kills it; closes the socket."""
        try:
            self.conn.send_bytes(b"")
        except OSError:
            pass
        self.process.join(timeout=EXIT_GRACE_S)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()
        if self.progress is not None:
            os.close(self.progress)
            self.progress = None


def _stop_all(workers: List[_Worker], retired: Dict[int, _Worker]) -> None:
    everyone = workers + list(retired.values())
    for worker in everyone:  # all asked first, so that they exit in parallel
        try:
            worker.conn.send_bytes(b"")
        except OSError:
            pass
    for worker in everyone:
        worker.stop()


class WorkerPool:
    """`count` processes doing `job` (a SourceJob or a MapJob). The pool itself goes to the
    engine, which talks to the workers natively (workers/group.cpp) and calls channel(), error()
    and dead(). Stopped by close(), when garbage-collected, or at interpreter exit."""

    #: Tells the engine (core/python_source.cpp, core/register_dataset.cpp) to go through workers/group.cpp.
    __conveyor_worker_pool__ = True
    #: The chunks the engine reads a source's rows in (SourceHints::block; a map asks for one row).
    rows_per_chunk = ROWS_PER_CHUNK

    def __init__(self, job: Any, count: int, seed: int, worker_init: Optional[Callable[[int], None]] = None):
        """``worker_init(worker_id)``, when given, runs in each worker process (replacements
        too) before it does any work; it travels pickled with the job."""
        try:
            self._pickled = pickle.dumps((job, worker_init))  # once: every worker, replacements too, starts from it
        except Exception as error:
            raise TypeError(f"python_multiprocessing=True sends {job.describe()} to worker processes, and it cannot "
                            f"be pickled: {error}. Define it at module level, or pass "
                            f"python_multiprocessing=False.") from None
        self.count = count
        self._seed = seed
        self._job = job
        self._lock = threading.Lock()
        self._workers: List[_Worker] = []
        # Dead workers by pid, to describe to late readers. Their sockets stay open until close():
        # the native side may still poll them, and a closed descriptor's number could be reused.
        self._retired: Dict[int, _Worker] = {}
        self._finalizer = weakref.finalize(self, _stop_all, self._workers, self._retired)
        context = multiprocessing.get_context("forkserver")
        self._workers.extend(_Worker(context, self._pickled, i, seed) for i in range(count))
        try:
            for worker in self._workers:  # they start in parallel
                worker.wait_ready()
        except BaseException:
            self.close()
            raise

    def __len__(self) -> int:
        return len(self._job)

    def pids(self) -> List[int]:
        """The workers' process ids."""
        return [w.process.pid for w in self._workers]

    def channel(self, i: int) -> Tuple[int, int, int, int]:
        """Worker i's socket, exit sentinel and progress page descriptors (-1 for a worker that
        failed to start and has none), and its pid."""
        worker = self._workers[i]
        progress = -1 if worker.progress is None else worker.progress
        return worker.conn.fileno(), worker.process.sentinel, progress, worker.process.pid

    def error(self, payload: bytes, i: int, index: int) -> BaseException:
        """The exception worker i sent for sample `index`, its traceback added as a note."""
        error, text = pickle.loads(payload)
        if hasattr(error, "add_note"):
            error.add_note(f"in conveyor worker {i} (pid {self._workers[i].process.pid}), sample {index}:\n{text}")
        return error

    def dead(self, i: int, index: Optional[int], pid: int) -> WorkerError:
        """Replaces worker i when it is still process `pid`, and says how that process died, on
        which sample (None: before reading one of the request) and, when the replacement failed
        to start, that too (the next read retries it)."""
        replacement = ""
        with self._lock:
            worker = self._workers[i]
            if worker.process.pid == pid:
                self._retired[pid] = worker
                fresh = _Worker(multiprocessing.get_context("forkserver"), self._pickled, i, self._seed)
                self._workers[i] = fresh
                if worker.process.is_alive():  # it stopped answering
                    worker.process.kill()
                try:
                    fresh.wait_ready()
                except WorkerError as error:
                    replacement = f"; its replacement failed: {error}"
            worker = self._retired[pid]
        where = f"while reading sample {index}" if index is not None else "before reading a sample of the request"
        return WorkerError(f"conveyor worker {i} (pid {pid}) {worker.death()} {where}{replacement}")

    def close(self) -> None:
        """Stops every worker (joining them; killing one that does not exit within 2 s)."""
        self._finalizer()

