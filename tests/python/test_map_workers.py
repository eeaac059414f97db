"""map(python_multiprocessing=True): Python map functions in worker processes, the columns sent
with each request and the results back through shared memory; native ops around them stay in
this process. Functions live at module level: workers unpickle them by name."""

import os
import random

import numpy as np
import pytest

import conveyor.dataset as ds
from conveyor.dataset import transforms, vision


class Numbers:
    def __len__(self):
        return 40

    def __getitem__(self, index):
        return np.full((3, 4), index, dtype=np.float32), np.int64(index)


def double_and_pid(image):
    return image * 2, np.int64(os.getpid())


def add_one_in_place(image):
    image += 1  # the worker's copy of the column is writable, as an in-process one is
    return image


def noisy(image):
    return image + np.float32(np.random.random()) + np.float32(random.random())


def mapped(fn, workers=2, multiprocessing=True, columns=("image",), outputs=None, epochs=1):
    data = ds.GeneratorDataset(Numbers(), ["image", "label"], shuffle=False)
    data = data.map(fn, input_columns=list(columns), output_columns=outputs, num_parallel_workers=workers,
                    python_multiprocessing=multiprocessing)
    iterator = data.create_tuple_iterator(output_numpy=True, num_epochs=epochs)
    return [[tuple(c.copy() for c in row) for row in iterator] for _ in range(epochs)][0] if epochs == 1 else None


def test_functions_run_in_worker_processes_in_order():
    out = mapped(double_and_pid, outputs=["image", "pid"])
    assert [int(label) for _, _, label in out] == list(range(40))
    for image, pid, label in out:
        assert np.array_equal(image, np.full((3, 4), 2 * label, np.float32))
    pids = {int(pid) for _, pid, _ in out}
    assert os.getpid() not in pids and 1 <= len(pids) <= 2


def test_without_multiprocessing_functions_run_in_this_process():
    out = mapped(double_and_pid, multiprocessing=False, outputs=["image", "pid"])
    assert {int(pid) for _, pid, _ in out} == {os.getpid()}


def test_inputs_are_writable_in_the_worker():
    out = mapped(add_one_in_place)
    assert all(np.array_equal(image, np.full((3, 4), label + 1, np.float32)) for image, label in out)


def test_random_draws_are_identical_whatever_the_worker_count(restore_config):
    ds.config.set_seed(3)
    two, four = mapped(noisy, workers=2), mapped(noisy, workers=4)
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(two, four))
    assert len({float(image[0, 0]) - float(label) for image, label in two}) > 30  # rows drew different numbers


def test_native_ops_around_python_functions_give_what_threads_give():
    def run(multiprocessing):
        data = ds.GeneratorDataset(Numbers(), ["image", "label"], shuffle=False)
        data = data.map([transforms.TypeCast(np.float64), add_one_in_place, transforms.TypeCast(np.float32)],
                        input_columns=["image"], num_parallel_workers=2, python_multiprocessing=multiprocessing)
        return [image.copy() for image, _ in data.create_tuple_iterator(output_numpy=True, num_epochs=1)]

    processes, threads = run(True), run(False)
    assert processes[5].dtype == np.float32
    assert all(np.array_equal(a, b) for a, b in zip(processes, threads))


def test_a_function_that_cannot_be_pickled_is_a_clear_error():
    with pytest.raises(TypeError, match="map function.*cannot be pickled.*python_multiprocessing=False"):
        mapped(lambda image: image)
