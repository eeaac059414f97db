"""Sources and helpers shared by the tests (conftest.py holds the fixtures).

Every expected value in the tests is computed from these sources' definitions, never by
running conveyor."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from typing import Callable, List, Sequence

import numpy as np

import conveyor.dataset as ds


class Indexed:
    """Random access: row i is the int64 scalar i (one column)."""

    def __init__(self, size: int):
        self.size = size

    def __len__(self):
        return self.size

    def __getitem__(self, index):
        return np.array(index, dtype=np.int64)


class Columns:
    """Random access: row i is (i, 10 * i, 100 * i) as int64 scalars, for up to three columns."""

    def __init__(self, size: int, count: int = 2):
        self.size, self.count = size, count

    def __len__(self):
        return self.size

    def __getitem__(self, index):
        return tuple(np.array(index * 10 ** c, dtype=np.int64) for c in range(self.count))


class Sequences:
    """Random access: row i is (arange(i % period + 1) as int32, i as int64) - rows of different lengths."""

    def __init__(self, size: int, period: int = 4):
        self.size, self.period = size, period

    def __len__(self):
        return self.size

    def __getitem__(self, index):
        return np.arange(index % self.period + 1, dtype=np.int32), np.array(index, dtype=np.int64)


class Slow:
    """Random access: row i is i, after sleeping ``delay`` seconds (the GIL is released meanwhile)."""

    def __init__(self, size: int, delay: float):
        self.size, self.delay = size, delay

    def __len__(self):
        return self.size

    def __getitem__(self, index):
        time.sleep(self.delay)
        return np.array(index, dtype=np.int64)


class Images:
    """Random access: row i is an 8x8x3 uint8 image whose pixels are i * 3 + their position, and
    the label i; 20 rows. (Here rather than in a test module so that worker processes, which
    import the module to unpickle it, do not import torch.)"""

    def __len__(self):
        return 20

    def __getitem__(self, i):
        return (np.arange(8 * 8 * 3, dtype=np.uint8).reshape(8, 8, 3) + np.uint8(i * 3)), np.int64(i)


class NoisyImages(Images):
    """Images plus noise drawn from numpy.random (which worker processes seed per sample)."""

    def __getitem__(self, i):
        image, label = super().__getitem__(i)
        return image + np.random.randint(0, 50, image.shape, dtype=np.uint8), label


class ManyNoisyImages(NoisyImages):
    """NoisyImages of 80 rows: enough for batches of 32, which worker processes collate in place."""

    def __len__(self):
        return 80


def dataset(size: int, **kwargs) -> ds.Dataset:
    """An unshuffled one-column ("x") dataset of 0 .. size-1 unless kwargs say otherwise."""
    if "sampler" not in kwargs:
        kwargs.setdefault("shuffle", False)
    return ds.GeneratorDataset(Indexed(size), ["x"], **kwargs)


def values(data: ds.Dataset, column: int = 0, num_epochs: int = 1) -> list:
    """One epoch of ``data`` as Python values of one column (lists for arrays)."""
    return [row[column].tolist() for row in data.create_tuple_iterator(output_numpy=True, num_epochs=num_epochs)]


def rows(data: ds.Dataset) -> List[tuple]:
    """One epoch of ``data``, each row a tuple of Python values."""
    return [tuple(c.tolist() for c in row) for row in data.create_tuple_iterator(output_numpy=True, num_epochs=1)]


def epochs(data: ds.Dataset, count: int, column: int = 0) -> List[list]:
    """``count`` epochs read through one iterator (one ``for`` per epoch)."""
    iterator = data.create_tuple_iterator(output_numpy=True, num_epochs=count)
    return [[row[column].tolist() for row in iterator] for _ in range(count)]


def os_threads() -> int:
    """Threads of this process, as the kernel counts them."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    raise RuntimeError("no Threads: line in /proc/self/status")


def threads_settled_at_most(limit: int, seconds: float = 2.0) -> int:
    """The thread count once it is at most ``limit``, or after ``seconds`` (a thread that was
    joined may take a moment to leave the kernel's count)."""
    deadline = time.monotonic() + seconds
    count = os_threads()
    while count > limit and time.monotonic() < deadline:
        time.sleep(0.01)
        count = os_threads()
    return count


def within(seconds: float, function: Callable[[], object]) -> object:
    """Runs ``function`` on a daemon thread and returns its result; fails the test (instead of
    hanging it) when it has not finished after ``seconds``. Exceptions are re-raised here."""
    outcome: dict = {}

    def run():
        try:
            outcome["value"] = function()
        except BaseException as error:  # re-raised on the test's thread
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True, name="bounded-test-body")
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise AssertionError(f"did not finish within {seconds} s (hung?)")
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def run_python(code: str, timeout: float) -> subprocess.CompletedProcess:
    """Runs ``code`` in a fresh interpreter, killed after ``timeout`` seconds (for checks whose
    failure mode is a hang that a thread could not stop)."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "PYTHONFAULTHANDLER": "1"})


def padded(arrays: Sequence[np.ndarray], length: int, value) -> np.ndarray:
    """Stacks 1-D arrays, each padded at the end to ``length`` with ``value`` (the reference
    padding the tests compare against)."""
    out = np.full((len(arrays), length), value, dtype=arrays[0].dtype)
    for i, a in enumerate(arrays):
        out[i, : len(a)] = a
    return out
