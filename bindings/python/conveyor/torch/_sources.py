"""torch datasets as conveyor sources: each sample flattened into the columns of its Layout."""

from __future__ import annotations

import functools
from typing import Any, Dict, Iterator, List

from conveyor.torch._layout import Layout


def fetch(dataset: Any, index: int) -> Any:
    """Item ``index`` of a map-style dataset, through ``__getitems__`` when it has one (as torch's
    DataLoader prefers; conveyor reads rows one by one, so it asks for a list of one)."""
    getitems = getattr(dataset, "__getitems__", None)
    if getitems is None:
        return dataset[index]
    items = getitems([index])
    if len(items) != 1:
        raise ValueError(f"__getitems__([{index}]) returned {len(items)} samples, not 1")
    return items[0]


class MapSource:
    """Random access: row i is the columns of ``fetch(dataset, i)``. Pickles (for worker
    processes) when the dataset does."""

    def __init__(self, dataset: Any, layout: Layout):
        self.dataset, self.layout = dataset, layout
        # Looked up once: the lookup costs as much as a cheap __getitem__.
        plain = getattr(dataset, "__getitems__", None) is None
        self.read = dataset.__getitem__ if plain else functools.partial(fetch, dataset)

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int):
        return self.layout.flatten(self.read(index), index)


class IterableSource:
    """An iterable dataset read afresh each epoch, each sample flattened."""

    def __init__(self, dataset: Any, layout: Layout):
        self.dataset, self.layout = dataset, layout

    def __iter__(self) -> Iterator[tuple]:
        return (self.layout.flatten(sample, i) for i, sample in enumerate(self.dataset))


class BatchIndices:
    """A torch batch_sampler read as a flat sampler of indices: each epoch's batches are drawn
    once, when the engine asks for the epoch's indices (calling the batch sampler's
    ``set_epoch`` first when it, or its sampler, has one), and their sizes are kept for the
    consumer, which groups rows back into those batches. Used on the engine's feeder thread and
    the consumer's; the engine asks for an epoch's indices before any of its rows arrive."""

    def __init__(self, batch_sampler: Any):
        self.batch_sampler = batch_sampler
        self._epoch = 0
        self._sizes: Dict[int, List[int]] = {}

    def set_epoch(self, epoch: int) -> None:
        self._epoch = epoch
        for target in (self.batch_sampler, getattr(self.batch_sampler, "sampler", None)):
            if hasattr(target, "set_epoch"):
                target.set_epoch(epoch)

    def __iter__(self) -> Iterator[int]:
        batches = [list(b) for b in self.batch_sampler]
        self._sizes[self._epoch] = [len(b) for b in batches]
        return (i for b in batches for i in b)

    def sizes(self, epoch: int) -> List[int]:
        """The batch sizes of ``epoch`` (forgotten after this call, together with earlier epochs')."""
        for old in [e for e in self._sizes if e < epoch]:
            del self._sizes[old]
        return self._sizes.pop(epoch, [])
