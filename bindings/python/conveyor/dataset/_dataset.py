"""Dataset: the immutable description of a pipeline, its transformations (map, filter, batch,
shuffle, repeat, take, skip, project, rename, zip, concat), the iterators that read it, and the
facts about it (columns, size, shapes, types); and the module-level zip()."""

from __future__ import annotations

import os
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from conveyor import _core
from conveyor.dataset import config
from conveyor.dataset._columns import Columns, as_names, replace_columns
from conveyor.dataset._errors import user_facing_error
from conveyor.dataset._iterators import DictIterator, TupleIterator
from conveyor.dataset._native import NativeOperation
from conveyor.dataset._per_batch_map import PerBatchMap
from conveyor.dataset._workers import MapJob, WorkerPool


class Dataset:
    """A pipeline description. Every method returns a new Dataset; nothing runs until it is
    iterated."""

    def __init__(self, core: _core.Dataset, batch_size: int = 1):
        self._core = core
        self._batch_size = batch_size
        self._init_step = 0

    def _derive(self, core: _core.Dataset, batch_size: Optional[int] = None) -> Dataset:
        return Dataset(core, self._batch_size if batch_size is None else batch_size)

    # -- transformations ------------------------------------------------------------------------

    def map(self, operations, input_columns: Columns = None, output_columns: Columns = None,
            num_parallel_workers: Optional[int] = None, python_multiprocessing: bool = False,
            max_rowsize: Any = None, **unsupported) -> Dataset:
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
        inputs = as_names(input_columns) or self.get_col_names()[:1]
        return self._derive(self._core.map(ops, inputs, as_names(output_columns), num_parallel_workers))

    def filter(self, predicate: Callable[..., bool], input_columns: Columns = None,
               num_parallel_workers: Optional[int] = None) -> Dataset:
        """Keeps the rows for which ``predicate(*columns)`` is true (default: all columns)."""
        return self._derive(self._core.filter(predicate, as_names(input_columns), num_parallel_workers))

    def batch(self, batch_size: int, drop_remainder: bool = False, num_parallel_workers: Optional[int] = None,
              per_batch_map: Optional[Callable] = None, input_columns: Columns = None,
              output_columns: Columns = None, python_multiprocessing: bool = False, max_rowsize: Any = None,
              **unsupported) -> Dataset:
        """Stacks ``batch_size`` rows per column; the short last batch of an epoch is dropped when
        ``drop_remainder``. ``per_batch_map(*column_lists, batch_info)`` sees each batch's rows
        (one list of arrays per input column) before they are stacked and returns a tuple of
        lists, one per output column."""
        _reject(unsupported, "batch")
        return self._batch(batch_size, drop_remainder, per_batch_map, input_columns, output_columns, {})

    def padded_batch(self, batch_size: int, drop_remainder: bool = False,
                     num_parallel_workers: Optional[int] = None,
                     pad_info: Optional[Dict[str, Tuple[Optional[Sequence[Optional[int]]], Any]]] = None
                     ) -> Dataset:
        """batch() that pads the columns named in ``pad_info`` ({column: (shape, value)}): a
        None shape, or None in it, pads to the largest row of the batch."""
        pads = {}
        for column, (shape, value) in (pad_info or {}).items():
            pads[column] = ([] if shape is None else [-1 if s is None else int(s) for s in shape],
                            0.0 if value is None else float(value))
        return self._batch(batch_size, drop_remainder, None, None, None, pads)

    def _batch(self, batch_size, drop_remainder, per_batch_map, input_columns, output_columns,
               pads) -> Dataset:
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, not {batch_size!r}")
        if per_batch_map is None:
            if input_columns is not None or output_columns is not None:
                raise ValueError("input_columns and output_columns of batch() need a per_batch_map")
            return self._derive(self._core.batch(batch_size, drop_remainder, None, [], pads), batch_size)
        names = self.get_col_names()
        inputs = as_names(input_columns) or names
        outputs = as_names(output_columns) or inputs
        result_names = replace_columns(names, inputs, outputs)
        mapper = PerBatchMap(per_batch_map, names, inputs, outputs)
        return self._derive(self._core.batch(batch_size, drop_remainder, mapper, result_names, pads),
                            batch_size)

    def shuffle(self, buffer_size: int) -> Dataset:
        """A streaming shuffle through a buffer of ``buffer_size`` rows, seeded by the config
        seed and the epoch."""
        return self._derive(self._core.shuffle(buffer_size))

    def repeat(self, count: Optional[int] = None) -> Dataset:
        """The pipeline above, ``count`` times per epoch (None or -1: forever)."""
        return self._derive(self._core.repeat(-1 if count is None else count))

    def take(self, count: int = -1) -> Dataset:
        return self if count == -1 else self._derive(self._core.take(count))

    def skip(self, count: int) -> Dataset:
        return self._derive(self._core.skip(count))

    def project(self, columns: Columns) -> Dataset:
        return self._derive(self._core.project(as_names(columns)))

    def rename(self, input_columns: Columns, output_columns: Columns) -> Dataset:
        return self._derive(self._core.rename(as_names(input_columns), as_names(output_columns)))

    def zip(self, datasets: Union[Dataset, Sequence[Dataset]]) -> Dataset:
        """Rows side by side (column names must differ); ends with the shortest."""
        others = [datasets] if isinstance(datasets, Dataset) else list(datasets)
        return self._derive(self._core.zip([d._core for d in others]))

    def concat(self, datasets: Union[Dataset, Sequence[Dataset]]) -> Dataset:
        """This dataset's rows, then each other one's (same columns)."""
        others = [datasets] if isinstance(datasets, Dataset) else list(datasets)
        return self._derive(self._core.concat([d._core for d in others]))

    def __add__(self, other: Dataset) -> Dataset:
        return self.concat(other)

    # -- reading --------------------------------------------------------------------------------

    def create_tuple_iterator(self, columns: Columns = None, num_epochs: int = -1, output_numpy: bool = False,
                              do_copy: bool = True) -> TupleIterator:
        """An iterator of lists of columns (conveyor Tensors, or NumPy arrays with
        ``output_numpy``; neither copies). Each ``for`` over it reads one epoch; ``num_epochs``
        bounds how many (-1: as many as are asked for). It starts at the step set_init_step()
        gave, or where load_state_dict() says."""
        return TupleIterator(self, as_names(columns) or None, num_epochs, output_numpy)

    def create_dict_iterator(self, num_epochs: int = -1, output_numpy: bool = False,
                             do_copy: bool = True) -> DictIterator:
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

    def __iter__(self) -> TupleIterator:
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
            raise user_facing_error(error)

    def output_types(self) -> List[np.dtype]:
        try:
            return list(self._core.output_types())
        except _core.PipelineError as error:
            raise user_facing_error(error)


def zip(datasets: Sequence[Dataset]) -> Dataset:  # noqa: A001 - MindSpore's name
    """Rows of several datasets side by side."""
    datasets = list(datasets)
    if not datasets:
        raise ValueError("zip needs at least one dataset")
    return datasets[0].zip(datasets[1:])


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


def _reject(unsupported: Dict[str, Any], method: str) -> None:
    if unsupported:
        raise TypeError(f"{method}() got arguments conveyor does not support: "
                        f"{', '.join(sorted(unsupported))}")
