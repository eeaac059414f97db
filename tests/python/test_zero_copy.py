"""Batches reach NumPy (buffer protocol) and torch (DLPack) without a copy, a source's arrays
pass through an unbatched pipeline without one, the arrays a pipeline holds are let go of as it
goes, and memory handed out stays valid."""

import gc
import weakref

import numpy as np
import pytest

import conveyor.dataset as ds


class Matrix:
    """Random access: row i is a view of row i of one float32 matrix (no copy made here)."""

    def __init__(self, size=16, width=32):
        self.matrix = np.arange(size * width, dtype=np.float32).reshape(size, width)

    def __len__(self):
        return len(self.matrix)

    def __getitem__(self, index):
        return self.matrix[index]

    def address(self, index):
        return self.matrix[index].ctypes.data


class Fresh:
    """Random access: row i is a new small array, each watched through a weak reference."""

    def __init__(self, size):
        self.size, self.made = size, []

    def __len__(self):
        return self.size

    def __getitem__(self, index):
        array = np.full(8, index, np.float32)
        self.made.append(weakref.ref(array))
        return array, index

    def alive(self):
        return sum(ref() is not None for ref in self.made)


@pytest.mark.parametrize("workers", [1, 2])
def test_arrays_a_pipeline_has_read_are_let_go_of_as_it_goes_and_all_at_its_end(workers):
    source = Fresh(4000)
    data = ds.GeneratorDataset(source, ["x", "i"], shuffle=False, num_parallel_workers=workers,
                               python_multiprocessing=False).batch(10)
    iterator = data.create_tuple_iterator(output_numpy=True, num_epochs=1)
    seen = [int(i[0]) for _, i in iterator]
    assert seen == list(range(0, 4000, 10))
    gc.collect()
    assert len(source.made) == 4000
    assert source.alive() < 4000 // 2  # released while the epoch ran, not only at its end
    del iterator, data
    gc.collect()
    assert source.alive() == 0


def batches(output_numpy, batch_size=4, num_epochs=1):
    data = ds.GeneratorDataset(Matrix(), ["m"], shuffle=False).batch(batch_size)
    return data.create_tuple_iterator(output_numpy=output_numpy, num_epochs=num_epochs)


def test_numpy_view_of_a_batch_tensor_shares_its_memory():
    for (tensor,) in batches(output_numpy=False):
        array = np.asarray(tensor)
        assert array.ctypes.data == tensor.data_ptr
        assert not array.flags.owndata


def test_torch_view_of_a_batch_tensor_shares_its_memory():
    torch = pytest.importorskip("torch")
    for (tensor,) in batches(output_numpy=False):
        assert torch.from_dlpack(tensor).data_ptr() == tensor.data_ptr


def test_numpy_output_does_not_own_its_data():
    for (array,) in batches(output_numpy=True):
        assert array.base is not None
        assert not array.flags.owndata


def test_writing_through_one_view_shows_in_the_other():
    torch = pytest.importorskip("torch")
    (tensor,) = next(iter(batches(output_numpy=False)))
    array = np.asarray(tensor)
    torch.from_dlpack(tensor)[0, 0] = -123.0
    assert array[0, 0] == -123.0


@pytest.mark.parametrize("output_numpy", [True, False], ids=["numpy", "tensor"])
@pytest.mark.parametrize("workers", [1, 3])
@pytest.mark.parametrize("width", [3, 64 * 1024])
def test_an_unbatched_pipeline_passes_the_source_arrays_through(output_numpy, workers, width):
    source = Matrix(width=width)
    data = ds.GeneratorDataset(source, ["m"], shuffle=False, num_parallel_workers=workers, python_multiprocessing=False)
    for i, (value,) in enumerate(data.create_tuple_iterator(output_numpy=output_numpy, num_epochs=1)):
        address = value.ctypes.data if output_numpy else value.data_ptr
        assert address == source.address(i)


def test_a_map_returning_its_input_passes_the_source_array_through():
    source = Matrix()
    data = ds.GeneratorDataset(source, ["m"], shuffle=False).map(lambda m: m)
    for i, (value,) in enumerate(data.create_tuple_iterator(output_numpy=True, num_epochs=1)):
        assert value.ctypes.data == source.address(i)


def test_a_strided_source_view_keeps_its_values():
    class Columns:
        def __init__(self):
            self.matrix = np.arange(60, dtype=np.int32).reshape(6, 10)

        def __len__(self):
            return 6

        def __getitem__(self, index):
            return self.matrix[index, ::3], self.matrix[::-1, index]  # strided, and reversed

    source = Columns()
    for i, (strided, reversed_) in enumerate(ds.GeneratorDataset(source, ["s", "r"], shuffle=False)
                                             .create_tuple_iterator(output_numpy=True, num_epochs=1)):
        np.testing.assert_array_equal(strided, source.matrix[i, ::3])
        np.testing.assert_array_equal(reversed_, source.matrix[::-1, i])


def test_a_source_array_at_an_unaligned_address_is_copied_to_an_aligned_one():
    class Unaligned:
        def __init__(self):
            self.buffer = np.arange(17, dtype=np.uint8).tobytes()

        def __len__(self):
            return 3

        def __getitem__(self, index):
            return np.frombuffer(self.buffer, dtype=np.float32, count=4, offset=1)  # float32 at an odd address

    source = Unaligned()
    for (value,) in ds.GeneratorDataset(source, ["x"], shuffle=False).create_tuple_iterator(output_numpy=True,
                                                                                             num_epochs=1):
        assert value.ctypes.data % 4 == 0
        np.testing.assert_array_equal(value, source[0])


@pytest.mark.parametrize("output_numpy", [True, False], ids=["numpy", "tensor"])
def test_batches_kept_by_the_consumer_are_never_overwritten(output_numpy):
    """The engine reuses batch buffers; one still referenced must not be reused."""
    source = Matrix(size=64)
    iterator = ds.GeneratorDataset(source, ["m"], shuffle=False).batch(4).create_tuple_iterator(
        output_numpy=output_numpy, num_epochs=3)
    kept = [row[0] for _ in range(3) for row in iterator]
    del iterator
    gc.collect()
    assert len(kept) == 3 * 16
    for n, value in enumerate(kept):
        b = n % 16
        np.testing.assert_array_equal(np.asarray(value), source.matrix[4 * b: 4 * b + 4])


def test_a_torch_tensor_outlives_its_iterator():
    torch = pytest.importorskip("torch")
    source = Matrix()
    iterator = ds.GeneratorDataset(source, ["m"], shuffle=False).batch(8).create_tuple_iterator(num_epochs=1)
    tensors = [torch.from_dlpack(row[0]) for row in iterator]
    iterator.stop()
    del iterator
    gc.collect()
    for b, tensor in enumerate(tensors):
        np.testing.assert_array_equal(tensor.numpy(), source.matrix[8 * b: 8 * b + 8])
