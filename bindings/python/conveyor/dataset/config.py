"""Process-wide defaults, as ``mindspore.dataset.config``: pipelines started after a change use
the new value; running ones keep theirs."""

from __future__ import annotations

import os

from conveyor import _core


def set_seed(seed: int) -> None:
    """Seed of shuffles and samplers that were given none."""
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, not {seed!r}")
    _core.set_config(seed=seed)


def get_seed() -> int:
    return _core.get_config()["seed"]


def set_prefetch_size(size: int) -> None:
    """Outputs prepared ahead of the consumer."""
    if not isinstance(size, int) or size < 1:
        raise ValueError(f"prefetch_size must be a positive integer, not {size!r}")
    _core.set_config(prefetch_size=size)


def get_prefetch_size() -> int:
    return _core.get_config()["prefetch_size"]


def set_num_parallel_workers(num: int) -> None:
    """Workers per parallel stage where a pipeline names none."""
    if not isinstance(num, int) or num < 1:
        raise ValueError(f"num_parallel_workers must be a positive integer, not {num!r}")
    _core.set_config(num_parallel_workers=num)


def get_num_parallel_workers() -> int:
    """The default worker count (the CPUs this process may run on, unless set)."""
    return _core.get_config()["num_parallel_workers"] or len(os.sched_getaffinity(0))
