"""The fault matrix (issue 10): each fault a pipeline can meet, one row of FAULTS, run with engine
threads and, where it applies, with worker processes (python_multiprocessing=True on the
GeneratorDataset, or on the map for the rows about a map function). Each row
asserts what the user sees (the exception's type, and a message naming the stage and the sample
or batch; or, for faults that are not errors, every row in order) and then that a fresh pipeline
in the same process works. Every scenario is bounded: on a helper thread by support.within, or,
for those that need the main thread (signals), by the conftest watchdog, so a hang fails.

Sources and functions live at module level: worker processes unpickle them by name."""

from __future__ import annotations

import _thread
import os
import signal
import threading
import time
from dataclasses import dataclass
from typing import Callable, Tuple

import numpy as np
import pytest

import conveyor
import conveyor.dataset as ds
import conveyor.dataset.vision as vision
from conveyor.dataset._workers import WorkerError
from support import Indexed, within

THREADS, PROCESSES = "threads", "processes"
BAD = 13  # the sample a fault hits, unless a row says otherwise
SIZE = 32


class DataCorrupt(Exception):
    """A user's own exception type."""


# -- sources and functions ----------------------------------------------------------------------

class FailsAt:
    """Row i is the int64 i, except at ``bad``: raises DataCorrupt, raises KeyboardInterrupt,
    SIGKILLs its own process or exits, as ``how`` says."""

    def __init__(self, how: str, bad: int = BAD, size: int = SIZE, delay: float = 0.0):
        self.how, self.bad, self.size, self.delay = how, bad, size, delay

    def __len__(self):
        return self.size

    def __getitem__(self, index):
        time.sleep(self.delay)
        if index == self.bad:
            if self.how == "raise":
                raise DataCorrupt(f"checksum mismatch in record {index}")
            if self.how == "interrupt":
                raise KeyboardInterrupt
            if self.how == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            if self.how == "exit":
                os._exit(3)
        return np.array(index, dtype=np.int64)


class Returns:
    """Row i is (i,) * columns (int64 scalars), except row ``bad``, which is ``value``."""

    def __init__(self, value, columns: int = 1, bad: int = BAD, size: int = SIZE):
        self.value, self.columns, self.bad, self.size = value, columns, bad, size

    def __len__(self):
        return self.size

    def __getitem__(self, index):
        if index == self.bad:
            return self.value
        row = tuple(np.array(index, dtype=np.int64) for _ in range(self.columns))
        return row if self.columns > 1 else row[0]


class Lengths:
    """Row i is arange(i % 3 + 1): rows of three shapes, which a batch cannot stack unpadded."""

    def __len__(self):
        return SIZE

    def __getitem__(self, index):
        return np.arange(index % 3 + 1, dtype=np.int64)


class WrongLength:
    """``data`` rows 0 .. data-1, while __len__ says ``claims``."""

    def __init__(self, data: int, claims: int):
        self.data, self.claims = data, claims

    def __len__(self):
        return self.claims

    def __getitem__(self, index):
        return np.arange(self.data, dtype=np.int64)[index]


class IterableWrongLength:
    """Iterable: yields ``data`` rows 0 .. data-1, while __len__ says ``claims``."""

    def __init__(self, data: int, claims: int):
        self.data, self.claims = data, claims

    def __len__(self):
        return self.claims

    def __iter__(self):
        return (np.int64(i) for i in range(self.data))


class Huge:
    """Row i is ``elements`` uint8 zeros, as a view of one zero (no memory behind it)."""

    def __init__(self, elements: int):
        self.elements = elements

    def __len__(self):
        return 4

    def __getitem__(self, index):
        return np.broadcast_to(np.zeros((), np.uint8), (self.elements,))


def bmp(value: int) -> bytes:
    """An uncompressed 24-bit 4x4 BMP, every byte of its pixels ``value``."""
    import struct
    pixels = bytes([value]) * (4 * 4 * 3)
    header = struct.pack("<2sIHHI", b"BM", 54 + len(pixels), 0, 0, 54)
    info = struct.pack("<IiiHHIIiiII", 40, 4, 4, 1, 24, 0, len(pixels), 2835, 2835, 0, 0)
    return header + info + pixels


class Images:
    """Row i: a 4x4 BMP filled with i and the label i; image ``bad`` is cut after 40 bytes."""

    def __len__(self):
        return SIZE

    def __getitem__(self, index):
        data = bmp(index)
        return np.frombuffer(data[:40] if index == BAD else data, np.uint8), np.int64(index)


def fails_at_bad(x):
    if int(x) == BAD:
        raise DataCorrupt(f"cannot transform {int(x)}")
    return x


def dies_at_bad(x):
    if int(x) == BAD:
        os.kill(os.getpid(), signal.SIGKILL)
    return x


class FailingSampler:
    """Yields 0, 1, 2, then raises."""

    def __iter__(self):
        yield from range(3)
        raise DataCorrupt("index file unreadable")


# -- what the user sees ----------------------------------------------------------------------------

def source(mode: str, data, columns=("x",), **kwargs) -> ds.Dataset:
    if "sampler" not in kwargs:
        kwargs.setdefault("shuffle", False)
    return ds.GeneratorDataset(data, list(columns), num_parallel_workers=2,
                               python_multiprocessing=mode == PROCESSES, **kwargs)


def alive(pid: int) -> bool:
    """Whether process ``pid`` runs (exists and is not a zombie)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def read(data: ds.Dataset) -> list:
    return [row[0].tolist() for row in data.create_tuple_iterator(output_numpy=True, num_epochs=1)]


def raised(expected, data: ds.Dataset) -> BaseException:
    """The exception of type ``expected`` that reading ``data`` raised."""
    with pytest.raises(expected) as caught:
        read(data)
    return caught.value


def names(error: BaseException, stage: str, sample: int = None, batch: int = None) -> None:
    """Asserts that ``error``'s message says which stage failed on which sample or batch."""
    where = f"on sample {sample}" if batch is None else f"on batch {batch}"
    assert f"{stage} failed {where}" in str(error), str(error)


# -- the faults ------------------------------------------------------------------------------------

def exception_in_source(mode):
    error = raised(DataCorrupt, source(mode, FailsAt("raise")))
    names(error, "source", BAD)
    assert error.stage == "source" and error.sample == BAD
    assert isinstance(error.__cause__, DataCorrupt) and f"checksum mismatch in record {BAD}" in str(error)
    if mode == PROCESSES:  # the worker's traceback comes along
        notes = "".join(getattr(error.__cause__, "__notes__", []))
        assert "in conveyor worker" in notes and "raise DataCorrupt" in notes


def exception_in_map(mode):
    data = source(THREADS, Indexed(SIZE)).map(fails_at_bad, num_parallel_workers=2,
                                              python_multiprocessing=mode == PROCESSES)
    error = raised(DataCorrupt, data)
    names(error, "map[0]", BAD)
    assert error.stage == "map[0]" and error.sample == BAD
    assert isinstance(error.__cause__, DataCorrupt)
    if mode == PROCESSES:
        notes = "".join(getattr(error.__cause__, "__notes__", []))
        assert "in conveyor worker" in notes and "fails_at_bad" in notes


def rows_a_batch_cannot_stack(mode):
    error = raised(conveyor.PipelineError, source(mode, Lengths()).batch(4))
    names(error, "batch", batch=0)
    assert "column 'x' has shape (1,) in sample 0 but (2,) in sample 1" in str(error)


def exception_in_per_batch_map(mode):
    def per_batch_map(x, info):
        if info.get_batch_num() == 2:
            raise DataCorrupt("bad batch")
        return (x,)

    error = raised(DataCorrupt, source(mode, Indexed(SIZE)).batch(3, per_batch_map=per_batch_map))
    names(error, "per_batch_map", batch=2)
    assert error.batch == 2 and error.sample is None


def exception_in_sampler(mode):
    # A user sampler is read whole when its epoch starts (its indices are the epoch's plan), so
    # its exception is the first thing next() gives.
    error = raised(DataCorrupt, source(mode, Indexed(SIZE), sampler=FailingSampler()))
    assert "sampler failed" in str(error) and "index file unreadable" in str(error)
    assert isinstance(error.__cause__, DataCorrupt)


def iterator_destroyed_mid_epoch(mode):
    data = source(mode, FailsAt("none", delay=0.01, size=10_000)).map(lambda x: x + 1).batch(8)
    iterator = data.create_tuple_iterator(output_numpy=True, num_epochs=1)
    assert [next(iterator)[0].tolist() for _ in range(2)] == [list(range(1, 9)), list(range(9, 17))]
    start = time.monotonic()
    del iterator
    assert time.monotonic() - start < 5, "dropping a running iterator returns promptly"
    assert read(data.take(2)) == [list(range(1, 9)), list(range(9, 17))], "the same dataset runs again"


def consumer_stalled(mode):
    data = source(mode, Indexed(300)).map(lambda x: x * 2).batch(10)
    iterator = data.create_tuple_iterator(output_numpy=True, num_epochs=1)
    got = [next(iterator)[0].tolist() for _ in range(3)]
    time.sleep(10)  # every queue fills and every stage waits on the consumer
    got += [batch[0].tolist() for batch in iterator]
    assert got == [[2 * i for i in range(first, first + 10)] for first in range(0, 300, 10)]


def dead_worker(how: str, says: str) -> Callable[[str], None]:
    def scenario(mode):
        data = source(mode, FailsAt(how))
        start = time.monotonic()
        error = raised(WorkerError, data)
        assert time.monotonic() - start < 5, "a dead worker is noticed within 5 s"
        message = str(error)
        assert "source failed" in message and f"sample {BAD}" in message
        assert "conveyor worker" in message and "pid" in message and says in message
    return scenario


def dead_map_worker(mode):
    data = source(THREADS, Indexed(SIZE)).map(dies_at_bad, num_parallel_workers=2, python_multiprocessing=True)
    start = time.monotonic()
    error = raised(WorkerError, data)
    assert time.monotonic() - start < 5
    message = str(error)
    assert "map[0] failed" in message and f"sample {BAD}" in message
    assert "conveyor worker" in message and "killed by signal SIGKILL" in message


def interrupted(interrupt: Callable[[list], None]) -> Callable[[str], None]:
    """A consumer waiting in next() for a batch that takes 3.2 s to read (32 rows of 0.2 s on two
    threads; 128 rows of 50 ms on two worker processes) is interrupted at 0.2 s: next() raises
    KeyboardInterrupt instead of returning the batch, the pipeline stops, and worker processes
    keep working. (Stopping waits for the row each worker is reading.)"""

    def scenario(mode):
        delay, batch = (0.2, 32) if mode == THREADS else (0.05, 128)
        data = source(mode, FailsAt("none", delay=delay, size=4 * batch))
        workers = data._workers.pids() if mode == PROCESSES else []
        iterator = data.batch(batch).create_tuple_iterator(output_numpy=True, num_epochs=1)
        timer = threading.Timer(0.2, interrupt, args=(workers,))
        start = time.monotonic()
        timer.start()
        try:
            with pytest.raises(KeyboardInterrupt):
                next(iterator)
        finally:
            timer.cancel()
            timer.join()
        assert time.monotonic() - start < 2.5, "next() returned a full batch instead of being interrupted"
        within(5, iterator.stop)
        if mode == PROCESSES:
            assert all(alive(pid) for pid in workers)
            assert within(10, lambda: read(data.take(3))) == [0, 1, 2], "the same workers read on"
    return scenario


def ctrl_c(workers):
    """What a terminal does: SIGINT to the whole process group, worker processes included."""
    for pid in workers:
        os.kill(pid, signal.SIGINT)
    signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)


def interrupt_main(workers):
    _thread.interrupt_main()


def keyboard_interrupt_in_getitem(mode):
    error = raised(KeyboardInterrupt, source(mode, FailsAt("interrupt")))
    names(error, "source", BAD)


def huge_rows(mode):
    """Rows of 2^61 bytes, each a view of one zero byte. In this process a batch of four needs
    2^63 bytes; a worker process would need a shared-memory slot of 2^61."""
    data = source(mode, Huge(1 << 61)).batch(4)
    error = raised(MemoryError, data)
    if mode == THREADS:
        names(error, "batch", batch=0)
        assert ("a batch of 4 rows of uint8 (2305843009213693952,) needs 9223372036854775808 bytes, "
                "more than the memory available; available memory: ") in str(error)
    else:
        names(error, "source", 0)
        assert "needs a shared-memory slot of 2305843009213693952 bytes" in str(error)


def batch_size_overflows(mode):
    """Rows of 2^62 bytes: a batch of four needs 2^64, more than a size_t holds."""
    error = raised(MemoryError, source(mode, Huge(1 << 62)).batch(4))
    names(error, "batch", batch=0)
    assert "needs more bytes than memory can address" in str(error)


def corrupt_image(mode):
    data = source(mode, Images(), ["image", "label"]).map(vision.Decode(), input_columns="image")
    error = raised(conveyor.PipelineError, data)
    names(error, "map[0]", BAD)
    assert "corrupt or truncated bmp data" in str(error)


def len_longer_than_the_data(mode):
    error = raised(IndexError, source(mode, WrongLength(data=10, claims=12)))
    names(error, "source", 10)


def len_shorter_than_the_data(mode):
    assert read(source(mode, WrongLength(data=12, claims=10))) == list(range(10))


def iterable_len_wrong(mode):
    # An iterable source is read to its end: its real length counts, not what __len__ says.
    for data, claims in [(10, 12), (12, 10)]:
        pipeline = source(mode, IterableWrongLength(data, claims))
        assert read(pipeline) == list(range(data))
        assert pipeline.get_dataset_size() == data


def wrong_column_count(count: int) -> Callable[[str], None]:
    def scenario(mode):
        data = source(mode, Returns(tuple(np.int64(c) for c in range(count)), columns=2), ["a", "b"])
        error = raised(conveyor.PipelineError, data)
        names(error, "source", BAD)
        assert f"returned a row of {count} column{'s' if count != 1 else ''}; the dataset has 2" in str(error)
    return scenario


def inconsistent_dtype(mode):
    error = raised(conveyor.PipelineError, source(mode, Returns(np.float64(BAD))).batch(SIZE))
    names(error, "batch", batch=0)
    assert f"column 'x' mixes int64 (sample 0) and float64 (sample {BAD})" in str(error)


@dataclass(frozen=True)
class Fault:
    """A row: ``scenario(mode)`` causes the fault and asserts what the user sees, in each of
    ``modes``, within ``limit_s`` seconds (the watchdog's 30 s for ``main_thread`` ones)."""

    name: str
    scenario: Callable[[str], None]
    modes: Tuple[str, ...] = (THREADS, PROCESSES)
    main_thread: bool = False  # signals reach the main thread only
    limit_s: float = 15.0


FAULTS = [
    Fault("exception in source", exception_in_source),
    Fault("exception in map", exception_in_map),
    Fault("batch cannot stack rows of different shapes", rows_a_batch_cannot_stack),
    Fault("exception in per_batch_map", exception_in_per_batch_map),
    Fault("exception in a user sampler", exception_in_sampler),
    Fault("iterator destroyed mid-epoch", iterator_destroyed_mid_epoch),
    Fault("consumer stalled 10 s", consumer_stalled, limit_s=25.0),
    Fault("source worker SIGKILLed", dead_worker("kill", "killed by signal SIGKILL"), modes=(PROCESSES,)),
    Fault("source worker exits", dead_worker("exit", "exited with status 3"), modes=(PROCESSES,)),
    Fault("map worker SIGKILLed", dead_map_worker, modes=(PROCESSES,)),
    Fault("Ctrl-C during next()", interrupted(ctrl_c), main_thread=True),
    Fault("interrupt_main during next()", interrupted(interrupt_main), main_thread=True),
    Fault("KeyboardInterrupt raised by __getitem__", keyboard_interrupt_in_getitem),
    Fault("huge rows: memory refused", huge_rows),
    Fault("huge rows: batch size overflows", batch_size_overflows, modes=(THREADS,)),
    Fault("corrupt image", corrupt_image),
    Fault("__len__ longer than the data", len_longer_than_the_data),
    Fault("__len__ shorter than the data", len_shorter_than_the_data),
    Fault("__len__ of an iterable source wrong", iterable_len_wrong, modes=(THREADS,)),
    Fault("row with too many columns", wrong_column_count(3)),
    Fault("row with too few columns", wrong_column_count(1)),
    Fault("rows of inconsistent dtype", inconsistent_dtype),
]


def a_fresh_pipeline_works(mode):
    data = source(mode, Indexed(7)).map(lambda x: x + 1).batch(3)
    assert read(data) == [[1, 2, 3], [4, 5, 6], [7]]


@pytest.mark.parametrize("fault, mode", [(f, m) for f in FAULTS for m in f.modes],
                         ids=[f"{f.name}-{m}".replace(" ", "-") for f in FAULTS for m in f.modes])
def test_a_fault_is_the_error_it_should_be_and_the_next_pipeline_works(fault, mode):
    if fault.main_thread:
        fault.scenario(mode)
    else:
        within(fault.limit_s, lambda: fault.scenario(mode))
    within(10, lambda: a_fresh_pipeline_works(mode))
