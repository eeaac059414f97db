"""Reading a pipeline: tuple and dict iterators, NumPy and conveyor.Tensor outputs, `for row in
dataset`, and epochs through one iterator."""

import numpy as np
import pytest

import conveyor
import conveyor.dataset as ds
from support import Columns, Slow, dataset


def three_columns(size):
    return ds.GeneratorDataset(Columns(size, 3), ["a", "b", "c"], shuffle=False)


def expected_row(i, names=("a", "b", "c")):
    scale = {"a": 1, "b": 10, "c": 100}
    return [i * scale[n] for n in names]


# -- columns and output types -----------------------------------------------------------------------

@pytest.mark.parametrize("output_numpy", [True, False], ids=["numpy", "tensor"])
@pytest.mark.parametrize("columns", [["c", "a"], ["b"], ["a", "b", "c"], ["c", "b", "a"]])
def test_tuple_iterator_columns_select_and_reorder(columns, output_numpy):
    got = [[np.asarray(v).tolist() for v in row]
           for row in three_columns(4).create_tuple_iterator(columns=columns, output_numpy=output_numpy, num_epochs=1)]
    assert got == [expected_row(i, columns) for i in range(4)]


def test_tuple_iterator_without_columns_gives_every_column_in_order():
    got = [[v.tolist() for v in row] for row in three_columns(3).create_tuple_iterator(output_numpy=True, num_epochs=1)]
    assert got == [expected_row(i) for i in range(3)]


def test_tuple_iterator_of_an_unknown_column_is_an_error():
    with pytest.raises(ValueError):
        three_columns(2).create_tuple_iterator(columns=["a", "zzz"])


def test_output_numpy_gives_numpy_arrays():
    row = next(iter(three_columns(2).batch(2).create_tuple_iterator(output_numpy=True, num_epochs=1)))
    assert all(type(v) is np.ndarray for v in row)


def test_default_output_is_conveyor_tensors():
    row = next(iter(three_columns(2).batch(2).create_tuple_iterator(num_epochs=1)))
    assert all(isinstance(v, conveyor.Tensor) for v in row)


def pattern(shape, dtype, i):
    """Row i of the tensor tests: distinct values that every dtype can hold."""
    return ((np.arange(int(np.prod(shape))) + i) % 7).astype(dtype).reshape(shape)


def batch_tensor(dtype=np.float32, shape=(2, 3)):
    class Source:
        def __len__(self):
            return 8

        def __getitem__(self, i):
            return pattern(shape, dtype, i)

    data = ds.GeneratorDataset(Source(), ["v"], shuffle=False).batch(4)
    (tensor,) = next(iter(data.create_tuple_iterator(num_epochs=1)))
    return tensor, np.stack([pattern(shape, dtype, i) for i in range(4)])


DTYPES = [np.float32, np.float64, np.float16, np.int64, np.int32, np.int16, np.int8, np.uint8, np.uint16, np.bool_]


@pytest.mark.parametrize("dtype", DTYPES)
def test_tensor_exposes_dtype_and_values_to_numpy(dtype):
    tensor, expected = batch_tensor(dtype)
    assert tensor.dtype == expected.dtype
    assert tensor.ndim == expected.ndim
    assert tensor.nbytes == expected.nbytes
    assert len(tensor) == expected.shape[0]
    for array in (np.asarray(tensor), tensor.__array__(), tensor.asnumpy()):
        assert array.dtype == expected.dtype
        np.testing.assert_array_equal(array, expected)


@pytest.mark.parametrize("shape", [(2, 3), (5,), ()])
def test_tensor_shape_is_the_batch_shape_as_a_tuple(shape):
    tensor, expected = batch_tensor(np.float32, shape)
    assert tensor.shape == expected.shape
    assert isinstance(tensor.shape, tuple)


def test_len_of_a_0d_tensor_is_a_type_error():
    (tensor,) = next(iter(dataset(2).create_tuple_iterator(num_epochs=1)))
    assert tensor.ndim == 0 and int(np.asarray(tensor)) == 0
    with pytest.raises(TypeError):
        len(tensor)


def first_tensor(value):
    return next(iter(ds.GeneratorDataset([(value,)], ["x"], shuffle=False).create_tuple_iterator(num_epochs=1)))[0]


def test_a_tensor_prints_its_values_as_numpy_does():
    tensor = first_tensor(np.arange(6, dtype=np.int64).reshape(2, 3))
    assert repr(tensor) == "conveyor.Tensor([[0, 1, 2],\n                 [3, 4, 5]], dtype=int64)"
    assert str(tensor) == "[[0 1 2]\n [3 4 5]]"
    assert repr(first_tensor(np.float32(1.5))) == "conveyor.Tensor(1.5, dtype=float32)"
    assert repr(first_tensor(np.zeros((0, 3), np.uint8))) == "conveyor.Tensor([], dtype=uint8, shape=(0, 3))"
    assert "..." in repr(first_tensor(np.zeros(5000, np.float32))), "large tensors are abbreviated"
    assert repr(first_tensor("héllo")) == "conveyor.Tensor(b'h\\xc3\\xa9llo', dtype=bytes)"


def test_tensor_array_honours_dtype_and_copy():
    tensor, expected = batch_tensor(np.int32)
    as_float = np.asarray(tensor, dtype=np.float64)
    assert as_float.dtype == np.float64
    np.testing.assert_array_equal(as_float, expected.astype(np.float64))
    copied = np.array(tensor, copy=True)
    np.testing.assert_array_equal(copied, expected)
    assert copied.ctypes.data != tensor.data_ptr


def test_tensor_is_a_dlpack_producer_for_numpy():
    tensor, expected = batch_tensor(np.float32)
    assert tensor.__dlpack_device__() == (1, 0)  # kDLCPU, device 0
    np.testing.assert_array_equal(np.from_dlpack(tensor), expected)


@pytest.mark.parametrize("dtype", DTYPES)
def test_tensor_is_a_dlpack_producer_for_torch(dtype):
    torch = pytest.importorskip("torch")
    tensor, expected = batch_tensor(dtype)
    converted = torch.from_dlpack(tensor)
    assert tuple(converted.shape) == expected.shape
    np.testing.assert_array_equal(converted.numpy(), expected)


# -- dict iterator and `for row in dataset` ---------------------------------------------------------

@pytest.mark.parametrize("output_numpy", [True, False], ids=["numpy", "tensor"])
def test_dict_iterator_maps_column_names_to_values(output_numpy):
    got = list(three_columns(3).rename("b", "beta").create_dict_iterator(output_numpy=output_numpy, num_epochs=1))
    assert [list(row) for row in got] == [["a", "beta", "c"]] * 3
    for i, row in enumerate(got):
        assert isinstance(row["a"], np.ndarray if output_numpy else conveyor.Tensor)
        assert {k: np.asarray(v).tolist() for k, v in row.items()} == dict(zip(["a", "beta", "c"], expected_row(i)))


def test_for_row_in_a_dataset_reads_one_epoch_of_rows():
    got = [[np.asarray(v).tolist() for v in row] for row in three_columns(5)]
    assert got == [expected_row(i) for i in range(5)]


def test_for_row_in_a_dataset_starts_afresh_each_time():
    data = dataset(4)
    assert [int(np.asarray(r[0])) for r in data] == [0, 1, 2, 3]
    assert [int(np.asarray(r[0])) for r in data] == [0, 1, 2, 3]


# -- epochs through one iterator ----------------------------------------------------------------------

@pytest.mark.parametrize("make", [
    lambda d: d.create_tuple_iterator(output_numpy=True, num_epochs=2),
    lambda d: d.create_dict_iterator(output_numpy=True, num_epochs=2),
], ids=["tuple", "dict"])
def test_an_iterator_with_two_epochs_reads_two_then_stops(make):
    iterator = make(dataset(5))

    def epoch():
        return [int(np.asarray(row["x"] if isinstance(row, dict) else row[0])) for row in iterator]

    assert epoch() == list(range(5))
    assert epoch() == list(range(5))
    assert epoch() == []
    with pytest.raises(StopIteration):
        next(iterator)


def test_an_iterator_without_an_epoch_count_reads_as_many_epochs_as_asked():
    iterator = dataset(4).batch(3).create_tuple_iterator(output_numpy=True, num_epochs=-1)
    for _ in range(5):
        assert [row[0].tolist() for row in iterator] == [[0, 1, 2], [3]]
    iterator.stop()


def test_the_default_epoch_count_is_unbounded():
    iterator = dataset(3).create_tuple_iterator(output_numpy=True)
    for _ in range(4):
        assert [int(row[0]) for row in iterator] == [0, 1, 2]
    iterator.stop()


def test_shuffled_epochs_through_one_iterator_differ_and_each_is_complete():
    iterator = dataset(40, shuffle=True).create_tuple_iterator(output_numpy=True, num_epochs=3)
    got = [[int(row[0]) for row in iterator] for _ in range(3)]
    assert all(sorted(epoch) == list(range(40)) for epoch in got)
    assert got[0] != got[1] != got[2]


def test_an_epoch_can_be_read_with_next_calls():
    iterator = dataset(3).create_tuple_iterator(output_numpy=True, num_epochs=1)
    assert [int(next(iterator)[0]) for _ in range(3)] == [0, 1, 2]
    with pytest.raises(StopIteration):
        next(iterator)


def test_two_iterators_over_one_dataset_are_independent():
    data = dataset(6)
    first = data.create_tuple_iterator(output_numpy=True, num_epochs=1)
    second = data.create_tuple_iterator(output_numpy=True, num_epochs=1)
    assert [int(next(first)[0]) for _ in range(2)] == [0, 1]
    assert [int(row[0]) for row in second] == list(range(6))
    assert [int(row[0]) for row in first] == [2, 3, 4, 5]


def test_a_stopped_iterator_yields_nothing_more():
    iterator = dataset(10).create_tuple_iterator(output_numpy=True, num_epochs=1)
    next(iterator)
    iterator.stop()
    assert list(iterator) == []


def test_stats_count_the_readers_wait_as_the_output_stages_wait_for_input():
    # The source sleeps 20 ms in all on one worker; the reader, faster, waits for most of it.
    iterator = ds.GeneratorDataset(Slow(20, 0.001), ["x"], shuffle=False).create_tuple_iterator(num_epochs=1)
    assert len(list(iterator)) == 20
    output = iterator.stats()[-1]
    assert output["name"] == "output" and output["rows"] == 20
    assert output["wait_input_s"] >= 0.01
