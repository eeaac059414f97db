"""conveyor.torch.DataLoader: torch.utils.data.DataLoader's interface over conveyor's engine."""

from __future__ import annotations

import math
from typing import Any, Callable, Dict, Iterator, Optional, Tuple, Union

import torch

import conveyor.dataset as ds
from conveyor._launcher import resolve_shards
from conveyor.torch._arguments import check_arguments, check_pickles, is_iterable_dataset
from conveyor.torch._pipeline import Pipeline


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
        iterable = is_iterable_dataset(dataset)
        check_arguments(iterable, batch_size, shuffle, sampler, batch_sampler, num_workers, drop_last, timeout,
                         prefetch_factor, persistent_workers, multiprocessing_context, pin_memory_device)
        if worker_init_fn is not None:
            if num_workers == 0:
                raise ValueError("worker_init_fn needs num_workers > 0 in conveyor (there is no worker to run it in)")
            check_pickles(worker_init_fn, "worker_init_fn")
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
        self._pipeline: Optional[Pipeline] = None
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
            self._pipeline = Pipeline(self)
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
