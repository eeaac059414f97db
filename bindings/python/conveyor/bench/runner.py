"""Runs workloads: rounds in which every configuration reads one whole epoch, interleaved (the
order rotates each round, so no configuration always runs first or right after the same
neighbour), and every bound is measured once.

Each measurement follows a warm-up of its own: a configuration reads its first WARMUP_BATCHES
batches from another iterator (unless it starts afresh each epoch, workers and all: see
``Config.warm_up``), a bound runs once untimed; then the runner waits for the work that left
behind to end (:func:`conveyor.bench.processes.settle`). What the previous configuration left
is paid there, not in the measurement: cold caches, worker processes starting, prefetched
batches still being made, and pages a forked worker shares with this process (a torch
DataLoader forks its workers from this process, after which this process's first write to each
page it had before the fork is a copy-on-write fault: ~20 % of jpeg-aug's next epoch).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence

from conveyor.bench.processes import TreeMeter, descendants, settle
from conveyor.bench.workload import Config, Workload

WARMUP_BATCHES = 3


class WorkloadError(RuntimeError):
    """A configuration failed while reading its data: the message names the workload, the
    configuration and, where the loader says which, the sample (and its file); the loader's own
    exception is the cause."""


@dataclass
class EpochResult:
    """One epoch of one configuration: samples read, wall seconds, seconds to the first batch,
    peak summed RSS of its processes (bytes), their CPU seconds, and the per-stage counters
    (conveyor only; empty otherwise)."""

    samples: int
    seconds: float
    first_batch_s: float
    peak_rss: int
    cpu_s: float
    stats: List[dict] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.samples / self.seconds


@dataclass
class WorkloadResult:
    """Every measured epoch of every configuration (by label) and every bound's rates."""

    workload: Workload
    epochs: Dict[str, List[EpochResult]]
    bounds: Dict[str, List[float]]


def _leading(column) -> int:
    shape = column.shape
    return int(shape[0]) if len(shape) else 1


def run_epoch(config: Config, foreign: Callable[[], set], max_batches: Optional[int] = None) -> EpochResult:
    """Reads one epoch of ``config`` from a fresh iterator, its start-up included (or its first
    ``max_batches`` batches, then drops the iterator). Memory and CPU cover this process and its
    descendants, less ``foreign()`` (other configurations' pools)."""
    me = os.getpid()

    def pids():
        others = foreign()
        return [me] + [p for p in descendants(me) if p not in others]

    with TreeMeter(pids) as meter:
        start = time.perf_counter()
        epoch = config.epoch()
        first: Optional[float] = None
        samples = batches = 0
        for columns in epoch.batches:
            if first is None:
                first = time.perf_counter() - start
            samples += _leading(columns[0])
            batches += 1
            if batches == max_batches:
                break
        seconds = time.perf_counter() - start
    if not samples:
        raise RuntimeError(f"{config.label} read no samples")
    stats = epoch.stats() if epoch.stats else []
    return EpochResult(samples, seconds, first, meter.peak_rss, meter.cpu_s, stats)


def run_workload(workload: Workload, rounds: int, progress: Callable[[str], None] = lambda _: None) -> WorkloadResult:
    """Runs ``rounds`` measured rounds of ``workload`` (see the module docstring).
    ``progress(label)`` is called after each step (a progress bar's update)."""
    if rounds < 1:
        raise ValueError(f"rounds must be at least 1, not {rounds}")
    configs: Sequence[Config] = workload.configs
    epochs: Dict[str, List[EpochResult]] = {c.label: [] for c in configs}
    bounds: Dict[str, List[float]] = {b.name: [] for b in workload.bounds if b.run is not None}

    def foreign_to(config: Config) -> Callable[[], set]:
        return lambda: {p for other in configs if other is not config for p in other.pids()}

    for round_ in range(rounds):
        shift = round_ % len(configs)
        for config in list(configs[shift:]) + list(configs[:shift]):
            try:
                if config.warm_up:
                    run_epoch(config, foreign_to(config), WARMUP_BATCHES)
                settle()
                epochs[config.label].append(run_epoch(config, foreign_to(config)))
            except Exception as error:
                raise WorkloadError(_describe(workload, config, error)) from error
            progress(config.label)
        for bound in workload.bounds:
            if bound.run is not None:
                bound.run()  # its warm-up
                settle()
                bounds[bound.name].append(bound.samples / bound.run())
                progress(bound.name)
    for bound in workload.bounds:
        if bound.rate is not None:
            bounds[bound.name] = [bound.rate(bounds)]
    return WorkloadResult(workload, epochs, bounds)


def _describe(workload: Workload, config: Config, error: BaseException) -> str:
    where = f"{workload.name}, {config.label}"
    sample = getattr(error, "sample", None)
    if sample is not None and workload.sample_name is not None:
        where += f", sample {sample} ({workload.sample_name(sample)})"
    return f"{where}: {type(error).__name__}: {error}"


def steps(workload: Workload, rounds: int) -> int:
    """How many times run_workload calls ``progress`` (a progress bar's total)."""
    measured_bounds = sum(1 for b in workload.bounds if b.run is not None)
    return rounds * (len(workload.configs) + measured_bounds)
