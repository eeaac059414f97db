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
from conveyor.dataset._workers import ROWS_PER_CHUNK
from conveyor.torch import DataLoader
from support import Images, ManyNoisyImages, NoisyImages

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


def test_batches_collated_by_worker_processes_resume_bit_identically():
    def make():  # batches of 32 rows read a batch a request, collated in the workers' slots
        return ds.GeneratorDataset(ManyNoisyImages(), ["image", "label"], shuffle=True, num_parallel_workers=2).batch(32)

    reference = read(make().create_tuple_iterator(num_epochs=EPOCHS))
    assert [len(labels) for _, labels in reference] == [32, 32, 16] * EPOCHS
    for k in (1, 4):
        outputs, _ = resumed(make, k)
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


# -- stages whose outputs are not a fixed number of source rows: resumed from the stages' state ---


def kept(label):
    return label % 3 != 1


def even_rows_numbered(images, labels, batch_info):
    """A per_batch_map that changes the number of rows and marks them with the batch's number."""
    rows = [(image, label + 1000 * (batch_info.get_batch_num() + 1)) for image, label in zip(images, labels)
            if label % 2 == 0] or [(images[0], labels[0])]
    return [image for image, _ in rows], [np.int64(label) for _, label in rows]


def source(workers=1, processes=False, shuffle=True):
    return ds.GeneratorDataset(NoisyImages() if processes else Images(), ["image", "label"], shuffle=shuffle,
                               num_parallel_workers=workers, python_multiprocessing=processes)


def crops(data):
    return data.map([vision.RandomCrop(6, padding=1), vision.RandomHorizontalFlip(0.5)], ["image"])


STATEFUL = {
    "filter": lambda w, p: crops(source(w, p)).filter(kept, ["label"]).batch(3),
    "shuffle buffer over random access": lambda w, p: crops(source(w, p, shuffle=False)).shuffle(6).batch(BATCH),
    "shuffle buffer over an iterable": lambda w, p: crops(
        ds.GeneratorDataset(lambda: images(ROWS), ["image", "label"]).shuffle(5)).batch(BATCH),
    "take and skip": lambda w, p: crops(source(w, p)).skip(2).take(15).batch(BATCH),
    "repeat": lambda w, p: crops(source(w, p)).batch(BATCH).repeat(2),
    "per_batch_map": lambda w, p: crops(source(w, p)).batch(BATCH, per_batch_map=even_rows_numbered),
    "all together": lambda w, p: crops(source(w, p, shuffle=False).shuffle(8)).filter(kept, ["label"]).take(
        12).batch(3, per_batch_map=even_rows_numbered).repeat(2),
}


def check_resumes_after_every_output(make):
    reference = read(make().create_tuple_iterator(num_epochs=EPOCHS))
    first_epoch = len(list(make().create_tuple_iterator(num_epochs=1)))
    assert 2 < first_epoch < len(reference)
    for k in range(len(reference) + 1):  # 0, mid-epoch, exactly at the epoch's end, ...
        outputs, state = resumed(make, k)
        assert outputs == reference, f"resumed after {k} outputs"
        assert (state["cut"] is not None) == (state["outputs"] > 0)
        assert len(json.dumps(state)) < 1000  # small: counts, and a shuffle buffer's rows
    outputs, state = resumed(make, first_epoch, through_end=True)
    assert (state["epoch"], state["outputs"], state["cut"]) == (1, 0, None)
    assert outputs == reference


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("name", list(STATEFUL))
def test_stateful_stages_resume_bit_identically_after_every_output(name, workers):
    check_resumes_after_every_output(lambda: STATEFUL[name](workers, False))


@pytest.mark.parametrize("name", ["filter", "take and skip", "per_batch_map"])
def test_stateful_stages_resume_bit_identically_with_worker_processes(name):
    def make():
        return STATEFUL[name](2, True)

    reference = read(make().create_tuple_iterator(num_epochs=EPOCHS))
    for k in (1, 6):  # worker pools are slow to start: two positions, one per epoch
        outputs, _ = resumed(make, k)
        assert outputs == reference, f"resumed after {k} outputs"


@pytest.mark.time_limit(90)  # 15 worker pools, each slow to start
def test_a_shuffle_buffer_over_worker_processes_resumes_bit_identically():
    """Worker processes read chunks of ROWS_PER_CHUNK rows and seed numpy.random once per chunk:
    a buffered row is read again in its whole chunk, so that it gets the same noise."""
    def make():
        return source(2, True).shuffle(8).batch(BATCH)

    reference = read(make().create_tuple_iterator(num_epochs=EPOCHS))
    earlier_chunk = False
    for k in (1, 3, 4, 5, 7, 9):  # mid-epoch in both epochs, and after the first epoch's last batch
        outputs, state = resumed(make, k)
        assert outputs == reference, f"resumed after {k} batches"
        buffered = state["cut"]["shuffle"]["rows"]
        head = state["cut"]["rows"] // ROWS_PER_CHUNK * ROWS_PER_CHUNK
        earlier_chunk = earlier_chunk or any(row < head for row in buffered)
    assert earlier_chunk, "no state held a row of a chunk before the one it stopped in"
    outputs, state = resumed(make, ROWS // BATCH, through_end=True)
    assert (state["epoch"], state["outputs"], state["cut"]) == (1, 0, None)
    assert outputs == reference


def test_a_shuffle_buffer_is_refilled_with_its_own_rows_only():
    counting = CountingImages()
    def make():
        return ds.GeneratorDataset(counting, ["image", "label"], shuffle=False).shuffle(5).batch(BATCH)

    first = make().create_tuple_iterator(num_epochs=1)
    head = read(first, limit=2)
    state = json.loads(json.dumps(first.state_dict()))
    first.stop()
    assert len(state["cut"]["shuffle"]["rows"]) == 4  # 12 rows read, 8 out
    assert state["cut"]["rows"] == 12
    counting.reads = 0
    second = make().create_tuple_iterator(num_epochs=1)
    second.load_state_dict(state)
    rest = read(second)
    assert len(head) + len(rest) == ROWS // BATCH
    assert counting.reads == ROWS - 2 * BATCH  # the 4 it held and the 8 after them, each once


def test_a_mid_epoch_state_without_the_stages_state_is_an_error_naming_the_stage():
    def make():
        return ds.GeneratorDataset(Images(), ["image", "label"], shuffle=True).filter(kept, ["label"]).batch(2)

    reference = read(make().create_tuple_iterator(num_epochs=EPOCHS))
    state = make().create_tuple_iterator(num_epochs=EPOCHS).state_dict()
    with pytest.raises(ValueError, match="filter"):
        make().create_tuple_iterator(num_epochs=EPOCHS).load_state_dict({**state, "outputs": 1, "cut": None})
    resumed_iterator = make().create_tuple_iterator(num_epochs=EPOCHS)
    resumed_iterator.load_state_dict({**state, "epoch": 1, "outputs": 0})
    assert read(resumed_iterator) == reference[len(reference) // 2:]


@pytest.mark.parametrize("make,stage", [
    (lambda: source().filter(kept, ["label"]).shuffle(4).batch(2), "a shuffle buffer over a filter"),
    (lambda: source().shuffle(4).shuffle(4).batch(2), "a shuffle buffer over another shuffle buffer"),
    (lambda: ds.zip([source().project(["image"]), source().project(["label"])]).batch(2), "zip or concat"),
    (lambda: source().concat(source()).batch(2), "zip or concat"),
])
def test_pipelines_that_cannot_resume_mid_epoch_say_which_stage_and_resume_at_an_epoch_start(make, stage):
    first = make().create_tuple_iterator(num_epochs=EPOCHS)
    reference = read(make().create_tuple_iterator(num_epochs=EPOCHS))
    read(first, limit=1)
    state = json.loads(json.dumps(first.state_dict()))
    first.stop()
    assert state["outputs"] == 1 and state["cut"] is None
    with pytest.raises(ValueError, match=stage):
        make().create_tuple_iterator(num_epochs=EPOCHS).load_state_dict(state)
    at_epoch_start = make().create_tuple_iterator(num_epochs=EPOCHS)
    at_epoch_start.load_state_dict({**state, "epoch": 1, "outputs": 0})
    assert read(at_epoch_start) == reference[len(reference) // 2:]


def test_a_stages_state_that_does_not_fit_is_an_error():
    make = STATEFUL["shuffle buffer over random access"]
    first = make(1, False).create_tuple_iterator(num_epochs=EPOCHS)
    read(first, limit=1)
    state = json.loads(json.dumps(first.state_dict()))
    first.stop()
    with pytest.raises(ValueError, match="not a conveyor iterator state"):
        make(1, False).create_tuple_iterator().load_state_dict({**state, "cut": {"rows": "twelve"}})
    with pytest.raises(ValueError, match="another pipeline"):
        make(1, False).create_tuple_iterator().load_state_dict({**state, "cut": {**state["cut"], "counts": [1]}})
    with pytest.raises(ValueError, match="not a count"):
        make(1, False).create_tuple_iterator().load_state_dict({**state, "epoch": -1})
    stuck = {**state["cut"], "shuffle": {**state["cut"]["shuffle"], "rng": [0, 0, 0, 0]}}
    with pytest.raises(ValueError, match="all zeros"):
        make(1, False).create_tuple_iterator().load_state_dict({**state, "cut": stuck})


def test_a_refused_state_leaves_the_iterator_where_it_was():
    make = STATEFUL["shuffle buffer over random access"]
    reference = read(make(1, False).create_tuple_iterator(num_epochs=EPOCHS))
    iterator = make(1, False).create_tuple_iterator(num_epochs=EPOCHS)
    head = read(iterator, limit=2)
    state = iterator.state_dict()
    with pytest.raises(ValueError, match="another pipeline"):
        iterator.load_state_dict({**state, "cut": {**state["cut"], "counts": [1]}})
    assert iterator.state_dict() == state
    assert head + read(iterator) == reference


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


class Numbered:
    """Row i: the int64 i; 4,000 rows."""

    def __len__(self):
        return 4000

    def __getitem__(self, i):
        return np.int64(i)


def test_state_read_on_another_thread_while_next_runs_is_a_consistent_position():
    import threading
    data = ds.GeneratorDataset(Numbered(), ["x"], shuffle=True, num_parallel_workers=2).batch(10)
    iterator = data.create_tuple_iterator(output_numpy=True, num_epochs=1)
    states, done = [], threading.Event()

    def checkpoint():
        while not done.is_set():
            state = iterator.state_dict()
            states.append(state["epoch"] * 400 + state["outputs"])

    thread = threading.Thread(target=checkpoint)
    thread.start()
    try:
        count = sum(1 for _ in iterator)
    finally:
        done.set()
        thread.join()
    assert count == 400 and len(states) > 1
    assert states == sorted(states) and all(0 <= s <= 400 for s in states)  # the epoch's end: (1, 0)
