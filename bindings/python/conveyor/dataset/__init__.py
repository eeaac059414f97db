"""A MindSpore-compatible dataset API: ``import conveyor.dataset as ds`` in place of
``import mindspore.dataset as ds``.

    dataset = ds.GeneratorDataset(MyData(), ["data", "label"], shuffle=False)
    dataset = dataset.map(operations=fn, input_columns=["data"])
    dataset = dataset.batch(2, drop_remainder=True)
    for data, label in dataset.create_tuple_iterator(output_numpy=True):
        ...

This module only re-exports. Dataset and zip() are in ``_dataset``, GeneratorDataset in
``_generator``, the iterators and their state in ``_iterators``, BatchInfo and per_batch_map in
``_per_batch_map``; ``config``, ``samplers``, ``vision`` and ``transforms`` are public submodules.
"""

from conveyor.dataset import config
from conveyor.dataset._columns import Columns
from conveyor.dataset._dataset import Dataset, zip
from conveyor.dataset._generator import GeneratorDataset
from conveyor.dataset._iterators import DictIterator, TupleIterator, check_state
from conveyor.dataset._per_batch_map import BatchInfo
from conveyor.dataset.samplers import (DistributedSampler, RandomSampler, Sampler, SequentialSampler,
                                       SubsetRandomSampler, WeightedRandomSampler)

__all__ = [
    "BatchInfo", "Dataset", "GeneratorDataset", "config", "zip",
    "Sampler", "SequentialSampler", "RandomSampler", "DistributedSampler", "SubsetRandomSampler",
    "WeightedRandomSampler",
]
