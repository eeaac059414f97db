"""Worker processes for ``python_multiprocessing=True``: a dataset's ``__getitem__``
(``GeneratorDataset``) or a run of Python map functions (``map``) runs in N processes, and the
rows come back through shared memory without a copy.

How it works:

* Processes start with the ``forkserver`` method: the engine's threads exist already, and
  forking a threaded process is unsafe; the fork server is a single-threaded process that forks
  the workers. The dataset is pickled once per worker, when it starts; workers live as long as
  the dataset, across epochs and iterators. (A new process re-imports the main module: a script
  must build and iterate its pipelines under ``if __name__ == "__main__":``, as with any
  spawn-style multiprocessing.)
* A pool runs one job: a ``SourceJob`` (rows by index) or a ``MapJob`` (functions applied to the
  columns the request carries). The parent's side is native (bindings/python/src/
  worker_group.cpp, with worker_source.cpp and worker_map.cpp): the engine's threads send
  requests and read replies on each worker's socket and wrap the rows as tensors, without the
  GIL. Python is called only to describe an exception or a death.
* Each worker writes a row into one of its slots: a ``memfd``, anonymous shared memory that the
  worker creates and hands to the parent over the socket (SCM_RIGHTS). It has no name, so
  nothing can be left behind in /dev/shm whichever process dies and however; its memory goes
  back when both sides have unmapped it. The slot stays the row's until the engine lets go of
  the last tensor over it; its id then goes back to the worker with the next request. A row
  larger than every free slot gets a new slot of at least its size (rounded up to a power of
  two): slots follow the rows, there is no ``max_rowsize`` to guess.
* The engine asks for rows in fixed chunks of ``ROWS_PER_REQUEST`` consecutive positions of the
  sampler's order (one request, one reply per row), so that a request's cost is shared by its
  rows. Before a chunk the worker seeds ``random``, ``numpy.random`` and (when torch is loaded)
  torch's CPU generator from (seed, epoch, the chunk's indices), and reads the chunk in order: a
  dataset that draws random numbers gives the same rows whatever the number of workers and
  however they are scheduled. (Seeding costs ~30-60 us, too much to pay per row.) A map
  request carries one row, and the generators are seeded from (seed, epoch, sample, op).
* A worker that dies (a signal, ``os._exit``) is an error naming it, its pid, the signal and the
  sample; it is replaced for the next request. An exception in ``__getitem__`` is re-raised in
  the parent with its type and message, the worker's traceback added as a note. Workers ignore
  SIGINT (Ctrl-C is the parent's to handle) and exit when the dataset's process goes away (their
  end of the socket reads end-of-file).

The protocol, over multiprocessing's framing (a big-endian int32 length, then the payload; all
fields little-endian): a request is ``<I`` m and m ``<I`` slot ids the parent gives back, then
the job's body; an empty payload stops the worker. A source's body is ``<QI`` (epoch, n) and n
``<Q`` indices; a map's is ``<QQQI`` (epoch, sample, op position, column count), the columns'
headers as below (offsets from the body's start), then their bytes. The worker answers each
row, in order, with a reply: a status byte, 2 ready (once, at start), 1 an error (a pickle of
(exception, traceback text) follows), or 0 a row: ``<IQI`` (slot, the new slot's size or 0,
column count), then per column ``B`` kind and for an array (kind 0) ``B`` length of the dtype's
name (NumPy's, which is conveyor's: "float32"), the name, ``<I`` ndim, ndim ``<q`` extents,
``<Q`` offset; for bytes (kind 1) ``<QQ`` offset and length. A new slot's descriptor follows
its reply.
"""

from __future__ import annotations

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
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np

#: Offsets of columns in a slot are multiples of this.
ALIGNMENT = 64
#: Rows the engine asks a worker for at once (see the module's docstring). Part of what the
#: random draws of a dataset depend on: changing it changes them.
ROWS_PER_REQUEST = 16
#: Seconds a worker waits for a request before checking that its parent is still there.
PARENT_CHECK_S = 1.0
#: Seconds close() gives a worker to exit before killing it.
EXIT_GRACE_S = 2.0


class WorkerError(RuntimeError):
    """A worker process died, or could not be started or fed."""


# -- the worker process ----------------------------------------------------------------------------

READY, ERROR, ROW = 2, 1, 0
ARRAY, BYTES = 0, 1
NO_SLOT = 0xFFFFFFFF


def _seed_everything(seed: int, epoch: int, indices: Tuple[int, ...]) -> None:
    """Seeds the generators a dataset may use from (seed, epoch, a chunk's indices)."""
    value = hash((seed, epoch) + indices) & 0xFFFFFFFF  # tuples of ints hash the same in every process
    random.seed(value)
    np.random.seed(value)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.default_generator.manual_seed(value)  # the CPU generator: torch.manual_seed costs 100x more


class _WorkerSlots:
    """The worker's side of its slots: their maps, and which the parent has given back."""

    def __init__(self, worker_id: int):
        self.worker_id = worker_id
        self.maps: List[mmap.mmap] = []
        self.free: List[int] = []

    def take(self, size: int, index: int) -> Tuple[int, Optional[int]]:
        """A free slot of at least `size` bytes: (slot id, its fd when it is new, else None)."""
        fitting = [s for s in self.free if len(self.maps[s]) >= size]
        if fitting:
            slot = min(fitting, key=lambda s: len(self.maps[s]))
            self.free.remove(slot)
            return slot, None
        capacity = 1 << max(size - 1, 4095).bit_length()  # a power of two, at least one page
        available = _available_bytes()
        if available is not None and capacity > available:
            # Refused here: fallocate on a memfd takes pages until the OOM killer steps in, and
            # the pages belong to no process's RSS, so it may kill the parent instead.
            raise MemoryError(
                f"conveyor worker {self.worker_id}: sample {index} needs a shared-memory slot of {capacity} bytes, "
                f"more than the memory available; {_available_memory(available)}")
        fd = os.memfd_create(f"conveyor-worker{self.worker_id}", os.MFD_CLOEXEC)
        try:
            os.posix_fallocate(fd, 0, capacity)  # fail here, clearly, rather than SIGBUS on write
        except OSError as error:
            os.close(fd)
            raise MemoryError(
                f"conveyor worker {self.worker_id}: sample {index} needs a shared-memory slot of {capacity} bytes "
                f"and the system refused it ({error.strerror}); {_available_memory(_available_bytes())}") from None
        self.maps.append(mmap.mmap(fd, capacity))
        return len(self.maps) - 1, fd


def _available_bytes() -> Optional[int]:
    """MemAvailable from /proc/meminfo, in bytes; None where it cannot be read."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _available_memory(available: Optional[int]) -> str:
    """`available` (from _available_bytes()) in words."""
    return "available memory unknown" if available is None else f"available memory: {available // 1024} kB"


def _column_array(value: Any, position: int) -> np.ndarray:
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"column {position}: a value of type {type(value).__name__} (NumPy dtype {array.dtype}) "
                        f"is not supported; give NumPy arrays of booleans, integers or floats, scalars, bytes or str")
    if not array.dtype.isnative:
        array = array.astype(array.dtype.newbyteorder("="))
    return array


#: Encoded dtype names: NumPy computes ``dtype.name`` in Python, which costs ~8 us a column.
_DTYPE_NAMES: Dict[np.dtype, bytes] = {}


def _dtype_name(dtype: np.dtype) -> bytes:
    name = _DTYPE_NAMES.get(dtype)
    if name is None:
        name = _DTYPE_NAMES[dtype] = dtype.name.encode()  # NumPy's names are conveyor's
    return name


def _encode_row(row: Any, slots: _WorkerSlots, index: int) -> Tuple[bytes, Optional[int]]:
    """The reply for one row, and the descriptor of a new slot to send after it."""
    values = row if isinstance(row, tuple) else (row,)
    columns = []
    offset = 0
    for position, value in enumerate(values):
        if isinstance(value, str):
            value = value.encode()
        elif isinstance(value, memoryview):
            value = value.tobytes()
        elif not isinstance(value, (bytes, bytearray)):
            value = _column_array(value, position)
        offset = (offset + ALIGNMENT - 1) // ALIGNMENT * ALIGNMENT
        columns.append((value, offset))
        offset += value.nbytes if isinstance(value, np.ndarray) else len(value)
    if not columns:
        return struct.pack("<BIQI", ROW, NO_SLOT, 0, 0), None
    slot, fd = slots.take(offset, index)
    memory = slots.maps[slot]
    parts = [struct.pack("<BIQI", ROW, slot, 0 if fd is None else len(memory), len(columns))]
    for value, start in columns:
        if not isinstance(value, np.ndarray):
            memory[start:start + len(value)] = value
            parts.append(struct.pack("<BQQ", BYTES, start, len(value)))
            continue
        if value.nbytes:
            # The array's bytes, copied in its own (C) order: the shape below says how to read them.
            memory[start:start + value.nbytes] = value if value.flags.c_contiguous else np.ascontiguousarray(value)
        code = _dtype_name(value.dtype)
        parts.append(struct.pack("<BB", ARRAY, len(code)) + code +
                     struct.pack(f"<I{value.ndim}qQ", value.ndim, *value.shape, start))
    return b"".join(parts), fd


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


def _error_reply(error: BaseException) -> bytes:
    return bytes([ERROR]) + pickle.dumps(_portable_exception(error, traceback.format_exc()))


class SourceJob:
    """A pool's job of reading rows of a random-access `source` by index."""

    def __init__(self, source: Any):
        self.source = source

    def __len__(self) -> int:
        return len(self.source)

    def describe(self) -> str:
        return f"the dataset ({type(self.source).__qualname__} object {self.source!r:.80})"

    def answer(self, body: bytes, slots: "_WorkerSlots", seed: int):
        """Yields a reply, and the descriptor of a new slot or None, per requested row."""
        epoch, count = struct.unpack_from("<QI", body)
        indices = struct.unpack_from(f"<{count}Q", body, 12)
        _seed_everything(seed, epoch, indices)
        for index in indices:
            try:
                yield _encode_row(self.source[index], slots, index)
            except BaseException as error:  # noqa: B902 - everything goes back to the parent
                yield _error_reply(error), None


class MapJob:
    """A pool's job of applying `functions` in order to the columns of each row it is sent: each
    gets the columns (NumPy arrays) as arguments and returns an array or a tuple of them."""

    def __init__(self, functions: List[Callable[..., Any]]):
        self.functions = functions

    def describe(self) -> str:
        return f"the map function {self.functions[0]!r:.80}" if len(self.functions) == 1 else \
            f"the map functions {self.functions!r:.120}"

    def answer(self, body: bytes, slots: "_WorkerSlots", seed: int):
        epoch, index, op, count = struct.unpack_from("<QQQI", body)
        try:
            values = _decode_columns(bytearray(body), 28, count)
            _seed_everything(seed, epoch, (index, op))
            for function in self.functions:
                result = function(*values)
                values = result if isinstance(result, tuple) else (result,)
            yield _encode_row(values, slots, index)
        except BaseException as error:  # noqa: B902 - everything goes back to the parent
            yield _error_reply(error), None


def _worker_main(conn, pickled_job: bytes, worker_id: int, seed: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    job, worker_init = pickle.loads(pickled_job)
    if worker_init is not None:
        worker_init(worker_id)
    parent = os.getppid()  # the fork server; the socket's end of file says when the dataset's process is gone
    slots = _WorkerSlots(worker_id)
    poller = select.poll()
    poller.register(conn.fileno(), select.POLLIN)
    conn.send_bytes(bytes([READY]))
    while True:
        if not poller.poll(PARENT_CHECK_S * 1000):
            if os.getppid() != parent:
                return
            continue
        try:
            request = conn.recv_bytes()
        except (EOFError, OSError):
            return
        if not request:
            return
        given_back, = struct.unpack_from("<I", request)
        slots.free.extend(struct.unpack_from(f"<{given_back}I", request, 4))
        for reply, fd in job.answer(memoryview(request)[4 + 4 * given_back:], slots, seed):
            try:
                conn.send_bytes(reply)
                if fd is not None:
                    reduction.send_handle(conn, fd, None)  # SCM_RIGHTS: the pid is only used on Windows
            except OSError:
                return
            finally:
                if fd is not None:
                    os.close(fd)


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

    def wait_ready(self) -> None:
        """Waits for the worker to say it has started (unpickled the dataset)."""
        ready = multiprocessing.connection.wait([self.conn, self.process.sentinel])
        try:
            if self.conn in ready and self.conn.recv_bytes() == bytes([READY]):
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
    engine, which talks to the workers natively (worker_group.cpp) and calls channel(), error()
    and dead(). Stopped by close(), when garbage-collected, or at interpreter exit."""

    #: Tells the engine (python_source.cpp, register_dataset.cpp) to go through worker_group.cpp.
    __conveyor_worker_pool__ = True
    #: How many rows the engine asks a worker for at once (sources; a map asks for one).
    rows_per_request = ROWS_PER_REQUEST

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

    def channel(self, i: int) -> Tuple[int, int, int]:
        """Worker i's socket and exit sentinel descriptors, and its pid."""
        worker = self._workers[i]
        return worker.conn.fileno(), worker.process.sentinel, worker.process.pid

    def error(self, payload: bytes, i: int, index: int) -> BaseException:
        """The exception worker i sent for sample `index`, its traceback added as a note."""
        error, text = pickle.loads(payload)
        if hasattr(error, "add_note"):
            error.add_note(f"in conveyor worker {i} (pid {self._workers[i].process.pid}), sample {index}:\n{text}")
        return error

    def dead(self, i: int, index: int, pid: int) -> WorkerError:
        """Replaces worker i when it is still process `pid`, and says how that process died."""
        with self._lock:
            worker = self._workers[i]
            if worker.process.pid == pid:
                self._retired[pid] = worker
                fresh = _Worker(multiprocessing.get_context("forkserver"), self._pickled, i, self._seed)
                self._workers[i] = fresh
                if worker.process.is_alive():  # it stopped answering
                    worker.process.kill()
                fresh.wait_ready()
            worker = self._retired[pid]
        return WorkerError(f"conveyor worker {i} (pid {pid}) {worker.death()} while reading sample {index}")

    def close(self) -> None:
        """Stops every worker (joining them; killing one that does not exit within 2 s)."""
        self._finalizer()

