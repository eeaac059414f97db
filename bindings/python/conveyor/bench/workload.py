"""What a workload hands the runner: configurations to time side by side, and bounds.

A :class:`Config` is one loader at one setting (conveyor or torch, a worker count); each call of
its ``epoch`` reads one epoch from a fresh iterator. A :class:`Bound` is a floor or ceiling the
table shows beside them (the bare ``__getitem__`` loop, memcpy of the same bytes, the ideal of N
workers): it either runs (``run`` returns the seconds for ``samples`` samples) or is computed
from a measured figure (``rate``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence

#: The two sides of the comparison.
CONVEYOR, TORCH = "conveyor", "torch"


@dataclass
class Epoch:
    """One epoch being read: ``batches`` yields column sequences whose first column's leading
    dimension is the batch size; ``stats``, when the loader has them (conveyor), returns the
    per-stage counters after the epoch."""

    batches: Iterable[Sequence[Any]]
    stats: Optional[Callable[[], List[dict]]] = None


@dataclass
class Config:
    """A loader at one setting. ``epoch()`` starts one epoch; ``pids()`` names the long-lived
    processes this configuration owns (worker pools kept across epochs), which the memory and
    CPU figures of the other configurations leave out; ``close()`` lets them go. ``warm_up`` is
    False for a loader that starts everything afresh each epoch (worker processes included),
    which a warm-up read before its epoch would not warm."""

    side: str
    workers: int
    setting: str
    epoch: Callable[[], Epoch]
    pids: Callable[[], List[int]] = field(default=lambda: [])
    close: Callable[[], None] = field(default=lambda: None)
    warm_up: bool = True

    @property
    def label(self) -> str:
        return f"{self.side} {self.setting}"


@dataclass
class Bound:
    """A reference figure in samples/s: measured by ``run()`` (seconds for ``samples``) in every
    round, or derived once the rounds are over by ``rate(measured)``, where ``measured`` maps
    each measured bound's name to its rates, one per round."""

    name: str
    samples: int = 0
    run: Optional[Callable[[], float]] = None
    rate: Optional[Callable[[Dict[str, List[float]]], float]] = None


@dataclass
class Workload:
    """A named workload: its configurations, its bounds, and what a sample is. ``sample_name(i)``,
    when given, says where sample i comes from (a file), for error messages."""

    name: str
    description: str
    samples_per_epoch: int
    bytes_per_sample: int
    configs: List[Config]
    bounds: List[Bound] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)
    sample_name: Optional[Callable[[int], str]] = None

    def close(self) -> None:
        for config in self.configs:
            config.close()
