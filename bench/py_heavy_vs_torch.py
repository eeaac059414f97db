#!/usr/bin/env python3
"""Heavy pure-Python __getitem__, conveyor's worker processes against torch's DataLoader.

The workload (issue 6's benchmark): a map-style Dataset whose __getitem__ burns about 200 us of
pure Python (a calibrated arithmetic loop, GIL held throughout) and returns a 3x64x64 float32
array and an int label; batches of 64, shuffled. Every side gets the same class:

* conveyor: GeneratorDataset(num_parallel_workers=N) -> batch(64, drop_remainder=True); with N = 1
  __getitem__ runs on one engine thread in this process, with N >= 2 in N worker processes
  (python_multiprocessing=True, the default). The dataset (and its workers) lives across epochs;
  each epoch is a fresh iterator.
* torch: DataLoader(batch_size=64, shuffle=True, drop_last=True, num_workers=N) for N = 0, 1, 2,
  and N = 2 with persistent_workers=True.

Beside them, the ideal: N / (the __getitem__ time measured in this process). Rounds are
interleaved after a warm-up; the table gives median samples/s, spread, median time to first
batch and the peak resident memory of the processes that configuration uses (this process and
its own workers, summed, sampled every 20 ms; pages shared between them count once per process,
as RSS does).

    python3 bench/py_heavy_vs_torch.py                 # 4,000 samples an epoch, 5 rounds (~1-2 min)
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from typing import Callable, Dict, List, Tuple

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

import conveyor.dataset as ds

BATCH = 64
SHAPE = (3, 64, 64)


class Heavy(Dataset):
    """__getitem__: `loops` iterations of Python arithmetic, then a 3x64x64 float32 array."""

    def __init__(self, size: int, loops: int):
        self.size, self.loops = size, loops

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index: int):
        x = float(index)
        for _ in range(self.loops):
            x = x * 0.999999 + 1.0
        return np.full(SHAPE, x, dtype=np.float32), index


def calibrate(target_s: float) -> Tuple[int, float]:
    """Loop count giving ~target_s per __getitem__, and the measured time per call."""
    loops = 1000
    while True:
        item = Heavy(1, loops)
        start = time.perf_counter()
        for _ in range(200):
            item[0]
        per_call = (time.perf_counter() - start) / 200
        if abs(per_call - target_s) < 0.05 * target_s:
            return loops, per_call
        loops = max(1, int(loops * target_s / per_call))


def rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[21]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


def children(pid: int) -> List[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


class PeakSampler:
    """Peak of the summed resident memory of the processes `pids()` names, sampled every 20 ms."""

    def __init__(self, pids: Callable[[], List[int]]):
        self.pids = pids
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self):
        self.peak = max(self.peak, sum(rss_bytes(p) for p in set(self.pids())))

    def _run(self):
        while not self._stop.wait(0.02):
            self.sample()

    def __enter__(self):
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *_):
        self._stop.set()
        self._thread.join()


def main() -> int:  # noqa: C901 - one linear script
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--getitem-us", type=float, default=200.0)
    args = parser.parse_args()

    loops, per_call = calibrate(args.getitem_us * 1e-6)
    print(f"# heavy Python __getitem__ ({per_call * 1e6:.0f} us measured, {loops} loop iterations), "
          f"3x64x64 float32 + label, batch {BATCH}")
    print(f"python {sys.version.split()[0]}, torch {torch.__version__}, numpy {np.__version__}; nproc {os.cpu_count()}; "
          f"load average at start {os.getloadavg()[0]:.2f}", flush=True)
    dataset = Heavy(args.samples, loops)

    generators = {n: ds.GeneratorDataset(dataset, ["image", "label"], shuffle=True, num_parallel_workers=n)
                  for n in (1, 2)}
    conveyor_sets = {n: g.batch(BATCH, drop_remainder=True) for n, g in generators.items()}
    persistent = DataLoader(dataset, batch_size=BATCH, shuffle=True, drop_last=True, num_workers=2,
                            persistent_workers=True)
    me = os.getpid()
    conveyor_workers = generators[2]._workers.pids()
    long_lived = set(children(me))  # multiprocessing's fork server and resource tracker

    def conveyor_epoch(n):
        return conveyor_sets[n].create_tuple_iterator(output_numpy=True, num_epochs=1)

    def torch_epoch(n):
        return iter(DataLoader(dataset, batch_size=BATCH, shuffle=True, drop_last=True, num_workers=n))

    configs: List[Tuple[str, int, Callable]] = [
        ("conveyor", 1, conveyor_epoch), ("torch", 0, torch_epoch), ("conveyor", 2, conveyor_epoch),
        ("torch", 1, torch_epoch), ("torch", 2, torch_epoch),
        ("torch persistent_workers", 2, lambda n: iter(persistent))]
    results: Dict[Tuple[str, int], List[Tuple[float, float, int]]] = {(c, n): [] for c, n, _ in configs}
    def processes(name: str, n: int) -> List[int]:
        if name == "conveyor":
            return [me] + (conveyor_workers if n > 1 else [])
        persistent_workers = [w.pid for w in getattr(getattr(persistent, "_iterator", None), "_workers", [])]
        if name.startswith("torch persistent"):
            return [me] + persistent_workers
        return [me] + [p for p in children(me) if p not in long_lived and p not in persistent_workers]

    for round_ in range(args.rounds + 1):
        shift = round_ % len(configs)
        for name, n, make in configs[shift:] + configs[:shift]:
            with PeakSampler(lambda: processes(name, n)) as memory:
                start = time.perf_counter()
                first, count = None, 0
                for images, _labels in make(n):
                    if first is None:
                        first = time.perf_counter() - start
                        assert tuple(images.shape) == (BATCH,) + SHAPE
                    count += images.shape[0]
                elapsed = time.perf_counter() - start
            if round_:
                results[(name, n)].append((count / elapsed, first, memory.peak))
        print(f"{'warm-up' if round_ == 0 else f'round {round_}/{args.rounds}'} done", file=sys.stderr, flush=True)

    print()
    print(f"{args.rounds} rounds of one epoch ({args.samples // BATCH * BATCH} samples) per configuration, "
          f"load average at end {os.getloadavg()[0]:.2f}")
    print()
    print("| loader | workers | samples/s (median) | spread | ideal | % of ideal | time to first batch | peak RSS of its processes |")
    print("|---|---|---|---|---|---|---|---|")
    medians = {}
    for (name, n), runs in results.items():
        rates = [r for r, _, _ in runs]
        medians[(name, n)] = statistics.median(rates)
        ideal = max(n, 1) / per_call
        label = "num_parallel_workers" if name == "conveyor" else "num_workers"
        print(f"| {name} | {label}={n} | {medians[(name, n)]:.0f} | {min(rates):.0f}-{max(rates):.0f} | {ideal:.0f} | "
              f"{100 * medians[(name, n)] / ideal:.0f} % | {statistics.median(f for _, f, _ in runs) * 1000:.0f} ms | "
              f"{max(m for _, _, m in runs) / 2**20:.0f} MiB |")
    best_torch = max((k for k in medians if k[0].startswith("torch")), key=medians.get)
    print()
    print(f"conveyor 1 -> 2 workers: {medians[('conveyor', 2)] / medians[('conveyor', 1)]:.2f}x; "
          f"conveyor 2 workers / torch's best ({best_torch[0]} num_workers={best_torch[1]}): "
          f"{medians[('conveyor', 2)] / medians[best_torch]:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
