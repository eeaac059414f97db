"""Samplers with mindspore.dataset's names and arguments. Each becomes one of the engine's
samplers when a dataset is built, seeded from ``config.get_seed()``."""

from __future__ import annotations

from typing import Optional, Sequence

from conveyor import _core


class Sampler:
    """Base of conveyor's samplers. A sampler is a pure function of (seed, epoch)."""

    def _engine(self, seed: int):
        """The engine's sampler (or an iterable of indices) for ``seed``."""
        raise NotImplementedError


class SequentialSampler(Sampler):
    def __init__(self, start_index: Optional[int] = None, num_samples: Optional[int] = None):
        self.start_index = start_index or 0
        self.num_samples = num_samples

    def _engine(self, seed: int) -> _core.Sampler:
        return _core.SequentialSampler(self.start_index, self.num_samples)


class RandomSampler(Sampler):
    def __init__(self, replacement: bool = False, num_samples: Optional[int] = None):
        self.replacement = replacement
        self.num_samples = num_samples

    def _engine(self, seed: int) -> _core.Sampler:
        return _core.RandomSampler(seed, self.replacement, self.num_samples)


class DistributedSampler(Sampler):
    """Shard ``shard_id`` of ``num_shards``; every shard has the same length (padded by
    wrapping around). ``num_samples`` and ``offset`` are MindSpore options conveyor does not
    implement: passing them is an error."""

    def __init__(self, num_shards: int, shard_id: int, shuffle: bool = True,
                 num_samples: Optional[int] = None, offset: int = -1):
        if num_samples is not None:
            raise ValueError("DistributedSampler(num_samples=...) is not supported by conveyor")
        if offset != -1:
            raise ValueError("DistributedSampler(offset=...) is not supported by conveyor")
        self.num_shards = num_shards
        self.shard_id = shard_id
        self.shuffle = shuffle

    def _engine(self, seed: int) -> _core.Sampler:
        return _core.DistributedSampler(self.num_shards, self.shard_id, self.shuffle, seed)


class SubsetRandomSampler(Sampler):
    """A random permutation of ``indices`` each epoch (``num_samples`` keeps the first ones)."""

    def __init__(self, indices: Sequence[int], num_samples: Optional[int] = None):
        self.indices = list(indices)
        if num_samples is not None:
            if num_samples < 0:
                raise ValueError(f"num_samples must be >= 0, not {num_samples}")
            self.num_samples = min(num_samples, len(self.indices))
        else:
            self.num_samples = len(self.indices)

    def _engine(self, seed: int):
        subset = _core.SubsetRandomSampler(self.indices, seed)
        if self.num_samples == len(self.indices):
            return subset
        return _Truncated(subset, self.indices, self.num_samples)


class _Truncated:
    """The first ``count`` indices of each epoch of a subset sampler, as an iterable of indices
    (the engine checks them against the dataset's size)."""

    def __init__(self, sampler: _core.Sampler, subset: Sequence[int], count: int):
        self.sampler, self.count, self.epoch = sampler, count, 0
        self.bound = max(subset) + 1 if subset else 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self):
        return iter(self.sampler.indices(self.bound, self.epoch)[: self.count])


class WeightedRandomSampler(Sampler):
    def __init__(self, weights: Sequence[float], num_samples: Optional[int] = None, replacement: bool = True):
        self.weights = [float(w) for w in weights]
        self.num_samples = len(self.weights) if num_samples is None else num_samples
        self.replacement = replacement

    def _engine(self, seed: int) -> _core.Sampler:
        return _core.WeightedRandomSampler(self.weights, self.num_samples, self.replacement, seed)
