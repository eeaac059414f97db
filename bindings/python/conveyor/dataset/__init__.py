"""A MindSpore-compatible dataset API: ``import conveyor.dataset as ds`` in place of
``import mindspore.dataset as ds``.

    dataset = ds.GeneratorDataset(MyData(), ["data", "label"], shuffle=False)
    dataset = dataset.map(operations=fn, input_columns=["data"])
    dataset = dataset.batch(2, drop_remainder=True)
    for data, label in dataset.create_tuple_iterator(output_numpy=True):
        ...
"""

from __future__ import annotations

import atexit
import builtins
import os
import weakref
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np

from conveyor import _core
from conveyor._errors import user_facing
from conveyor._launcher import resolve_shards
from conveyor.dataset import config
from conveyor.dataset._native import NativeOperation
from conveyor.dataset._workers import MapJob, SourceJob, WorkerPool
from conveyor.dataset.samplers import (DistributedSampler, RandomSampler, Sampler, SequentialSampler,
                                       SubsetRandomSampler, WeightedRandomSampler)

__all__ = [
    "BatchInfo", "Dataset", "GeneratorDataset", "config", "zip",
    "Sampler", "SequentialSampler", "RandomSampler", "DistributedSampler", "SubsetRandomSampler",
    "WeightedRandomSampler",
]

Columns = Union[str, Sequence[str], None]

_builtin_zip = builtins.zip  # this module defines zip() as MindSpore does

# Iterators still running; stopped at exit, while their threads can still take the GIL (during
# interpreter shutdown a thread that asks for it is terminated mid-call).
_live: "weakref.WeakSet[TupleIterator]" = weakref.WeakSet()


@atexit.register
def _stop_live_iterators() -> None:
    for iterator in list(_live):
        iterator.stop()


def _random_access(source: Any) -> bool:
    return hasattr(source, "__getitem__") and hasattr(source, "__len__")


def _names(columns: Columns) -> List[str]:
    if columns is None:
        return []
    if isinstance(columns, str):
        return [columns]
    return list(columns)


def _replace(names: List[str], inputs: List[str], outputs: List[str]) -> List[str]:
    """Column names after ``outputs`` replace ``inputs``, at the first input's place."""
    first = min(names.index(c) for c in inputs)
    result: List[str] = []
    for i, name in enumerate(names):
        if i == first:
            result.extend(outputs)
        if name not in inputs:
            result.append(name)
    return result


class BatchInfo:
    """What a per_batch_map learns about the batch in hand."""

    def __init__(self, batch_num: int, epoch_num: int):
        self._batch_num, self._epoch_num = batch_num, epoch_num

    def get_batch_num(self) -> int:
        return self._batch_num

    def get_epoch_num(self) -> int:
        return self._epoch_num


class Dataset:
    """A pipeline description. Every method returns a new Dataset; nothing runs until it is
    iterated."""

    def __init__(self, core: _core.Dataset, batch_size: int = 1):
        self._core = core
        self._batch_size = batch_size
        self._init_step = 0

    def _derive(self, core: _core.Dataset, batch_size: Optional[int] = None) -> "Dataset":
        return Dataset(core, self._batch_size if batch_size is None else batch_size)

    # -- transformations ------------------------------------------------------------------------

    def map(self, operations, input_columns: Columns = None, output_columns: Columns = None,
            num_parallel_workers: Optional[int] = None, python_multiprocessing: bool = False,
            max_rowsize: Any = None, **unsupported) -> "Dataset":
        """Applies ``operations`` (a callable or a list of them, in order) to ``input_columns``
        (default: the first column). Each callable receives the columns as NumPy arrays and
        returns an array or a tuple of them; the results replace the input columns under
        ``output_columns`` (default: the input names). Operations may be native ops
        (conveyor.dataset.vision / transforms): adjacent ones run fused without the GIL. Python
        functions run on ``num_parallel_workers`` threads, holding the GIL while they run; with
        ``python_multiprocessing=True`` and more than one worker, each run of adjacent Python
        functions runs in that many worker processes instead (they must pickle; the columns
        travel to the worker in the request and come back in shared memory; ``random``,
        ``numpy.random`` and torch are seeded per row from (seed, epoch, sample, op)).
        ``max_rowsize`` is accepted and unused: shared-memory slots grow to fit the rows."""
        _reject(unsupported, "map")
        ops = list(operations) if isinstance(operations, (list, tuple)) else [operations]
        for op in ops:
            if not callable(op):
                raise TypeError(f"map operations must be callable, not {type(op).__name__}")
        if python_multiprocessing:
            ops = _in_processes(ops, num_parallel_workers)
        ops = [op._native if isinstance(op, NativeOperation) else op for op in ops]
        inputs = _names(input_columns) or self.get_col_names()[:1]
        return self._derive(self._core.map(ops, inputs, _names(output_columns), num_parallel_workers))

    def filter(self, predicate: Callable[..., bool], input_columns: Columns = None,
               num_parallel_workers: Optional[int] = None) -> "Dataset":
        """Keeps the rows for which ``predicate(*columns)`` is true (default: all columns)."""
        return self._derive(self._core.filter(predicate, _names(input_columns), num_parallel_workers))

    def batch(self, batch_size: int, drop_remainder: bool = False, num_parallel_workers: Optional[int] = None,
              per_batch_map: Optional[Callable] = None, input_columns: Columns = None,
              output_columns: Columns = None, python_multiprocessing: bool = False, max_rowsize: Any = None,
              **unsupported) -> "Dataset":
        """Stacks ``batch_size`` rows per column; the short last batch of an epoch is dropped when
        ``drop_remainder``. ``per_batch_map(*column_lists, batch_info)`` sees each batch's rows
        (one list of arrays per input column) before they are stacked and returns a tuple of
        lists, one per output column."""
        _reject(unsupported, "batch")
        return self._batch(batch_size, drop_remainder, per_batch_map, input_columns, output_columns, {})

    def padded_batch(self, batch_size: int, drop_remainder: bool = False, num_parallel_workers: Optional[int] = None,
                     pad_info: Optional[Dict[str, Tuple[Optional[Sequence[Optional[int]]], Any]]] = None) -> "Dataset":
        """batch() that pads the columns named in ``pad_info`` ({column: (shape, value)}): a
        None shape, or None in it, pads to the largest row of the batch."""
        pads = {}
        for column, (shape, value) in (pad_info or {}).items():
            pads[column] = ([] if shape is None else [-1 if s is None else int(s) for s in shape],
                            0.0 if value is None else float(value))
        return self._batch(batch_size, drop_remainder, None, None, None, pads)

    def _batch(self, batch_size, drop_remainder, per_batch_map, input_columns, output_columns, pads) -> "Dataset":
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, not {batch_size!r}")
        if per_batch_map is None:
            if input_columns is not None or output_columns is not None:
                raise ValueError("input_columns and output_columns of batch() need a per_batch_map")
            return self._derive(self._core.batch(batch_size, drop_remainder, None, [], pads), batch_size)
        names = self.get_col_names()
        inputs = _names(input_columns) or names
        outputs = _names(output_columns) or inputs
        result_names = _replace(names, inputs, outputs)
        mapper = _PerBatchMap(per_batch_map, names, inputs, outputs)
        return self._derive(self._core.batch(batch_size, drop_remainder, mapper, result_names, pads), batch_size)

    def shuffle(self, buffer_size: int) -> "Dataset":
        """A streaming shuffle through a buffer of ``buffer_size`` rows, seeded by the config
        seed and the epoch."""
        return self._derive(self._core.shuffle(buffer_size))

    def repeat(self, count: Optional[int] = None) -> "Dataset":
        """The pipeline above, ``count`` times per epoch (None or -1: forever)."""
        return self._derive(self._core.repeat(-1 if count is None else count))

    def take(self, count: int = -1) -> "Dataset":
        return self if count == -1 else self._derive(self._core.take(count))

    def skip(self, count: int) -> "Dataset":
        return self._derive(self._core.skip(count))

    def project(self, columns: Columns) -> "Dataset":
        return self._derive(self._core.project(_names(columns)))

    def rename(self, input_columns: Columns, output_columns: Columns) -> "Dataset":
        return self._derive(self._core.rename(_names(input_columns), _names(output_columns)))

    def zip(self, datasets: Union["Dataset", Sequence["Dataset"]]) -> "Dataset":
        """Rows side by side (column names must differ); ends with the shortest."""
        others = [datasets] if isinstance(datasets, Dataset) else list(datasets)
        return self._derive(self._core.zip([d._core for d in others]))

    def concat(self, datasets: Union["Dataset", Sequence["Dataset"]]) -> "Dataset":
        """This dataset's rows, then each other one's (same columns)."""
        others = [datasets] if isinstance(datasets, Dataset) else list(datasets)
        return self._derive(self._core.concat([d._core for d in others]))

    def __add__(self, other: "Dataset") -> "Dataset":
        return self.concat(other)

    # -- reading --------------------------------------------------------------------------------

    def create_tuple_iterator(self, columns: Columns = None, num_epochs: int = -1, output_numpy: bool = False,
                              do_copy: bool = True) -> "TupleIterator":
        """An iterator of lists of columns (conveyor Tensors, or NumPy arrays with
        ``output_numpy``; neither copies). Each ``for`` over it reads one epoch; ``num_epochs``
        bounds how many (-1: as many as are asked for). It starts at the step set_init_step()
        gave, or where load_state_dict() says."""
        return TupleIterator(self, _names(columns) or None, num_epochs, output_numpy)

    def create_dict_iterator(self, num_epochs: int = -1, output_numpy: bool = False,
                             do_copy: bool = True) -> "DictIterator":
        """As create_tuple_iterator, yielding {column name: value}."""
        return DictIterator(self, None, num_epochs, output_numpy)

    def set_init_step(self, init_step: int) -> None:
        """As MindSpore's: iterators created from now on start after ``init_step`` outputs
        (rows, or batches), counted from the start of epoch 0 across epochs; the epochs keep
        their numbers, so shuffles and random ops give what an uninterrupted run gives there. A
        random-access source jumps straight there; an iterable one reads and drops the rows
        before it. Needs a dataset whose epoch size is known without reading it."""
        if not isinstance(init_step, int) or init_step < 0:
            raise ValueError(f"init_step must be a non-negative integer, not {init_step!r}")
        if init_step and (self._core.get_dataset_size() in (None, 0)):
            raise ValueError("set_init_step needs a dataset whose epoch size is known without reading it (no "
                             "filter, an iterable source with a length, not endless)")
        self._init_step = init_step

    def _start_position(self) -> Tuple[int, int]:
        return divmod(self._init_step, self._core.get_dataset_size()) if self._init_step else (0, 0)

    def __iter__(self) -> "TupleIterator":
        return self.create_tuple_iterator(num_epochs=1)

    # -- facts ----------------------------------------------------------------------------------

    def get_col_names(self) -> List[str]:
        return list(self._core.column_names)

    def get_dataset_size(self) -> int:
        """Rows (or batches) per epoch; counted by reading an epoch when it cannot be known
        otherwise (after a filter, or over an iterable source). A dataset that repeats forever
        has no size: ValueError."""
        size = self._core.get_dataset_size()
        if size is None and self._core.endless():
            raise ValueError("the dataset repeats forever: an epoch has no size")
        if size is None:
            size = sum(1 for _ in self.create_tuple_iterator(num_epochs=1))
        return size

    def get_batch_size(self) -> int:
        return self._batch_size

    def output_shapes(self) -> List[List[int]]:
        try:
            return [list(shape) for shape in self._core.output_shapes()]
        except _core.PipelineError as error:
            raise _user_facing(error)

    def output_types(self) -> List[np.dtype]:
        try:
            return list(self._core.output_types())
        except _core.PipelineError as error:
            raise _user_facing(error)


class GeneratorDataset(Dataset):
    """A dataset over Python data, as mindspore.dataset.GeneratorDataset.

    ``source`` is a random-access object (``__getitem__`` and ``__len__``), an iterable
    (``__iter__``, read afresh each epoch) or a generator function. A row is a tuple with one
    value per column (a single value for one column): NumPy arrays (taken without copying: the
    batch reads them where ``__getitem__`` left them), Python scalars, bytes or str.

    ``shuffle=None`` shuffles a random-access source globally; ``sampler`` (one of this module's
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
                 shuffle: Optional[bool] = None, sampler: Any = None, num_shards: Union[int, str, None] = None,
                 shard_id: Union[int, str, None] = None, python_multiprocessing: bool = True, max_rowsize: Any = None):
        if schema is not None:
            raise ValueError("GeneratorDataset(schema=...) is not supported by conveyor; give column_names "
                             "(and column_types)")
        names = _names(column_names)
        if not names:
            raise ValueError("GeneratorDataset needs column_names")
        num_shards, shard_id = resolve_shards(num_shards, shard_id)
        if column_types is not None:
            if len(column_types) != len(names):
                raise ValueError(f"{len(column_types)} column_types for {len(names)} columns")
            source = _Typed(source, [np.dtype(t) for t in column_types])
        if isinstance(sampler, Sampler):
            sampler = sampler._engine(config.get_seed())
        elif sampler is not None and not isinstance(sampler, _core.Sampler) and not hasattr(sampler, "__iter__"):
            raise TypeError(f"sampler must be a conveyor sampler or an iterable of indices, not {type(sampler).__name__}")
        if num_parallel_workers is not None and num_parallel_workers < 1:
            raise ValueError(f"num_parallel_workers must be >= 1, not {num_parallel_workers}")
        self._workers = None
        if python_multiprocessing and (num_parallel_workers or 1) > 1 and _random_access(source):
            source = self._workers = WorkerPool(SourceJob(source), num_parallel_workers, config.get_seed())
        core = _core.generator_dataset(source, names, shuffle=shuffle, num_parallel_workers=num_parallel_workers,
                                       sampler=sampler, num_samples=num_samples, num_shards=num_shards,
                                       shard_id=shard_id)
        super().__init__(core)


def zip(datasets: Sequence[Dataset]) -> Dataset:  # noqa: A001 - MindSpore's name
    """Rows of several datasets side by side."""
    datasets = list(datasets)
    if not datasets:
        raise ValueError("zip needs at least one dataset")
    return datasets[0].zip(datasets[1:])


class TupleIterator:
    """Reads a running pipeline; each ``for`` over it is one epoch. Closing it (or dropping the
    last reference) stops the pipeline."""

    def __init__(self, dataset: Dataset, columns: Optional[List[str]], num_epochs: int, output_numpy: bool):
        names = dataset.get_col_names()
        self._names = columns or names
        unknown = [c for c in self._names if c not in names]
        if unknown:
            raise ValueError(f"no column {unknown[0]!r} (columns: {', '.join(names)})")
        self._select = [names.index(c) for c in self._names]
        self._output_numpy = output_numpy
        self._core, self._num_epochs = dataset._core, num_epochs
        self._start = dataset._start_position()
        self._start_cut: Optional[Dict[str, Any]] = None  # the stages' state there (load_state_dict)
        self._seed = config.get_seed()
        # Started by the first read, so that load_state_dict() can choose where.
        self._running: Optional[_core.Iterator] = None
        # Seconds a read waits for an output before TimeoutError (None: no limit).
        self._timeout: Optional[float] = None
        _live.add(self)

    def __iter__(self) -> "TupleIterator":
        return self

    def __next__(self):
        columns = self._read()
        if columns is None:  # the end of an epoch, or of the last one
            raise StopIteration
        return self._convert([columns[i] for i in self._select])

    def _read(self) -> Optional[list]:
        if self._running is None:
            self._running = self._core.iterate(self._num_epochs, *self._start, self._start_cut)
        try:
            columns = self._running.next(self._timeout)
        except _core.PipelineError as error:
            self.stop()
            raise _user_facing(error)
        except TimeoutError:
            raise  # the pipeline is still running: the iterator can be read again
        except BaseException:
            self.stop()
            raise
        return columns

    def _convert(self, columns: list):
        return [np.asarray(c) for c in columns] if self._output_numpy else columns

    def stop(self) -> None:
        """Stops the pipeline and waits for its threads."""
        if self._running is not None:
            self._running.close()

    def stats(self) -> List[Dict[str, Any]]:
        """Per-stage counters so far (rows, busy and waiting seconds), upstream first."""
        return [] if self._running is None else self._running.stats()

    def state_dict(self) -> Dict[str, Any]:
        """Where this iterator is, as a small JSON-serializable dict: the epoch and the outputs
        read of it (the next epoch and 0 after an epoch's end), the seed, the pipeline's
        signature and, in the middle of an epoch, ``cut``: where the stages stand (the source
        rows read, a count per take, batch, shuffle buffer and repeat stage, and what a shuffle
        buffer holds: its rows' source positions and its generator's state). load_state_dict()
        on an iterator of the same pipeline continues from there."""
        if self._running is None:
            (epoch, outputs), cut = self._start, self._start_cut
        else:
            epoch, outputs, cut = self._running.state
        return {"format": _STATE_FORMAT, "pipeline": self._core.signature, "seed": self._seed, "epoch": epoch,
                "outputs": outputs, "cut": cut}

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        """Continues from ``state`` (from state_dict()): the outputs from here on are
        bit-identical to those an uninterrupted run gives after that point, shuffles and random
        ops included, with any worker count, through filter, take, skip, repeat, per_batch_map
        and a shuffle buffer too. A random-access source jumps straight to the position (and
        reads a shuffle buffer's rows again by index, each in its whole chunk of 16 when worker
        processes read the source); an iterable one is read from its start up
        to the position, the rows before it dropped but those a shuffle buffer held. A pipeline
        already started is stopped and started again there. Raises ValueError when the state
        comes from another pipeline or seed, or when it is mid-epoch in a pipeline that cannot
        resume there (zip or concat; a shuffle buffer over a filter, batch, take, skip, repeat or
        another shuffle buffer; more than 4 take, batch, shuffle and repeat stages; error samples
        mode "replace"), naming the stage. A refused state leaves the iterator where it was."""
        check_state(state, self._core.signature, self._seed)
        start, cut = (_count(state, "epoch"), _count(state, "outputs")), state.get("cut")
        here = self.state_dict()
        self.stop()  # first: a new pipeline would wait for the threads that user code holds
        try:
            # Started now, so that a position the pipeline cannot reach fails here, not at a read.
            self._running = self._core.iterate(self._num_epochs, *start, cut)
        except BaseException:
            # Refused: the next read starts again where this iterator was.
            self._running, self._start, self._start_cut = None, (here["epoch"], here["outputs"]), here["cut"]
            raise
        self._start, self._start_cut = start, cut


_STATE_FORMAT = "conveyor.iterator/1"


def _count(state: Dict[str, Any], key: str) -> int:
    """``state[key]``, which must be a non-negative int (ValueError otherwise)."""
    value = state.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"the state's {key!r} is {value!r}, not a count (an int >= 0)")
    return value


def check_state(state: Any, signature: str, seed: int) -> None:
    """Raises ValueError unless ``state`` is an iterator state of the pipeline with
    ``signature``, saved under ``seed``."""
    if not isinstance(state, dict) or state.get("format") != _STATE_FORMAT:
        raise ValueError(f"not a conveyor iterator state (expected a dict with format {_STATE_FORMAT!r})")
    if state.get("pipeline") != signature:
        raise ValueError(f"the state was saved by another pipeline: {state.get('pipeline')!r}; this one is "
                         f"{signature!r}")
    if state.get("seed") != seed:
        raise ValueError(f"the state was saved with seed {state.get('seed')}; this pipeline runs with seed {seed}: "
                         f"call conveyor.dataset.config.set_seed({state.get('seed')}) before building it")


class DictIterator(TupleIterator):
    """A TupleIterator yielding {column name: value}."""

    def _convert(self, columns: list):
        return dict(_builtin_zip(self._names, super()._convert(columns)))


class _PerBatchMap:
    """Adapts MindSpore's per_batch_map(*column_lists, batch_info) -> tuple of lists to the
    engine's rows -> rows."""

    def __init__(self, fn: Callable, names: List[str], inputs: List[str], outputs: List[str]):
        self.fn, self.outputs = fn, outputs
        self.input_index = [names.index(c) for c in inputs]
        self.first = min(self.input_index)
        self.kept = [i for i in range(len(names)) if i not in self.input_index]

    def __call__(self, rows: List[tuple], batch_num: int, epoch_num: int) -> List[tuple]:
        columns = [list(column) for column in _builtin_zip(*rows)]
        result = self.fn(*(columns[i] for i in self.input_index), BatchInfo(batch_num, epoch_num))
        if not isinstance(result, tuple):
            result = (result,)
        if len(result) != len(self.outputs):
            count = f"{len(result)} column" + ("" if len(result) == 1 else "s")
            raise ValueError(f"per_batch_map returned {count}; output_columns names {len(self.outputs)}")
        produced = [list(column) for column in result]
        count = len(produced[0])
        if any(len(column) != count for column in produced):
            raise ValueError("per_batch_map returned columns of different lengths")
        if self.kept and count != len(rows):
            raise ValueError(f"per_batch_map returned {count} rows for a batch of {len(rows)} while other columns "
                             "pass through")
        out_columns: List[list] = []
        for i in range(len(columns)):
            if i == self.first:
                out_columns.extend(produced)
            if i in self.kept:
                out_columns.append(columns[i])
        return list(_builtin_zip(*out_columns))


class _Typed:
    """A source whose columns are converted to fixed dtypes (GeneratorDataset's column_types)."""

    def __init__(self, source, dtypes: List[np.dtype]):
        self.source, self.dtypes = source, dtypes
        if hasattr(source, "__getitem__") and hasattr(source, "__len__"):
            self.__class__ = _TypedRandomAccess

    def _convert(self, row):
        values = row if isinstance(row, tuple) else (row,)
        return tuple(np.asarray(v, dtype=t) for v, t in _builtin_zip(values, self.dtypes))

    def __iter__(self):
        iterable = self.source if hasattr(self.source, "__iter__") else self.source()
        return (self._convert(row) for row in iterable)


class _TypedRandomAccess(_Typed):
    def __getitem__(self, index):
        return self._convert(self.source[index])

    def __len__(self):
        return len(self.source)


def _in_processes(ops: List[Any], workers: Optional[int]) -> List[Any]:
    """`ops` with each run of adjacent Python functions replaced by a pool of `workers`
    processes applying them (a WorkerPool over a MapJob); unchanged for a single worker."""
    count = workers or _core.get_config()["num_parallel_workers"] or os.cpu_count() or 1
    if count < 2:
        return ops
    out: List[Any] = []
    run: List[Any] = []
    for op in ops + [None]:
        if op is not None and not isinstance(op, NativeOperation):
            run.append(op)
            continue
        if run:
            out.append(WorkerPool(MapJob(run), count, config.get_seed()))
            run = []
        if op is not None:
            out.append(op)
    return out


def _user_facing(error: _core.PipelineError) -> BaseException:
    exception = user_facing(error)
    exception.__suppress_context__ = True  # the chain to the original is __cause__
    return exception


def _reject(unsupported: Dict[str, Any], method: str) -> None:
    if unsupported:
        raise TypeError(f"{method}() got arguments conveyor does not support: {', '.join(sorted(unsupported))}")

