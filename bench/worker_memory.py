#!/usr/bin/env python3
"""Memory of the worker processes over a dataset that holds 1,000,000 Python objects (torch
issue 13246: forked workers touch the refcounts of a big list and copy its pages one by one).

The dataset keeps a list of 1,000,000 (int, str) tuples; __getitem__ reads one and returns a
16-float array. Each loader reads 100,000 random samples (enough to touch nearly every page of
the list) with 2 workers, batch 256; at the last batch the script sums RSS and PSS (proportional
set size: shared pages divided among the processes sharing them) over the main process and that
loader's workers, from /proc/<pid>/smaps_rollup.

    python3 bench/worker_memory.py
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, RandomSampler

import conveyor.dataset as ds
from conveyor.bench.processes import children

ITEMS = 1_000_000
SAMPLES = 100_000
BATCH = 256


class ManyObjects(Dataset):
    def __init__(self):
        self.items = [(i, str(i)) for i in range(ITEMS)]

    def __len__(self):
        return len(self.items)

    def __getitem__(self, index):
        number, _text = self.items[index]
        return np.full(16, number, dtype=np.float32), index


def memory_mib(pids):
    rss = pss = 0
    for pid in pids:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Rss:"):
                    rss += int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1])
    return rss / 1024, pss / 1024


def main() -> int:
    me = os.getpid()
    dataset = ManyObjects()
    print(f"# {ITEMS:,} (int, str) tuples in a list; {SAMPLES:,} random samples, 2 workers, batch {BATCH}")
    print(f"main process alone: RSS {memory_mib([me])[0]:.0f} MiB; python {sys.version.split()[0]}, "
          f"torch {torch.__version__}")
    before = set(children(me))

    data = ds.GeneratorDataset(dataset, ["x", "i"], num_samples=SAMPLES, num_parallel_workers=2).batch(BATCH)
    start = time.perf_counter()
    batches = list(data.create_tuple_iterator(output_numpy=True, num_epochs=1))
    conveyor_s = time.perf_counter() - start
    pool = [p for p in children(me) if p not in before]  # the fork server
    conveyor_pids = [me] + [c for p in pool for c in children(p)]
    conveyor_rss, conveyor_pss = memory_mib(conveyor_pids)
    assert sum(len(b[0]) for b in batches) == SAMPLES
    del batches, data

    loader = DataLoader(dataset, batch_size=BATCH, num_workers=2,
                        sampler=RandomSampler(dataset, replacement=False, num_samples=SAMPLES))
    start = time.perf_counter()
    count = 0
    for images, _ in loader:
        count += len(images)
        if count >= SAMPLES - BATCH:
            torch_pids = [me] + [p for p in children(me) if p not in before and p not in pool]
            torch_rss, torch_pss = memory_mib(torch_pids)
    torch_s = time.perf_counter() - start

    print()
    print("| loader | processes | RSS, summed | PSS, summed | seconds |")
    print("|---|---|---|---|---|")
    print(f"| conveyor, 2 worker processes (forkserver) | {len(conveyor_pids)} | {conveyor_rss:.0f} MiB | "
          f"{conveyor_pss:.0f} MiB | {conveyor_s:.1f} |")
    print(f"| torch DataLoader, num_workers=2 (fork) | {len(torch_pids)} | {torch_rss:.0f} MiB | {torch_pss:.0f} MiB | "
          f"{torch_s:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
