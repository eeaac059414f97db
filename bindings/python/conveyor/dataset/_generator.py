"""GeneratorDataset: a dataset over Python data (a random-access object, an iterable or a
generator function), and the adaptation of such a source to the engine: column_types
conversion, worker processes."""

from __future__ import annotations

from typing import Any, List, Optional, Sequence, Union

import numpy as np

from conveyor import _core
from conveyor._launcher import resolve_shards
from conveyor.dataset import config
from conveyor.dataset._columns import Columns, as_names
from conveyor.dataset._dataset import Dataset
from conveyor.dataset._workers import SourceJob, WorkerPool
from conveyor.dataset.samplers import Sampler


class GeneratorDataset(Dataset):
    """A dataset over Python data, as mindspore.dataset.GeneratorDataset.

    ``source`` is a random-access object (``__getitem__`` and ``__len__``), an iterable
    (``__iter__``, read afresh each epoch) or a generator function. A row is a tuple with one
    value per column (a single value for one column): NumPy arrays (taken without copying: the
    batch reads them where ``__getitem__`` left them), Python scalars, bytes or str.

    ``shuffle=None`` shuffles a random-access source globally; ``sampler`` (one of conveyor.dataset's
    samplers, or any iterable of indices) excludes ``shuffle``, ``num_shards`` and ``shard_id``.
    With ``num_parallel_workers`` > 1, a random-access source's ``__getitem__`` runs in that many
    worker processes (``python_multiprocessing=True``, the default, as in MindSpore: the source
    must pickle), its arrays coming back through shared memory without a copy, and ``random``,
    ``numpy.random`` and torch seeded per chunk of 16 rows from (seed, epoch, their indices); or in that many
    threads, under the GIL (``python_multiprocessing=False``, and always for iterables and
    generators). Processes pay off for a heavy ``__getitem__``; one that only reads bytes or
    indexes arrays is faster with ``python_multiprocessing=False``. ``max_rowsize`` is accepted
    and unused: shared-memory slots grow to fit the rows.
    ``column_types`` converts each column with ``np.asarray(value, dtype)``.

    ``num_shards`` and ``shard_id`` make this process read one shard of a random-access source
    (every shard the same length, padded by wrapping around; the shuffle the same permutation
    on every shard for a given seed and epoch). ``num_shards="auto", shard_id="auto"`` take
    them from the launcher: torchrun's ``RANK``/``WORLD_SIZE``, else Open MPI's
    ``OMPI_COMM_WORLD_RANK``/``OMPI_COMM_WORLD_SIZE``, else one shard (no sharding).
    """

    def __init__(self, source, column_names: Columns = None, column_types: Optional[Sequence[Any]] = None,
                 schema: Any = None, num_samples: Optional[int] = None, num_parallel_workers: int = 1,
                 shuffle: Optional[bool] = None, sampler: Any = None,
                 num_shards: Union[int, str, None] = None, shard_id: Union[int, str, None] = None,
                 python_multiprocessing: bool = True, max_rowsize: Any = None):
        if schema is not None:
            raise ValueError("GeneratorDataset(schema=...) is not supported by conveyor; give column_names "
                             "(and column_types)")
        names = as_names(column_names)
        if not names:
            raise ValueError("GeneratorDataset needs column_names")
        num_shards, shard_id = resolve_shards(num_shards, shard_id)
        if column_types is not None:
            if len(column_types) != len(names):
                raise ValueError(f"{len(column_types)} column_types for {len(names)} columns")
            source = _Typed(source, [np.dtype(t) for t in column_types])
        if isinstance(sampler, Sampler):
            sampler = sampler._engine(config.get_seed())
        elif (sampler is not None and not isinstance(sampler, _core.Sampler)
              and not hasattr(sampler, "__iter__")):
            raise TypeError("sampler must be a conveyor sampler or an iterable of indices, not "
                            f"{type(sampler).__name__}")
        if num_parallel_workers is not None and num_parallel_workers < 1:
            raise ValueError(f"num_parallel_workers must be >= 1, not {num_parallel_workers}")
        self._workers = None
        if python_multiprocessing and (num_parallel_workers or 1) > 1 and _random_access(source):
            source = self._workers = WorkerPool(SourceJob(source), num_parallel_workers, config.get_seed())
        core = _core.generator_dataset(source, names, shuffle=shuffle,
                                       num_parallel_workers=num_parallel_workers, sampler=sampler,
                                       num_samples=num_samples, num_shards=num_shards, shard_id=shard_id)
        super().__init__(core)


def _random_access(source: Any) -> bool:
    return hasattr(source, "__getitem__") and hasattr(source, "__len__")


class _Typed:
    """A source whose columns are converted to fixed dtypes (GeneratorDataset's column_types)."""

    def __init__(self, source, dtypes: List[np.dtype]):
        self.source, self.dtypes = source, dtypes
        if hasattr(source, "__getitem__") and hasattr(source, "__len__"):
            self.__class__ = _TypedRandomAccess

    def _convert(self, row):
        values = row if isinstance(row, tuple) else (row,)
        return tuple(np.asarray(v, dtype=t) for v, t in zip(values, self.dtypes))

    def __iter__(self):
        iterable = self.source if hasattr(self.source, "__iter__") else self.source()
        return (self._convert(row) for row in iterable)


class _TypedRandomAccess(_Typed):
    def __getitem__(self, index):
        return self._convert(self.source[index])

    def __len__(self):
        return len(self.source)
