"""The ``py-small`` workload: a pure-Python map-style Dataset of small float32 images held in
memory (CIFAR-like: 3x32x32 float32 and an int label per sample), batch 256, shuffled. The work
per sample is an index into an array, so what is measured is the loaders' own cost: handing
each sample over and collating it.

Bounds beside it: the bare ``__getitem__`` loop (Python calling ``dataset[i]`` over the
shuffled indices and nothing else: the most any loader that calls it from one interpreter can
reach) and a copy of the same rows, a batch at a time, from the dataset's array into a reused
batch buffer (NumPy, one thread, in storage order: the memory-bandwidth bound for these bytes,
read from memory rather than from a cache, as the loaders read them).
"""

from __future__ import annotations

import time

import numpy as np

import conveyor.dataset as ds
from conveyor.bench.loaders import conveyor_config, torch_configs
from conveyor.bench.workload import Bound, Workload

BATCH = 256
SHAPE = (3, 32, 32)
DEFAULT_SAMPLES = 100_000


class SmallImages:
    """``samples`` random 3x32x32 float32 images and int labels in two NumPy arrays; item i is
    (a view of image i, label i as a Python int)."""

    def __init__(self, samples: int, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.images = rng.random((samples,) + SHAPE, dtype=np.float32)
        self.labels = rng.integers(0, 10, samples)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int):
        return self.images[index], int(self.labels[index])


def getitem_loop(dataset: SmallImages) -> float:
    """Seconds for ``dataset[i]`` over a shuffled permutation, in this thread."""
    order = np.random.default_rng(1).permutation(len(dataset)).tolist()
    start = time.perf_counter()
    for i in order:
        dataset[i]
    return time.perf_counter() - start


def batch_copy(dataset: SmallImages) -> float:
    """Seconds to copy every full batch's images, in storage order, into one reused batch
    buffer, in this thread."""
    batch = np.empty((BATCH,) + SHAPE, dtype=np.float32)
    start = time.perf_counter()
    for first in range(0, len(dataset) - BATCH + 1, BATCH):
        np.copyto(batch, dataset.images[first:first + BATCH])
    return time.perf_counter() - start


def build(samples: int = DEFAULT_SAMPLES) -> Workload:
    """The workload over ``samples`` samples (at least one batch)."""
    if samples < BATCH:
        raise ValueError(f"py-small needs at least {BATCH} samples (one batch), not {samples}")
    data = SmallImages(samples)
    configs = []
    for workers in (1, 2):
        pipeline = ds.GeneratorDataset(data, ["image", "label"], shuffle=True, num_parallel_workers=workers,
                                       python_multiprocessing=False).batch(BATCH, drop_remainder=True)
        setting = f"num_parallel_workers={workers} thread{'s' if workers > 1 else ''}"
        configs.append(conveyor_config(pipeline, workers, setting))
    configs += torch_configs(data, BATCH)
    usable = samples // BATCH * BATCH
    return Workload(
        name="py-small",
        description=(f"pure-Python Dataset, {samples:,} x float32 3x32x32 + int label in memory, batch {BATCH}, "
                     "shuffled"),
        samples_per_epoch=usable,
        bytes_per_sample=data.images[0].nbytes + 8,
        configs=configs,
        bounds=[Bound("bare __getitem__ loop (1 thread)", samples, run=lambda: getitem_loop(data)),
                Bound("copy of the same rows into a batch buffer (1 thread)", usable,
                      run=lambda: batch_copy(data))],
        notes=["conveyor runs __getitem__ on engine threads (python_multiprocessing=False): the work per sample "
               "is an array index, cheaper than any hand-over to another process."])
