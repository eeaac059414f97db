#!/usr/bin/env python3
"""Soak: conveyor under long use must not grow (issue 10). Not a unit test: it takes minutes.

1. Epochs: the ``jpeg-aug`` and ``py-small`` workloads of ``conveyor-bench`` (their conveyor
   pipelines at num_parallel_workers=2), ``--epochs`` epochs each, one fresh iterator per epoch
   as the benchmark reads them. After each epoch the script samples the process's resident
   memory (VmRSS) and the bytes glibc's malloc has handed out and not had back (mallinfo2: the
   heap in use, which free memory that malloc keeps, or fragments, does not blur); the slope of
   a least-squares line through each series after the first epoch (which fills the pools and
   caches) is reported in KiB per epoch. A jpeg-aug batch is 38.5 MB, and how much of the
   memory freed with one malloc keeps moves RSS by megabytes from epoch to epoch: the heap in
   use is the figure a leak shows in. (malloc's only: buffers from another allocator, such as
   oneTBB's scalable allocator, show in RSS alone.)
2. Churn: ``--iterators`` iterators created, read for one batch and destroyed mid-epoch, taken
   in turn from those two pipelines and from py-small's source in worker processes
   (python_multiprocessing=True). Open file descriptors (/proc/self/fd), /dev/shm entries and
   threads (/proc/self/task) are counted after a warm-up round and again at the end.

Exits 1 when an RSS slope exceeds ``--max-rss-slope`` KiB/epoch, a heap-in-use slope exceeds
``--max-heap-slope``, or descriptors, /dev/shm entries or threads grew during the churn; prints
every figure either way.

    nice python3 bench/soak.py                     # 50 epochs, 1,000 iterators
    python3 bench/soak.py --epochs 3 --iterators 30 --samples 512 --images 64   # a smoke run
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import itertools
import json
import os
import sys
import time
from typing import Callable, Dict, List, Optional, Sequence

import conveyor.dataset as ds
from conveyor.bench import images, jpeg_aug, py_small
from conveyor.bench.loaders import conveyor_config
from conveyor.bench.workload import CONVEYOR, Config, Epoch, Workload

WORKERS = 2
#: Samples of the py-small source read in worker processes during the churn (each worker holds
#: a copy: the full 100,000 would be 1.2 GB apiece).
PROCESS_SAMPLES = 4096
#: RSS wobbles by megabytes (see above): 50 epochs of that noise give slopes of tens of KiB.
DEFAULT_MAX_SLOPE_KIB = 256.0
#: The heap in use does not wobble: 16 KiB/epoch is 16 bytes a sample of jpeg-aug.
DEFAULT_MAX_HEAP_SLOPE_KIB = 16.0
#: A joined thread may take a moment to leave the kernel's count.
SETTLE_S = 2.0


def rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS: line in /proc/self/status")


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
                 "keepcost")]


def heap_in_use_kib() -> Optional[int]:
    """Bytes malloc has handed out and not had back, over every arena and mmapped chunk (glibc
    2.33 or later); None elsewhere."""
    try:
        mallinfo2 = ctypes.CDLL("libc.so.6").mallinfo2
    except (OSError, AttributeError):
        return None
    mallinfo2.restype = _MallInfo2
    info = mallinfo2()
    return (info.uordblks + info.hblkhd) // 1024


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def shm_entries() -> int:
    return len(os.listdir("/dev/shm")) if os.path.isdir("/dev/shm") else 0


def threads() -> int:
    return len(os.listdir("/proc/self/task"))


def slope(values: Sequence[float]) -> float:
    """The slope of the least-squares line through (i, values[i]); 0 for fewer than two."""
    n = len(values)
    if n < 2:
        return 0.0
    mean_x, mean_y = (n - 1) / 2, sum(values) / n
    covariance = sum((i - mean_x) * (v - mean_y) for i, v in enumerate(values))
    variance = sum((i - mean_x) ** 2 for i in range(n))
    return covariance / variance


def conveyor_setting(workload: Workload) -> Config:
    """``workload``'s conveyor configuration at WORKERS workers."""
    (config,) = [c for c in workload.configs if c.side == CONVEYOR and c.workers == WORKERS]
    return config


def conveyor_epoch(workload: Workload) -> Callable[[], int]:
    """Reads one epoch of ``workload``'s conveyor configuration at WORKERS workers; returns its
    sample count."""
    config = conveyor_setting(workload)

    def run() -> int:
        count = 0
        for batch in config.epoch().batches:
            count += len(batch[0])
        return count

    return run


def soak_epochs(name: str, epoch: Callable[[], int], epochs: int, expected: int) -> Dict[str, object]:
    rss, heap = [], []
    start = time.monotonic()
    for number in range(epochs):
        read = epoch()
        if read != expected:
            raise RuntimeError(f"{name}: epoch {number} read {read} samples, expected {expected}")
        gc.collect()
        rss.append(rss_kib())
        heap.append(heap_in_use_kib())
    heap_slope = None if None in heap else round(slope(heap[1:]), 2)
    return {"workload": name, "epochs": epochs, "seconds": round(time.monotonic() - start, 1),
            "rss_kib": rss, "rss_slope_kib_per_epoch": round(slope(rss[1:]), 2),
            "heap_in_use_kib": heap, "heap_slope_kib_per_epoch": heap_slope}


def counts() -> Dict[str, int]:
    """Open descriptors, /dev/shm entries and threads, once the thread count stops falling (or
    after SETTLE_S)."""
    gc.collect()
    deadline = time.monotonic() + SETTLE_S
    while True:
        now = {"fds": open_fds(), "shm": shm_entries(), "threads": threads()}
        if time.monotonic() >= deadline:
            return now
        time.sleep(0.05)
        later = threads()
        if later >= now["threads"]:
            return now


def churn(epochs: List[Callable[[], Epoch]], iterators: int) -> Dict[str, object]:
    """``iterators`` iterators from ``epochs`` (each call starts one) in turn, each read for one
    output and dropped; the counts after the first round (the warm-up: thread pools and worker
    processes exist from then on) and at the end."""

    def one(start: Callable[[], Epoch]) -> None:
        epoch = start()
        next(iter(epoch.batches))
        del epoch

    turn = itertools.cycle(epochs)
    warm_up = min(len(epochs), iterators)
    for _ in range(warm_up):
        one(next(turn))
    before = counts()
    start = time.monotonic()
    for _ in range(iterators - warm_up):
        one(next(turn))
    after = counts()
    return {"iterators": iterators, "seconds": round(time.monotonic() - start, 1), "before": before, "after": after}


def main(argv: Sequence[str] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=50, help="epochs of each workload (default 50)")
    parser.add_argument("--iterators", type=int, default=1000, help="iterators created and dropped (default 1000)")
    parser.add_argument("--samples", type=int, default=py_small.DEFAULT_SAMPLES, help="py-small samples")
    parser.add_argument("--images", type=int, default=1000, help="generated JPEGs for jpeg-aug")
    parser.add_argument("--max-rss-slope", type=float, default=DEFAULT_MAX_SLOPE_KIB,
                        help=f"largest RSS slope allowed, KiB/epoch (default {DEFAULT_MAX_SLOPE_KIB:g})")
    parser.add_argument("--max-heap-slope", type=float, default=DEFAULT_MAX_HEAP_SLOPE_KIB,
                        help=f"largest heap-in-use slope allowed, KiB/epoch (default {DEFAULT_MAX_HEAP_SLOPE_KIB:g})")
    parser.add_argument("--json", help="also write every figure to this file")
    args = parser.parse_args(argv)
    if args.epochs < 2 or args.iterators < 4:
        parser.error("--epochs must be at least 2 (the slope leaves out the first) and --iterators at least 4")

    small = py_small.build(args.samples)
    jpeg = jpeg_aug.build(images.generate(args.images))
    print(f"# soak: {args.epochs} epochs each at num_parallel_workers={WORKERS}, then {args.iterators} iterators; "
          f"pid {os.getpid()}", flush=True)
    report: Dict[str, object] = {"epochs": [], "max_rss_slope_kib_per_epoch": args.max_rss_slope,
                                 "max_heap_slope_kib_per_epoch": args.max_heap_slope}
    failures = []
    for workload in (jpeg, small):
        figures = soak_epochs(workload.name, conveyor_epoch(workload), args.epochs, workload.samples_per_epoch)
        report["epochs"].append(figures)
        rss, heap, heap_slope = figures["rss_kib"], figures["heap_in_use_kib"], figures["heap_slope_kib_per_epoch"]
        print(f"{workload.name}: {args.epochs} epochs in {figures['seconds']} s; RSS after epoch 1 {rss[0] / 1024:.1f} "
              f"MiB, after the last {rss[-1] / 1024:.1f} MiB, slope after the first "
              f"{figures['rss_slope_kib_per_epoch']:+.2f} KiB/epoch; heap in use "
              + ("unknown" if heap_slope is None else
                 f"{heap[0] / 1024:.1f} -> {heap[-1] / 1024:.1f} MiB, slope {heap_slope:+.2f} KiB/epoch"), flush=True)
        if figures["rss_slope_kib_per_epoch"] > args.max_rss_slope:
            failures.append(f"{workload.name}: RSS grows {figures['rss_slope_kib_per_epoch']:.2f} KiB/epoch "
                            f"(bound {args.max_rss_slope:g})")
        if heap_slope is not None and heap_slope > args.max_heap_slope:
            failures.append(f"{workload.name}: the heap in use grows {heap_slope:.2f} KiB/epoch "
                            f"(bound {args.max_heap_slope:g})")

    # py-small's rows read in worker processes: their shared-memory slots and pipes churn too.
    in_processes = ds.GeneratorDataset(py_small.SmallImages(PROCESS_SAMPLES), ["image", "label"], shuffle=True,
                                       num_parallel_workers=WORKERS, python_multiprocessing=True)
    processes = conveyor_config(in_processes.batch(py_small.BATCH, drop_remainder=True), WORKERS, "processes",
                                in_processes)
    starts = [conveyor_setting(jpeg).epoch, conveyor_setting(small).epoch, processes.epoch]
    report["churn"] = figures = churn(starts, args.iterators)
    before, after = figures["before"], figures["after"]
    print(f"churn: {args.iterators} iterators in {figures['seconds']} s; " +
          ", ".join(f"{key} {before[key]} -> {after[key]}" for key in before), flush=True)
    for key in before:
        if after[key] > before[key]:
            failures.append(f"{key} grew from {before[key]} to {after[key]} over {args.iterators} iterators")
    for workload in (jpeg, small):
        workload.close()
    processes.close()

    report["failures"] = failures
    if args.json:
        with open(args.json, "w") as out:
            json.dump(report, out, indent=2)
    for failure in failures:
        print(f"FAIL {failure}", file=sys.stderr)
    print("soak: " + ("FAIL" if failures else "pass"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
