"""What GeneratorDataset reads: random-access objects, iterables and generator functions, and
the Python values a row may hold."""

import numpy as np
import pytest

import conveyor.dataset as ds
from support import Indexed, epochs, rows, values


class CountingIterable:
    """An iterable (no __len__) over 0 .. size-1; counts how often it was iterated."""

    def __init__(self, size):
        self.size, self.passes = size, 0

    def __iter__(self):
        self.passes += 1
        return (np.array(i) for i in range(self.size))


def counting_generator_function(size):
    calls = []

    def generate():
        calls.append(1)
        for i in range(size):
            yield np.array(i)

    return generate, calls


# -- kinds of source --------------------------------------------------------------------------------

def test_a_generator_function_source_is_called_afresh_each_epoch():
    generate, calls = counting_generator_function(6)
    assert epochs(ds.GeneratorDataset(generate, ["x"]), 3) == [list(range(6))] * 3
    assert len(calls) == 3


def test_an_iterable_source_is_iterated_afresh_each_epoch():
    source = CountingIterable(6)
    assert epochs(ds.GeneratorDataset(source, ["x"]), 3) == [list(range(6))] * 3
    assert source.passes == 3


@pytest.mark.parametrize("kind", ["generator function", "iterable"])
def test_each_new_iterator_reads_an_iterable_source_from_the_start(kind):
    source = counting_generator_function(5)[0] if kind == "generator function" else CountingIterable(5)
    data = ds.GeneratorDataset(source, ["x"])
    assert values(data) == list(range(5))
    assert values(data) == list(range(5))
    assert values(data.batch(2)) == [[0, 1], [2, 3], [4]]


@pytest.mark.parametrize("kwargs", [{"shuffle": True}, {"sampler": [0, 1]}, {"num_shards": 2, "shard_id": 0}],
                         ids=["shuffle", "sampler", "shards"])
def test_an_iterable_source_cannot_be_shuffled_sampled_or_sharded(kwargs):
    with pytest.raises(ValueError):
        values(ds.GeneratorDataset(CountingIterable(5), ["x"], **kwargs))


def test_a_random_access_source_is_read_by_index():
    class Squares:
        def __len__(self):
            return 7

        def __getitem__(self, index):
            return np.array(index * index)

    assert values(ds.GeneratorDataset(Squares(), ["x"], shuffle=False)) == [i * i for i in range(7)]


def test_a_random_access_source_is_shuffled_by_default():
    got = values(ds.GeneratorDataset(Indexed(50), ["x"]))
    assert sorted(got) == list(range(50)) and got != list(range(50))


@pytest.mark.parametrize("workers", [1, 2, 4])
def test_several_workers_calling_getitem_keep_the_order(workers):
    assert values(ds.GeneratorDataset(Indexed(200), ["x"], shuffle=False, num_parallel_workers=workers)) \
        == list(range(200))


def test_num_samples_limits_the_rows_of_an_epoch():
    assert values(ds.GeneratorDataset(Indexed(10), ["x"], shuffle=False, num_samples=4)) == [0, 1, 2, 3]


def test_an_iterable_source_with_several_columns():
    def generate():
        for i in range(4):
            yield np.array(i), np.array([i, -i], dtype=np.int16)

    assert rows(ds.GeneratorDataset(generate, ["a", "b"])) == [(i, [i, -i]) for i in range(4)]


def test_a_list_of_tuples_is_a_random_access_source():
    data = [(np.array(i), np.array(2.5 * i)) for i in range(5)]
    assert rows(ds.GeneratorDataset(data, ["i", "f"], shuffle=False)) == [(i, 2.5 * i) for i in range(5)]


# -- Python values in rows --------------------------------------------------------------------------

class Fixed:
    """Random access: every row is ``row``."""

    def __init__(self, row, size=3):
        self.row, self.size = row, size

    def __len__(self):
        return self.size

    def __getitem__(self, index):
        return self.row


def first_row(row, names):
    return next(iter(ds.GeneratorDataset(Fixed(row), names, shuffle=False)
                     .create_tuple_iterator(output_numpy=True, num_epochs=1)))


@pytest.mark.parametrize("value, dtype", [
    (7, np.int64), (-3, np.int64), (2.5, np.float64), (True, np.bool_), (False, np.bool_),
    (np.float32(1.5), np.float32), (np.uint8(200), np.uint8), (np.int16(-9), np.int16),
])
def test_python_and_numpy_scalars_become_0d_arrays(value, dtype):
    (out,) = first_row((value,), ["x"])
    assert out.shape == () and out.dtype == dtype
    assert out.item() == value


@pytest.mark.parametrize("make", [
    lambda: np.arange(3.0).reshape(3, 1)[:, ::-1],
    lambda: np.ndarray((2, 1), np.int16, bytearray(b"\x01\x00\x02\x00\x03\x00\x04\x00"), 0, (2, 3)),
    lambda: np.ndarray((3, 3, 0), np.float16, bytearray(16), 8, (14, 12, -8)),
], ids=["reversed-axis-of-one", "odd-stride-on-axis-of-one", "empty-with-negative-stride"])
def test_arrays_numpy_calls_contiguous_whatever_their_odd_strides_convert(make):
    # Found by row_fuzz: NumPy ignores the strides of axes of extent 1 (and of empty arrays) when
    # it says C-contiguous, and such arrays were refused for their negative or odd strides.
    (out,) = first_row((make(),), ["x"])
    expected = make()
    assert out.shape == expected.shape and out.dtype == expected.dtype
    assert out.tobytes() == np.ascontiguousarray(expected).tobytes()


@pytest.mark.parametrize("value", [b"abc", b"", bytes(range(256)), b"\x00\xff\x00"])
def test_bytes_come_out_as_uint8_arrays(value):
    (out,) = first_row((value,), ["x"])
    assert out.dtype == np.uint8 and out.shape == (len(value),)
    assert out.tobytes() == value


@pytest.mark.parametrize("value", ["hello", "héllo wörld", "", "日本語"])
def test_str_comes_out_as_its_utf8_bytes_in_a_uint8_array(value):
    (out,) = first_row((value,), ["x"])
    assert out.dtype == np.uint8
    assert out.tobytes() == value.encode("utf-8")


def test_a_single_value_row_fills_a_one_column_dataset():
    (out,) = first_row(np.array([1, 2, 3]), ["x"])
    assert out.tolist() == [1, 2, 3]


def test_tuples_and_lists_inside_a_row_become_arrays():
    nested, flat = first_row(((1, 2, 3), [[1.0, 2.0], [3.0, 4.0]]), ["t", "l"])
    assert nested.tolist() == [1, 2, 3] and nested.dtype == np.int64
    assert flat.tolist() == [[1.0, 2.0], [3.0, 4.0]] and flat.dtype == np.float64


def test_a_row_mixing_kinds_of_values_keeps_each_column():
    row = (np.arange(4, dtype=np.float32).reshape(2, 2), 5, b"xy", "z", 0.25)
    a, i, b, s, f = first_row(row, ["a", "i", "b", "s", "f"])
    np.testing.assert_array_equal(a, row[0])
    assert (i.item(), b.tobytes(), s.tobytes(), f.item()) == (5, b"xy", b"z", 0.25)


def test_bytes_of_different_lengths_batch_with_padding():
    words = [b"a", b"bcd", b"ef"]
    data = ds.GeneratorDataset(words, ["w"], shuffle=False).padded_batch(3, pad_info={"w": (None, 0)})
    (batch,) = next(iter(data.create_tuple_iterator(output_numpy=True, num_epochs=1)))
    assert batch.dtype == np.uint8
    assert [bytes(r).rstrip(b"\0") for r in batch] == words


# -- column_types and schema ------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["random access", "iterable", "generator function"])
def test_column_types_convert_each_column(kind):
    def generate():
        for i in range(4):
            yield np.array([i, i + 0.75]), i * 3

    class RandomAccess:
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return np.array([i, i + 0.75]), i * 3

    class Iterable:
        def __iter__(self):
            return generate()

    source = {"random access": RandomAccess(), "iterable": Iterable(), "generator function": generate}[kind]
    shuffle = False if kind == "random access" else None
    data = ds.GeneratorDataset(source, ["f", "i"], column_types=[np.float16, np.uint8], shuffle=shuffle)
    got = list(data.create_tuple_iterator(output_numpy=True, num_epochs=1))
    assert len(got) == 4
    for i, (f, n) in enumerate(got):
        assert f.dtype == np.float16 and n.dtype == np.uint8
        np.testing.assert_array_equal(f, np.array([i, i + 0.75], dtype=np.float16))
        assert n.item() == i * 3


def test_column_types_accept_dtype_names():
    data = ds.GeneratorDataset(Indexed(3), ["x"], column_types=["int8"], shuffle=False)
    assert data.output_types() == [np.int8]
    assert values(data) == [0, 1, 2]


def test_schema_is_not_supported_and_says_so():
    with pytest.raises(ValueError, match="schema"):
        ds.GeneratorDataset(Indexed(3), ["x"], schema={"x": "int64"})


def test_column_names_may_be_a_single_string():
    data = ds.GeneratorDataset(Indexed(3), "x", shuffle=False)
    assert data.get_col_names() == ["x"]
    assert values(data) == [0, 1, 2]
