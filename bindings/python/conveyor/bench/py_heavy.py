"""The ``py-heavy`` workload: a map-style Dataset whose ``__getitem__`` burns about 200 us of
pure Python (a calibrated arithmetic loop, the GIL held throughout) and returns a 3x64x64
float32 array and an int label; batch 64, shuffled. Only worker processes can run it in
parallel: conveyor with 2 workers uses its process pool (``python_multiprocessing=True``, the
default); with 1 it runs on one engine thread in this process.

Bounds: the bare ``__getitem__`` loop in this process (measured in every round, beside the
loaders, as the machine's load moves); the ideal for 2 workers, twice its median; and two bare
loops run at once in processes of their own, what the machine's two cores give a loop at the
time (on a shared machine, less than twice one loop when the second core is slowed).
"""

from __future__ import annotations

import multiprocessing
import statistics
import time
from typing import Tuple

import numpy as np

import conveyor.dataset as ds
from conveyor.bench.loaders import conveyor_config, torch_configs
from conveyor.bench.workload import Bound, Workload

BATCH = 64
SHAPE = (3, 64, 64)
DEFAULT_SAMPLES = 4_000
GETITEM_S = 200e-6
BARE_LOOP = "bare __getitem__ loop = the ideal for 1 worker"


class Heavy:
    """``__getitem__``: ``loops`` iterations of Python arithmetic, then a 3x64x64 float32 array
    (filled with the result) and the index. Picklable, for worker processes."""

    def __init__(self, size: int, loops: int):
        self.size, self.loops = size, loops

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index: int):
        x = float(index)
        for _ in range(self.loops):
            x = x * 0.999999 + 1.0
        return np.full(SHAPE, x, dtype=np.float32), index


def calibrate(target_s: float = GETITEM_S) -> Tuple[int, float]:
    """The loop count that makes ``__getitem__`` take about ``target_s`` here, and the measured
    seconds per call at that count."""
    loops = 1000
    for _ in range(20):
        item = Heavy(1, loops)
        start = time.perf_counter()
        for _ in range(200):
            item[0]
        per_call = (time.perf_counter() - start) / 200
        if abs(per_call - target_s) < 0.05 * target_s:
            break
        loops = max(1, int(loops * target_s / per_call))
    return loops, per_call


def getitem_loop(dataset: Heavy, count: int) -> float:
    """Seconds for ``dataset[i]``, i < count, in this thread."""
    start = time.perf_counter()
    for i in range(count):
        dataset[i]
    return time.perf_counter() - start


def _timed_loop(dataset: Heavy, count: int, start, rates) -> None:
    """One process of concurrent_loops: waits at `start` for the others, then puts its rate."""
    dataset[0]  # warm up
    start.wait()
    rates.put(count / getitem_loop(dataset, count))


def concurrent_loops(dataset: Heavy, count: int, processes: int = 2) -> float:
    """Seconds for ``processes * count`` samples at the summed rate of ``processes`` bare loops
    of ``count`` samples, run at once in processes of their own (forkserver, as conveyor's
    workers are); each process's start-up is not timed."""
    context = multiprocessing.get_context("forkserver")
    start, rates = context.Barrier(processes + 1), context.Queue()
    loops = [context.Process(target=_timed_loop, args=(dataset, count, start, rates)) for _ in range(processes)]
    for loop in loops:
        loop.start()
    try:
        start.wait(timeout=60)
        total = sum(rates.get(timeout=60) for _ in loops)
    finally:
        for loop in loops:
            loop.join(timeout=10)
            if loop.is_alive():
                loop.kill()
    return processes * count / total


def build(samples: int = DEFAULT_SAMPLES) -> Workload:
    """The workload over ``samples`` samples (at least one batch)."""
    if samples < BATCH:
        raise ValueError(f"py-heavy needs at least {BATCH} samples (one batch), not {samples}")
    loops, per_call = calibrate()
    data = Heavy(samples, loops)
    loop_samples = min(samples, 1000)
    configs = []
    for workers, setting in ((1, "num_parallel_workers=1 thread"), (2, "num_parallel_workers=2 processes")):
        generator = ds.GeneratorDataset(data, ["image", "label"], shuffle=True, num_parallel_workers=workers)
        configs.append(conveyor_config(generator.batch(BATCH, drop_remainder=True), workers, setting, generator))
    configs += torch_configs(data, BATCH)
    return Workload(
        name="py-heavy",
        description=(f"pure-Python __getitem__ calibrated to {per_call * 1e6:.0f} us ({loops} loop iterations), "
                     f"{samples:,} x float32 3x64x64 + int label, batch {BATCH}, shuffled"),
        samples_per_epoch=samples // BATCH * BATCH,
        bytes_per_sample=int(np.prod(SHAPE)) * 4 + 8,
        configs=configs,
        bounds=[Bound(BARE_LOOP, loop_samples, run=lambda: getitem_loop(data, loop_samples)),
                Bound("ideal, 2 workers (2 x the bare loop)",
                      rate=lambda measured: 2 * statistics.median(measured[BARE_LOOP])),
                Bound("2 bare loops at once, in 2 processes (what 2 cores give)", 2 * loop_samples,
                      run=lambda: concurrent_loops(data, loop_samples))])
