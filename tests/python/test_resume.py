"""Exact resume: an iterator's (or a DataLoader's) state, loaded into a freshly built pipeline,
gives outputs bit-identical to those of an uninterrupted run after that point (shuffles and
random ops included), whatever the worker count; a random-access source jumps to the position
without reading what precedes it; a state from another pipeline is an error. Sources live at
module level: worker processes unpickle them by name."""

import json

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import conveyor.dataset as ds
import conveyor.dataset.vision as vision
from conveyor.torch import DataLoader
from support import Images, NoisyImages

ROWS, BATCH, EPOCHS = len(Images()), 4, 2  # 5 batches an epoch


class CountingImages(Images):
    """Images that count the rows read."""

    def __init__(self):
        self.reads = 0

    def __getitem__(self, i):
        self.reads += 1
        return super().__getitem__(i)


def images(rows):
    return iter(Images()[i] for i in range(rows))


def augmented(data):
    """Random crop and flip (native ops, seeded per (seed, epoch, sample, op)), then batches."""
    return data.map([vision.RandomCrop(6, padding=1), vision.RandomHorizontalFlip(0.5)], ["image"]).batch(BATCH)


def random_access(workers=1, processes=False, source=Images):
    return augmented(ds.GeneratorDataset(source(), ["image", "label"], shuffle=True, num_parallel_workers=workers,
                                         python_multiprocessing=processes))


def iterable():
    return augmented(ds.GeneratorDataset(lambda: images(ROWS), ["image", "label"]))


def read(iterator, limit=None):
    """Outputs in order across the iterator's epochs (an epoch's end is where ``for`` stops),
    each as (image bytes, labels); stops after ``limit`` outputs."""
    out = []
    for _ in range(iterator.state_dict()["epoch"], EPOCHS):  # one ``for`` per epoch left
        for image, label in iterator:
            out.append((np.asarray(image).tobytes(), np.asarray(label).tolist()))
            if limit is not None and len(out) == limit:
                return out
    return out


def resumed(make, k, through_end=False):
    """The outputs of a run interrupted after ``k`` outputs (its state saved as JSON), followed
    by those of a new pipeline resumed from that state. With ``through_end``, the interrupted
    run also reads the end of the epoch it stopped in when that end is next."""
    first = make().create_tuple_iterator(num_epochs=EPOCHS)
    head = read(first, limit=k) if k else []
    if through_end:
        assert list(first) == []  # the epoch's end: nothing more in it
    state = json.loads(json.dumps(first.state_dict()))
    first.stop()
    second = make().create_tuple_iterator(num_epochs=EPOCHS)
    second.load_state_dict(state)
    return head + read(second), state


@pytest.mark.parametrize("workers", [1, 2])
def test_random_access_resumes_bit_identically_after_any_number_of_batches(workers):
    reference = read(random_access(workers).create_tuple_iterator(num_epochs=EPOCHS))
    assert len(reference) == EPOCHS * ROWS // BATCH
    assert reference[:5] != reference[5:]  # each epoch its own shuffle and augmentations
    for k in (0, 2, 5, 7, 9):
        outputs, state = resumed(lambda: random_access(workers), k)
        assert outputs == reference, f"resumed after {k} batches"
        epoch = max(0, k - 1) // 5  # the state stays in an epoch until its end has been read
        assert (state["epoch"], state["outputs"]) == (epoch, k - 5 * epoch)
    outputs, state = resumed(lambda: random_access(workers), 5, through_end=True)
    assert (state["epoch"], state["outputs"]) == (1, 0)
    assert outputs == reference


def test_worker_processes_resume_bit_identically():
    reference = read(random_access(2, processes=True, source=NoisyImages).create_tuple_iterator(num_epochs=EPOCHS))
    for k in (3, 6):
        outputs, _ = resumed(lambda: random_access(2, processes=True, source=NoisyImages), k)
        assert outputs == reference, f"resumed after {k} batches"


def test_iterable_source_resumes_bit_identically():
    reference = read(iterable().create_tuple_iterator(num_epochs=EPOCHS))
    for k in (0, 3, 5, 8):
        outputs, _ = resumed(iterable, k)
        assert outputs == reference, f"resumed after {k} batches"


def test_random_access_jumps_to_the_position_without_reading_what_precedes_it():
    source = CountingImages()
    data = ds.GeneratorDataset(source, ["image", "label"], shuffle=True).batch(BATCH)
    iterator = data.create_tuple_iterator(num_epochs=1)
    iterator.load_state_dict({**iterator.state_dict(), "epoch": 0, "outputs": 3})
    assert len(read(iterator)) == 2
    assert source.reads == 2 * BATCH


def test_set_init_step_starts_after_that_many_outputs_across_epochs():
    reference = read(random_access().create_tuple_iterator(num_epochs=EPOCHS))
    data = random_access()
    data.set_init_step(7)
    assert read(data.create_tuple_iterator(num_epochs=EPOCHS)) == reference[7:]
    with pytest.raises(ValueError, match="init_step"):
        data.set_init_step(-1)


def test_a_state_from_another_pipeline_or_seed_is_an_error():
    state = random_access().create_tuple_iterator(num_epochs=EPOCHS).state_dict()
    other = ds.GeneratorDataset(Images(), ["image", "label"], shuffle=True).batch(5)
    with pytest.raises(ValueError, match="another pipeline"):
        other.create_tuple_iterator().load_state_dict(state)
    ds.config.set_seed(state["seed"] + 1)
    with pytest.raises(ValueError, match="seed"):
        random_access().create_tuple_iterator().load_state_dict(state)
    with pytest.raises(ValueError, match="not a conveyor iterator state"):
        random_access().create_tuple_iterator().load_state_dict({"epoch": 0})


def test_mid_epoch_behind_a_filter_is_an_error_naming_it_and_an_epoch_start_is_not():
    def make():
        return ds.GeneratorDataset(Images(), ["image", "label"], shuffle=True).filter(
            lambda label: label % 2 == 0, ["label"]).batch(2)

    reference = read(make().create_tuple_iterator(num_epochs=EPOCHS))
    state = make().create_tuple_iterator(num_epochs=EPOCHS).state_dict()
    with pytest.raises(ValueError, match="filter"):
        make().create_tuple_iterator(num_epochs=EPOCHS).load_state_dict({**state, "outputs": 1})
    resumed_iterator = make().create_tuple_iterator(num_epochs=EPOCHS)
    resumed_iterator.load_state_dict({**state, "epoch": 1, "outputs": 0})
    assert read(resumed_iterator) == reference[len(reference) // 2:]


# -- conveyor.torch.DataLoader ---------------------------------------------------------------------


class Noisy(tud.Dataset):
    """Item i: (i, a torch draw, a NumPy draw): random, seeded per sample in worker processes."""

    def __len__(self):
        return 10

    def __getitem__(self, i):
        return i, torch.rand(2), np.random.random()


class Plain(tud.Dataset):
    def __len__(self):
        return 10

    def __getitem__(self, i):
        return {"index": i, "square": torch.tensor([i * i])}


def loader_batches(loader, limit=None):
    out = []
    for _ in range(EPOCHS):
        for batch in loader:
            out.append(repr(batch))
            if limit is not None and len(out) == limit:
                return out
    return out


def loader_resumed(make, k):
    first = make()
    head = loader_batches(first, k) if k else []
    state = json.loads(json.dumps(first.state_dict()))
    first.close()
    second = make()
    second.load_state_dict(state)
    rest = []
    epoch = state["epoch"]
    while epoch < EPOCHS:
        rest.extend(repr(b) for b in second)
        epoch += 1
    second.close()
    return head + rest


def distributed_batches():
    """Batches of 3 over rank 0 of 2 of a shuffled DistributedSampler: a function of the epoch."""
    return tud.BatchSampler(tud.DistributedSampler(Plain(), num_replicas=2, rank=0, seed=1), 3, drop_last=False)


@pytest.mark.parametrize("dataset,kwargs,batches", [
    (Plain, dict(shuffle=True, batch_size=3), 4),
    (Noisy, dict(shuffle=True, batch_size=3, num_workers=2), 4),
    (Plain, dict(shuffle=True, batch_size=3, collate_fn=tud.default_collate), 4),
    (Plain, dict(batch_sampler=distributed_batches), 2),
])
def test_dataloader_resumes_bit_identically(dataset, kwargs, batches):
    def make():
        args = {k: v() if k == "batch_sampler" else v for k, v in kwargs.items()}
        return DataLoader(dataset(), generator=torch.Generator().manual_seed(5), **args)

    reference = loader_batches(make())
    assert len(reference) == EPOCHS * batches
    assert reference[:batches] != reference[batches:]  # each epoch its own order
    ks = (batches + 1,) if "num_workers" in kwargs else (0, 1, batches, batches + 1, 2 * batches - 1)
    for k in ks:  # worker pools are slow to start: one k with workers
        assert loader_resumed(make, k) == reference, f"resumed after {k} batches"


def test_dataloader_state_from_another_loader_is_an_error():
    state = DataLoader(Plain(), batch_size=3).state_dict()
    with pytest.raises(ValueError, match="another loader"):
        DataLoader(Plain(), batch_size=2).load_state_dict(state)
    with pytest.raises(ValueError, match="seed"):
        DataLoader(Plain(), batch_size=3, generator=torch.Generator().manual_seed(state["seed"] + 1)).load_state_dict(state)
