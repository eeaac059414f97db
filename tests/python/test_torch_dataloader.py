"""conveyor.torch.DataLoader against torch.utils.data.DataLoader on the same datasets: the same
batches (structure, dtypes, values) for sequential reading, the same multiset when shuffled,
the same len(), and errors for what conveyor does not implement. Datasets live at module level:
worker processes unpickle them by name."""

import collections
import os
import random
import time

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import conveyor.dataset as ds
from conveyor.torch import DataLoader
from conveyor.torch._layout import Layout
from conveyor.torch._sources import MapSource

Pair = collections.namedtuple("Pair", ["left", "right"])


class Mixed(tud.Dataset):
    """Item i: a tuple of a float32 tensor, a NumPy int16 array, Python int/float/bool, a NumPy
    scalar, a dict with a nested list, a str and a named tuple."""

    def __init__(self, size=10):
        self.size = size

    def __len__(self):
        return self.size

    def __getitem__(self, i):
        return (torch.full((2, 3), float(i)), np.arange(4, dtype=np.int16) + i, i, i / 4, i % 2 == 0,
                np.float32(i * 2), {"a": i * 10, "b": [np.int64(i), torch.tensor([i, i + 1])]},
                Pair(i, float(i)))


class Numbers(tud.Dataset):
    """Item i: {"x": float64 tensor [i, -i], "y": i}."""

    def __init__(self, size=13):
        self.size = size

    def __len__(self):
        return self.size

    def __getitem__(self, i):
        return {"x": torch.tensor([i, -i], dtype=torch.float64), "y": i}


class Batched(Numbers):
    """Numbers read through __getitems__ only (no __getitem__)."""

    __getitem__ = None

    def __getitems__(self, indices):
        return [{"x": torch.tensor([i, -i], dtype=torch.float64), "y": i} for i in indices]


class Texts(tud.Dataset):
    def __len__(self):
        return 5

    def __getitem__(self, i):
        return f"text {i}", i


class Stream(tud.IterableDataset):
    """Yields 0 .. size-1 as (int64 tensor, label str)."""

    def __init__(self, size=7):
        self.size = size

    def __iter__(self):
        return ((torch.tensor(i), f"#{i}") for i in range(self.size))

    def __len__(self):
        return self.size


class RandomPid(tud.Dataset):
    """Item i: (i, the pid that read it, a torch random draw)."""

    def __len__(self):
        return 12

    def __getitem__(self, i):
        return i, os.getpid(), torch.rand(())


def record_worker(worker_id):
    """worker_init_fn for the test: remembers the worker's id in the worker process."""
    os.environ["CONVEYOR_TEST_WORKER_ID"] = str(worker_id)


class WorkerIds(tud.Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        return i, int(os.environ.get("CONVEYOR_TEST_WORKER_ID", "-1"))


def same(a, b):
    """Asserts that two collated batches are equal in structure, types, dtypes and values."""
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, torch.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape, (a, b)
        assert torch.equal(a, b), (a, b)
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            same(x, y)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    else:
        assert a == b


def both(dataset, **kwargs):
    """The batches of one epoch from torch's DataLoader and from conveyor's, with the same args."""
    theirs = list(tud.DataLoader(dataset, **kwargs))
    ours = list(DataLoader(dataset, **kwargs))
    return theirs, ours


@pytest.mark.parametrize("batch_size,drop_last", [(1, False), (3, False), (3, True), (4, False)])
def test_sequential_batches_equal_torchs(batch_size, drop_last):
    theirs, ours = both(Mixed(), batch_size=batch_size, drop_last=drop_last)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        same(a, b)


def test_dicts_and_getitems_equal_torchs():
    for dataset in (Numbers(), Batched()):
        theirs, ours = both(dataset, batch_size=5)
        same(ours, theirs)


def test_strings_are_collated_into_lists():
    theirs, ours = both(Texts(), batch_size=2)
    same(ours, theirs)
    assert ours[0][0] == ("text 0", "text 1")  # as torch gives them


def test_batches_share_the_engines_buffer():
    layout = Layout(Numbers()[0])
    source = ds.GeneratorDataset(MapSource(Numbers(), layout), ["x", "y"], shuffle=False).batch(4)
    columns = next(iter(source.create_tuple_iterator(num_epochs=1)))
    batch = layout.batch(columns)
    assert batch["x"].data_ptr() == np.asarray(columns[0]).ctypes.data
    assert batch["y"].data_ptr() == np.asarray(columns[1]).ctypes.data
    assert batch["y"].tolist() == [0, 1, 2, 3]


def test_shuffle_reads_each_sample_once_per_epoch_in_a_new_order():
    loader = DataLoader(Numbers(40), batch_size=8, shuffle=True)
    orders = [[int(y) for b in loader for y in b["y"]] for _ in range(2)]
    for order in orders:
        assert sorted(order) == list(range(40))
    assert orders[0] != orders[1] and orders[0] != list(range(40))
    theirs = sorted(int(y) for b in tud.DataLoader(Numbers(40), batch_size=8, shuffle=True) for y in b["y"])
    assert theirs == sorted(orders[0])


def test_generator_seeds_the_shuffle():
    def order(seed):
        loader = DataLoader(Numbers(20), batch_size=4, shuffle=True, generator=torch.Generator().manual_seed(seed))
        return [int(y) for b in loader for y in b["y"]]

    assert order(1) == order(1)
    assert order(1) != order(2)


def test_torch_samplers_and_batch_samplers():
    data = Numbers(11)
    for kwargs in (dict(sampler=tud.SequentialSampler(range(11)), batch_size=3),
                   dict(sampler=[5, 3, 9, 0], batch_size=3),
                   dict(batch_sampler=tud.BatchSampler(tud.SequentialSampler(range(11)), 4, drop_last=False)),
                   dict(batch_sampler=[[0, 1], [7], [2, 3, 4]]),
                   dict(sampler=tud.DistributedSampler(data, num_replicas=3, rank=1, shuffle=False), batch_size=2)):
        theirs, ours = both(data, **kwargs)
        same(ours, theirs)
        assert len(DataLoader(data, **kwargs)) == len(tud.DataLoader(data, **kwargs))


def test_distributed_sampler_gets_the_epoch():
    data = Numbers(12)
    sampler = tud.DistributedSampler(data, num_replicas=2, rank=0, shuffle=True, seed=3)
    loader = DataLoader(data, sampler=sampler, batch_size=12)
    ours = [next(iter(loader))["y"].tolist() for _ in range(2)]
    expected = []
    for epoch in range(2):
        reference = tud.DistributedSampler(data, num_replicas=2, rank=0, shuffle=True, seed=3)
        reference.set_epoch(epoch)
        expected.append(list(reference))
    assert ours == expected


def test_custom_collate_fn_gets_the_samples_as_the_dataset_returned_them():
    seen = []

    def collate(samples):
        seen.append(samples)
        return len(samples)

    assert list(DataLoader(Mixed(5), batch_size=2, collate_fn=collate)) == [2, 2, 1]
    reference = [Mixed(5)[i] for i in range(5)]
    same([s for batch in seen for s in batch], [tuple(r) for r in reference])


def test_no_batching_converts_each_sample():
    theirs, ours = both(Numbers(4), batch_size=None)
    same(ours, theirs)


def test_iterable_dataset():
    theirs, ours = both(Stream(), batch_size=3)
    same(ours, theirs)
    assert len(DataLoader(Stream(), batch_size=3)) == len(tud.DataLoader(Stream(), batch_size=3)) == 3
    assert list(DataLoader(Stream(0), batch_size=3)) == []


class Ints(tud.IterableDataset):
    """Yields 0 .. size-1 as Python ints: no text, so the engine itself batches them."""

    def __init__(self, size):
        self.size = size

    def __iter__(self):
        return iter(range(self.size))


def test_iterable_dataset_without_text_is_batched():
    for drop_last in (False, True):
        theirs, ours = both(Ints(7), batch_size=3, drop_last=drop_last)
        same(ours, theirs)
        assert [b.tolist() for b in ours] == ([[0, 1, 2], [3, 4, 5]] if drop_last else [[0, 1, 2], [3, 4, 5], [6]])


def test_an_abandoned_epoch_is_not_continued_by_the_next():
    loader = DataLoader(Numbers(10), batch_size=2)
    first = iter(loader)
    next(first)
    assert [b["y"].tolist() for b in loader] == [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]]


def test_workers_give_the_same_batches_as_no_workers():
    in_process = [b for b in DataLoader(RandomPid(), batch_size=4)]
    loader = DataLoader(RandomPid(), batch_size=4, num_workers=2, persistent_workers=True, prefetch_factor=2)
    workers = list(loader)
    pids = {int(p) for b in workers for p in b[1]}
    assert os.getpid() not in pids and len(pids) >= 1
    same([b[0] for b in workers], [b[0] for b in in_process])
    again = list(DataLoader(RandomPid(), batch_size=4, num_workers=1))
    same([b[2] for b in again], [b[2] for b in workers])  # seeded per sample: worker count does not matter
    loader.close()


def test_worker_init_fn_runs_in_each_worker():
    loader = DataLoader(WorkerIds(), batch_size=8, num_workers=2, worker_init_fn=record_worker)
    (indices, ids), = list(loader)
    assert indices.tolist() == list(range(8))
    assert set(ids.tolist()) <= {0, 1} and -1 not in ids.tolist()
    loader.close()


class CountsReads(tud.Dataset):
    """Item i: i; each read appends a byte to the file ``path``, from whichever process reads it."""

    def __init__(self, path, size):
        self.path, self.size = path, size

    def __len__(self):
        return self.size

    def __getitem__(self, i):
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        try:
            os.write(fd, b".")
        finally:
            os.close(fd)
        return i


def settled_size(path, quiet=1.0, limit=10.0):
    """The size of the file ``path`` once it has not grown for ``quiet`` seconds (or after
    ``limit`` seconds)."""
    deadline = time.monotonic() + limit
    size, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        now = os.path.getsize(path) if os.path.exists(path) else 0
        if now != size:
            size, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            break
        time.sleep(0.05)
    return size


def test_prefetch_factor_leaves_the_process_wide_prefetch_size_as_it_is():
    ds.config.set_prefetch_size(5)
    loader = DataLoader(Numbers(16), batch_size=2, num_workers=2, prefetch_factor=3)
    epoch = iter(loader)
    first = next(epoch)
    assert ds.config.get_prefetch_size() == 5  # while the loader's pipeline runs
    assert [first["y"].tolist()] + [b["y"].tolist() for b in epoch] == [[i, i + 1] for i in range(0, 16, 2)]
    assert ds.config.get_prefetch_size() == 5
    loader.close()


def test_prefetch_factor_bounds_the_batches_read_ahead_of_a_reader_that_stops(tmp_path):
    ds.config.set_prefetch_size(64)  # were it the loader's bound, the whole dataset would be read ahead
    reads = str(tmp_path / "reads")
    loader = DataLoader(CountsReads(reads, 40 * 16), batch_size=16, num_workers=2, prefetch_factor=3)
    epoch = iter(loader)
    first = next(epoch)
    # One batch taken, prefetch_factor * num_workers = 6 queued, a few in flight in the fetch and
    # batch stages (about 12 batches in all), far from the 40 a prefetch of 64 reads.
    assert settled_size(reads) <= 16 * 16
    batches = [first.tolist()] + [b.tolist() for b in epoch]
    assert batches == [list(range(i, i + 16)) for i in range(0, 640, 16)]
    loader.close()


class LateOnce(Numbers):
    """Item 1 takes 2 s the first time it is read."""

    def __init__(self):
        super().__init__(4)
        self.late = True

    def __getitem__(self, i):
        if i == 1 and self.late:
            self.late = False
            time.sleep(2.0)
        return super().__getitem__(i)


def test_timeout_raises_when_a_batch_is_late_and_the_next_epoch_starts_afresh():
    # A timeout loose enough that a loaded machine still makes the on-time batches of the next epoch.
    loader = DataLoader(LateOnce(), batch_size=2, timeout=0.5)
    start = time.monotonic()
    with pytest.raises(RuntimeError, match="timed out after 0.5 seconds"):
        list(loader)
    assert time.monotonic() - start < 1.5  # raised on time, not when the batch came
    assert [b["y"].tolist() for b in loader] == [[0, 1], [2, 3]]


def test_a_sample_of_another_structure_is_an_error_naming_it():
    class Changing(Numbers):
        def __getitem__(self, i):
            return {"x": torch.zeros(2), "y": i} if i != 3 else {"x": torch.zeros(2)}

    with pytest.raises(ValueError, match="dataset item 3"):
        list(DataLoader(Changing(6), batch_size=2))


@pytest.mark.parametrize("kwargs,message", [
    (dict(timeout=-1), "timeout"),
    (dict(num_workers=1, multiprocessing_context="spawn"), "multiprocessing_context"),
    (dict(pin_memory_device="cuda"), "pin_memory_device"),
    (dict(prefetch_factor=2), "prefetch_factor"),
    (dict(persistent_workers=True), "persistent_workers"),
    (dict(sampler=[0, 1], shuffle=True), "shuffle"),
    (dict(batch_sampler=[[0]], batch_size=2), "batch_sampler"),
    (dict(batch_size=None, drop_last=True), "drop_last"),
    (dict(worker_init_fn=record_worker), "worker_init_fn"),
    (dict(num_workers=1, worker_init_fn=lambda i: None), "worker_init_fn"),
])
def test_unsupported_or_contradictory_arguments_are_errors_naming_them(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        DataLoader(Numbers(4), **kwargs)


def test_iterable_dataset_refuses_shuffle_sampler_and_workers():
    for kwargs, message in ((dict(shuffle=True), "shuffle"), (dict(sampler=[0]), "sampler"),
                            (dict(num_workers=2), "num_workers")):
        with pytest.raises(ValueError, match=message):
            DataLoader(Stream(), **kwargs)


@pytest.mark.filterwarnings("ignore:.*pin_memory")
def test_pin_memory_without_cuda_is_a_no_op():
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    theirs, ours = both(Numbers(4), batch_size=2, pin_memory=True)
    same(ours, theirs)


def test_random_draws_in_process_come_from_torchs_generator():
    """num_workers=0 reads in this process, as torch does: the draws come from torch's global
    generator (seeded here), so they are random numbers, not a constant."""
    torch.manual_seed(0)
    random.seed(0)
    draws = [float(v) for b in DataLoader(RandomPid(), batch_size=6) for v in b[2]]
    assert len(set(draws)) == len(draws)
