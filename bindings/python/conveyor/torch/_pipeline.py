"""The engine pipeline behind a DataLoader: built at the first epoch, read one epoch at a time,
its engine outputs turned into the loader's batches."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator, List, Optional

import torch
import torch.utils.data

import conveyor.dataset as ds
from conveyor import _core
from conveyor.dataset._workers import SourceJob, WorkerPool
from conveyor.torch._layout import Layout
from conveyor.torch._sources import BatchIndices, IterableSource, MapSource, fetch

if TYPE_CHECKING:
    from conveyor.torch.dataloader import DataLoader


class Pipeline:
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

    def _dataset(self) -> ds.Dataset:
        loader, names = self.loader, [f"c{i}" for i in range(self.layout.columns)]
        if loader._iterable:
            dataset = ds.Dataset(_core.generator_dataset(IterableSource(loader.dataset, self.layout), names))
        else:
            dataset = self._map_dataset(names)
        if self.engine_batches:
            return dataset.batch(loader.batch_size, drop_remainder=loader.drop_last)
        return dataset

    def _map_dataset(self, names: List[str]) -> ds.Dataset:
        loader = self.loader
        source: Any = MapSource(loader.dataset, self.layout)
        if loader.num_workers > 0:
            source = self.workers = WorkerPool(SourceJob(source), loader.num_workers, loader._seed,
                                               loader.worker_init_fn)
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

    def _start(self, dataset: ds.Dataset) -> ds.TupleIterator:
        """An iterator over every epoch of ``dataset`` that waits at most the loader's timeout for
        an output and, with a prefetch_factor, prepares ``prefetch_factor * num_workers`` outputs
        ahead (for this pipeline only: the process-wide config is left as it is)."""
        loader = self.loader
        iterator = dataset.create_tuple_iterator(num_epochs=-1)
        if loader.timeout > 0:
            iterator._timeout = loader.timeout
        if loader.prefetch_factor is not None:
            iterator._prefetch_size = loader.prefetch_factor * loader.num_workers
        return iterator

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
                sizes = (iter(self.batch_indices.sizes(epoch)[skipped:]) if self.batch_indices is not None
                         else None)
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
