"""conveyor.torch.DataLoader: torch.utils.data.DataLoader's interface over conveyor's engine."""

from __future__ import annotations

import math
import pickle
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple, Union

import torch
import torch.utils.data

import conveyor.dataset as ds
from conveyor import _core
from conveyor._launcher import resolve_shards
from conveyor.dataset._workers import SourceJob, WorkerPool
from conveyor.torch._layout import Layout
from conveyor.torch._sources import BatchIndices, IterableSource, MapSource, fetch


class DataLoader:
    """Batches of a torch dataset, read by conveyor's engine; a drop-in for
    ``torch.utils.data.DataLoader`` with its arguments and their meanings.

    * ``dataset``: map-style (``__getitem__`` or ``__getitems__``, and ``__len__``) or iterable
      (``torch.utils.data.IterableDataset``, or any object with ``__iter__`` and no
      ``__getitem__``). A sample is a tensor, NumPy array or scalar, number, str or bytes, or
      tuples, lists, named tuples and dicts of them; every sample has the first one's
      structure. The first sample's structure is read (item 0, or the first of an iteration)
      when the first epoch starts.
    * Batches come out as ``default_collate`` gives them (tensors stacked, numbers as tensors,
      strings in tuples, tuples as lists, dicts and named tuples kept), the tensors sharing the
      engine's batch buffer (DLPack, no copy). A ``collate_fn`` receives the list of samples,
      each rebuilt as the dataset returned it; with ``batch_size=None`` it receives each sample
      (default: ``default_convert``).
    * ``shuffle``, ``sampler`` (any iterable of indices, torch's samplers included; its
      ``set_epoch(epoch)`` is called before each epoch's indices are read), ``batch_sampler``,
      ``drop_last``: as torch, with the same argument checks. ``shuffle=True`` draws a
      permutation per (seed, epoch) from the engine: the seed is ``generator.initial_seed()``
      when a generator is given, else ``conveyor.dataset.config.get_seed()``.
    * ``num_workers``: 0 reads the dataset in this process; N > 0 in N worker processes
      (forkserver: the dataset must pickle, and a script builds loaders under
      ``if __name__ == "__main__":``), which seed ``random``, ``numpy.random`` and torch per
      sample from (seed, epoch, index), so batches do not depend on the worker count. Workers
      start with the first epoch and stay up until the loader is garbage-collected, whatever
      ``persistent_workers`` says (it changes no batch). ``worker_init_fn(worker_id)`` runs in
      each worker when it starts (it must pickle); ``torch.utils.data.get_worker_info()`` is None
      in conveyor's workers. ``prefetch_factor`` (with workers) bounds the batches prepared
      ahead to ``prefetch_factor * num_workers``. Iterable datasets are read in this process:
      ``num_workers > 0`` with one is an error (torch would read a full copy in each worker).
    * ``pin_memory=True`` pins each batch's tensors when CUDA is available, and is a no-op
      without it, as in torch. ``in_order=False`` is accepted: batches always come in order,
      which it allows.
    * ``num_shards`` and ``shard_id`` (conveyor's, keyword-only; "auto" reads the launcher's
      rank and world size, see conveyor._launcher): this process reads shard ``shard_id`` of a
      map-style dataset, every shard the same length and the shuffle the same permutation on
      every shard.

    * ``timeout`` > 0: waiting longer than that for a batch raises RuntimeError, as torch does
      (checked every 50 ms, with or without workers); the epoch ends there, and the next
      ``iter(loader)`` starts the next epoch on a new pipeline.

    Arguments conveyor does not implement are errors naming them: ``multiprocessing_context``
    other than None or "forkserver", ``pin_memory_device``.

    Each ``iter(loader)`` is one epoch; epochs are numbered from 0 in the order they are
    started. An epoch left before its end is abandoned: the next ``iter`` starts the next epoch.
    ``state_dict()`` and ``load_state_dict()`` save and restore the position, as torchdata's
    StatefulDataLoader does, for an exact resume.
    """

    def __init__(self, dataset: Any, batch_size: Optional[int] = 1, shuffle: Optional[bool] = None,
                 sampler: Any = None, batch_sampler: Any = None, num_workers: int = 0,
                 collate_fn: Optional[Callable] = None, pin_memory: bool = False, drop_last: bool = False,
                 timeout: float = 0, worker_init_fn: Optional[Callable[[int], None]] = None,
                 multiprocessing_context: Any = None, generator: Optional[torch.Generator] = None, *,
                 prefetch_factor: Optional[int] = None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True,
                 num_shards: Union[int, str, None] = None, shard_id: Union[int, str, None] = None):
        iterable = _is_iterable_dataset(dataset)
        _check_arguments(iterable, batch_size, shuffle, sampler, batch_sampler, num_workers, drop_last, timeout,
                         prefetch_factor, persistent_workers, multiprocessing_context, pin_memory_device)
        if worker_init_fn is not None:
            if num_workers == 0:
                raise ValueError("worker_init_fn needs num_workers > 0 in conveyor (there is no worker to run it in)")
            _check_pickles(worker_init_fn, "worker_init_fn")
        num_shards, shard_id = resolve_shards(num_shards, shard_id)
        if num_shards is not None and (iterable or sampler is not None or batch_sampler is not None):
            raise ValueError("num_shards/shard_id shard a map-style dataset's own order; they exclude an iterable "
                             "dataset, sampler and batch_sampler (give a DistributedSampler instead)")
        self.dataset = dataset
        self.batch_size = None if batch_sampler is not None else batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.collate_fn = collate_fn
        self.pin_memory = pin_memory
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.generator = generator
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = persistent_workers
        self.in_order = in_order
        self.num_shards, self.shard_id = num_shards, shard_id
        self._iterable = iterable
        self._shuffle = bool(shuffle)
        self._seed = generator.initial_seed() if generator is not None else ds.config.get_seed()
        self._pipeline: Optional[_Pipeline] = None
        # (epoch, engine outputs, batches) the reader has reached; whether an epoch is being read;
        # where load_state_dict() says the next epoch starts.
        self._position: Tuple[int, int, int] = (0, 0, 0)
        self._in_epoch = False
        self._resume: Optional[Tuple[int, int, int]] = None

    def __len__(self) -> int:
        """As torch: batches per epoch (for an iterable dataset, from its ``__len__``)."""
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        if self._iterable:
            samples = len(self.dataset)
        elif self.sampler is not None:
            samples = len(self.sampler)
        elif self.num_shards is not None:
            samples = math.ceil(len(self.dataset) / self.num_shards)
        else:
            samples = len(self.dataset)
        if self.batch_size is None:
            return samples
        return samples // self.batch_size if self.drop_last else math.ceil(samples / self.batch_size)

    def __iter__(self) -> Iterator[Any]:
        if self._resume is not None:
            start, self._resume = self._resume, None
        elif self._in_epoch:  # the last epoch was left before its end: start the next one
            start = (self._position[0] + 1, 0, 0)
        else:
            start = self._position
        if self._pipeline is not None and self._pipeline.failed:
            self.close()
        if self._pipeline is None:
            self._pipeline = _Pipeline(self)
        self._position, self._in_epoch = start, True
        return self._pipeline.epoch(*start)

    def state_dict(self) -> Dict[str, Any]:
        """Where this loader is, as a small JSON-serializable dict (as torchdata's
        StatefulDataLoader): the epoch, the batches of it yielded so far (the next epoch and 0
        after an epoch's end), the rows the engine read for them, the seed and the loader's
        configuration."""
        epoch, outputs, batches = self._resume if self._resume is not None else self._position
        return {"format": _STATE_FORMAT, "loader": self._signature(), "seed": self._seed, "epoch": epoch,
                "batches": batches, "outputs": outputs}

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        """The next ``iter(loader)`` continues from ``state`` (from state_dict() of a loader
        built the same way): its batches are bit-identical to those an uninterrupted run gives
        from there, shuffles and per-sample seeded draws in workers included, with any worker
        count (a sampler must be a function of its epoch, as shuffle=True, torch's
        DistributedSampler or SequentialSampler are). A map-style dataset jumps straight to the
        position; an iterable one is read from its start and the samples before the position
        dropped. Raises ValueError for a state of another loader configuration or seed."""
        if not isinstance(state, dict) or state.get("format") != _STATE_FORMAT:
            raise ValueError(f"not a conveyor DataLoader state (expected a dict with format {_STATE_FORMAT!r})")
        if state.get("loader") != self._signature():
            raise ValueError(f"the state was saved by another loader: {state.get('loader')!r}; this one is "
                             f"{self._signature()!r}")
        if state.get("seed") != self._seed:
            raise ValueError(f"the state was saved with seed {state.get('seed')}; this loader's is {self._seed} (give "
                             "the same generator seed, or conveyor.dataset.config.set_seed)")
        self._resume = (int(state["epoch"]), int(state["outputs"]), int(state["batches"]))
        self._in_epoch = False

    def _signature(self) -> str:
        size = "iterable" if self._iterable else len(self.dataset)
        return (f"{type(self.dataset).__qualname__}({size}) batch_size={self.batch_size} drop_last={self.drop_last} "
                f"shuffle={self._shuffle} sampler={type(self.sampler).__qualname__} "
                f"batch_sampler={type(self.batch_sampler).__qualname__} shards={self.num_shards}/{self.shard_id} "
                f"collate_fn={getattr(self.collate_fn, '__qualname__', None)}")

    def _advance(self, epoch: int, outputs: int, batches: int) -> None:
        """Called by the epoch being read after each batch it yields."""
        self._position = (epoch, outputs, batches)

    def _finish(self, epoch: int) -> None:
        """Called by the epoch being read at its end."""
        self._position, self._in_epoch = (epoch + 1, 0, 0), False

    def close(self) -> None:
        """Stops the pipeline (and its worker processes) now instead of at garbage collection."""
        if self._pipeline is not None:
            self._pipeline.close()
            self._pipeline = None


_STATE_FORMAT = "conveyor.torch.DataLoader/1"


class _Pipeline:
    """The engine pipeline behind a DataLoader: built at the first epoch it reads, read one epoch
    at a time, in order; started again elsewhere when an epoch is asked for where it is not."""

    def __init__(self, loader: DataLoader):
        self.loader = loader
        self.layout = _first_layout(loader)
        self.batch_indices: Optional[BatchIndices] = None
        self.workers: Optional[WorkerPool] = None
        self.engine_batches = (loader.collate_fn is None and loader.batch_size is not None and
                               loader.batch_sampler is None and self.layout is not None and
                               not self.layout.has_text)
        self.current: Optional[Iterator[Any]] = None  # the epoch being read
        self.failed = False  # an error (or a timeout) stopped the engine's pipeline
        self.iterator = None if self.layout is None else self._start(self._dataset())
        if self.iterator is not None and loader.timeout > 0:
            self.iterator._timeout = loader.timeout

    def _dataset(self) -> ds.Dataset:
        loader, names = self.loader, [f"c{i}" for i in range(self.layout.columns)]
        if loader._iterable:
            dataset = ds.Dataset(_core.generator_dataset(IterableSource(loader.dataset, self.layout), names))
        else:
            dataset = self._map_dataset(names)
        return dataset.batch(loader.batch_size, drop_remainder=loader.drop_last) if self.engine_batches else dataset

    def _map_dataset(self, names: List[str]) -> ds.Dataset:
        loader = self.loader
        source: Any = MapSource(loader.dataset, self.layout)
        if loader.num_workers > 0:
            source = self.workers = WorkerPool(SourceJob(source), loader.num_workers, loader._seed, loader.worker_init_fn)
        sampler = loader.sampler
        if loader.batch_sampler is not None:
            sampler = self.batch_indices = BatchIndices(loader.batch_sampler)
        options = dict(seed=loader._seed, num_parallel_workers=max(1, loader.num_workers))
        if sampler is not None:
            options["sampler"] = sampler
        elif loader.num_shards is not None:
            options.update(num_shards=loader.num_shards, shard_id=loader.shard_id, shuffle=loader._shuffle)
        else:
            options["shuffle"] = loader._shuffle
        return ds.Dataset(_core.generator_dataset(source, names, **options))

    def _start(self, dataset: ds.Dataset):
        loader = self.loader
        saved = _core.get_config()
        if loader.prefetch_factor is not None:
            _core.set_config(prefetch_size=loader.prefetch_factor * loader.num_workers)
        try:
            return dataset.create_tuple_iterator(num_epochs=-1)
        finally:
            _core.set_config(**saved)

    def epoch(self, epoch: int, outputs: int, batches: int) -> Iterator[Any]:
        """Epoch ``epoch``'s batches after its first ``batches`` (which took ``outputs`` of the
        engine's outputs)."""
        if self.current is not None:
            self.current.close()
        if self.iterator is not None:
            state = self.iterator.state_dict()
            if (state["epoch"], state["outputs"]) != (epoch, outputs):
                # Located from the outputs alone: the loader's pipeline is a source and a batch stage.
                self.iterator.load_state_dict({**state, "epoch": epoch, "outputs": outputs, "cut": None})
        self.current = self._outputs(epoch, outputs, batches)
        return self.current

    def _outputs(self, epoch: int, outputs: int, skipped: int) -> Iterator[Any]:
        loader = self.loader
        if self.iterator is None:  # an empty dataset
            loader._finish(epoch)
            return
        # The engine's outputs taken so far: the engine's own position may already be past the
        # epoch's end when a short last batch is collated here.
        rows = _Counted(self.iterator, outputs)
        if self.engine_batches:
            outputs = (self.layout.batch(columns) for columns in rows)
        elif loader.batch_size is None and self.batch_indices is None:
            convert = loader.collate_fn or torch.utils.data.default_convert
            outputs = (convert(self.layout.sample(columns)) for columns in rows)
        else:
            outputs = self._collated(rows, epoch, skipped)
        batches = skipped
        while True:
            try:
                output = next(outputs)
            except StopIteration:
                break
            except TimeoutError as error:
                self.failed = True
                raise RuntimeError(f"DataLoader timed out after {loader.timeout} seconds") from error
            except BaseException:
                self.failed = True
                raise
            batches += 1
            loader._advance(epoch, rows.count, batches)
            yield _pinned(output) if loader.pin_memory and torch.cuda.is_available() else output
        loader._finish(epoch)

    def _collated(self, rows: Iterator[list], epoch: int, skipped: int) -> Iterator[Any]:
        loader = self.loader
        collate = loader.collate_fn or torch.utils.data.default_collate
        samples: List[Any] = []
        sizes = size = None
        for columns in rows:
            if size is None:  # the engine has read the epoch's indices once it has a row of it
                sizes = iter(self.batch_indices.sizes(epoch)[skipped:]) if self.batch_indices is not None else None
                size = next(sizes, 0) if sizes is not None else loader.batch_size
            samples.append(self.layout.sample(columns))
            if len(samples) == size:
                yield collate(samples)
                samples = []
                size = next(sizes, 0) if sizes is not None else size
        if samples and (sizes is not None or not loader.drop_last):
            yield collate(samples)

    def close(self) -> None:
        if self.iterator is not None:
            self.iterator.stop()
        if self.workers is not None:
            self.workers.close()


class _Counted:
    """An iterator's items, counted (from ``start``)."""

    def __init__(self, iterable: Any, start: int):
        self._iterator, self.count = iter(iterable), start

    def __iter__(self) -> "_Counted":
        return self

    def __next__(self) -> Any:
        item = next(self._iterator)
        self.count += 1
        return item


def _first_layout(loader: DataLoader) -> Optional[Layout]:
    """The layout of the dataset's first sample, or None for an empty dataset."""
    if loader._iterable:
        for sample in loader.dataset:
            return Layout(sample)
        return None
    if len(loader.dataset) == 0:
        return None
    return Layout(fetch(loader.dataset, 0))


def _pinned(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.pin_memory()
    if isinstance(value, dict):
        return {k: _pinned(v) for k, v in value.items()}
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return type(value)(*(_pinned(v) for v in value))
    if isinstance(value, (list, tuple)):
        return type(value)(_pinned(v) for v in value)
    return value


def _is_iterable_dataset(dataset: Any) -> bool:
    if isinstance(dataset, torch.utils.data.IterableDataset):
        return True
    if hasattr(dataset, "__len__") and (hasattr(dataset, "__getitem__") or hasattr(dataset, "__getitems__")):
        return False
    if hasattr(dataset, "__iter__"):
        return True
    raise TypeError(f"a {type(dataset).__qualname__} is neither map-style (__getitem__ or __getitems__, and "
                    "__len__) nor iterable (__iter__)")


def _check_pickles(value: Any, name: str) -> None:
    try:
        pickle.dumps(value)
    except Exception as error:
        raise TypeError(f"{name} runs in worker processes and must pickle: {error}. Define it at module "
                        "level") from None


def _check_arguments(iterable: bool, batch_size, shuffle, sampler, batch_sampler, num_workers, drop_last,
                     timeout, prefetch_factor, persistent_workers, multiprocessing_context,
                     pin_memory_device) -> None:
    """torch's own argument checks (same conditions), then what conveyor does not implement."""
    if not isinstance(num_workers, int) or num_workers < 0:
        raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable multiprocessing.")
    if timeout < 0:
        raise ValueError("timeout option should be non-negative")
    if num_workers == 0 and prefetch_factor is not None:
        raise ValueError("prefetch_factor option could only be specified in multiprocessing. let num_workers > 0 "
                         "to enable multiprocessing, otherwise set prefetch_factor to None.")
    if prefetch_factor is not None and (not isinstance(prefetch_factor, int) or prefetch_factor < 1):
        raise ValueError(f"prefetch_factor must be a positive integer, not {prefetch_factor!r}")
    if persistent_workers and num_workers == 0:
        raise ValueError("persistent_workers option needs num_workers > 0")
    if iterable:
        if shuffle not in (None, False):
            raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle option, but got "
                             f"shuffle={shuffle}")
        if sampler is not None:
            raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler option, but got "
                             f"sampler={sampler}")
        if batch_sampler is not None:
            raise ValueError(f"DataLoader with IterableDataset: expected unspecified batch_sampler option, but got "
                             f"batch_sampler={batch_sampler}")
        if num_workers > 0:
            raise ValueError("num_workers > 0 with an iterable dataset is not supported by conveyor: it reads an "
                             "iterable in this process (torch would read a full copy in each worker)")
    if sampler is not None and shuffle:
        raise ValueError("sampler option is mutually exclusive with shuffle")
    if batch_sampler is not None:
        if batch_size != 1 or shuffle or sampler is not None or drop_last:
            raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and "
                             "drop_last")
    elif batch_size is None:
        if drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with "
                             "drop_last")
    elif not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
    if multiprocessing_context not in (None, "forkserver"):
        raise ValueError(f"multiprocessing_context={multiprocessing_context!r} is not supported: conveyor's "
                         "workers always start with forkserver")
    if pin_memory_device:
        raise ValueError(f"pin_memory_device={pin_memory_device!r} is not supported by conveyor")
