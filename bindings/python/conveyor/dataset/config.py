"""Process-wide defaults, as ``mindspore.dataset.config``: pipelines started after a change use
the new value; running ones keep theirs."""

from __future__ import annotations

import enum
import os
from typing import Union

from conveyor import _core


class ErrorSamplesMode(enum.Enum):
    """What a pipeline does with a sample that fails in its source's ``__getitem__``, a map or a
    filter (MindSpore's names)."""

    #: Raise the error (the default).
    RETURN = "raise"
    #: Drop the sample.
    SKIP = "skip"
    #: Use a copy of the last good sample before it in the epoch (or the first after it).
    REPLACE = "replace"


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


def set_rows_per_task(rows: int) -> None:
    """Rows a parallel stage hands a worker at once, at most 65,536; 0 (the default) sizes each
    task to about 200 us of work from the measured cost of a row. Set it only to study the
    engine (a multiprocessing source reads 16-row chunks whatever it is)."""
    if not isinstance(rows, int) or isinstance(rows, bool) or rows < 0:
        raise ValueError(f"rows_per_task must be a non-negative integer, not {rows!r}")
    _core.set_config(rows_per_task=rows)


def get_rows_per_task() -> int:
    """0: tasks sized from the measured cost of a row."""
    return _core.get_config()["rows_per_task"]


def set_error_samples_mode(mode: Union[ErrorSamplesMode, str]) -> None:
    """Raise, skip or replace samples that fail (an ``ErrorSamplesMode`` or "raise", "skip",
    "replace"). A skipped or replaced sample is counted in its stage's ``errors`` in
    ``iterator.stats()``, and the first of each iterator is written to stderr. Failures of whole
    batches (per_batch_map, collation) and of the sampler are always raised."""
    value = mode.value if isinstance(mode, ErrorSamplesMode) else mode
    if value not in ("raise", "skip", "replace"):
        raise ValueError(f"error_samples_mode must be an ErrorSamplesMode or 'raise', 'skip', 'replace', not {mode!r}")
    _core.set_config(error_samples_mode=value)


def get_error_samples_mode() -> ErrorSamplesMode:
    return ErrorSamplesMode(_core.get_config()["error_samples_mode"])
