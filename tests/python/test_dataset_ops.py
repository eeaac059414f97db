"""Dataset methods: map, filter, batch (drop_remainder, per_batch_map), padded_batch, shuffle,
repeat, take, skip, project, rename, zip, concat, and the facts a dataset reports."""

import math
import subprocess

import numpy as np
import pytest

import conveyor.dataset as ds
from support import Columns, Indexed, Sequences, dataset, epochs, padded, rows, run_python, values


def two_columns(size, **kwargs):
    kwargs.setdefault("shuffle", False)
    return ds.GeneratorDataset(Columns(size, 2), ["a", "b"], **kwargs)


def three_columns(size):
    return ds.GeneratorDataset(Columns(size, 3), ["a", "b", "c"], shuffle=False)


# -- map --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("workers", [1, 2, 4])
def test_map_applies_one_function_to_every_row_in_order(workers):
    mapped = dataset(40).map(operations=lambda x: x * 3 + 1, input_columns=["x"], num_parallel_workers=workers)
    assert values(mapped) == [i * 3 + 1 for i in range(40)]


def test_map_applies_a_list_of_functions_in_order():
    mapped = dataset(10).map(operations=[lambda x: x + 1, lambda x: x * 10], input_columns="x")
    assert values(mapped) == [(i + 1) * 10 for i in range(10)]


def test_map_defaults_to_the_first_column():
    mapped = two_columns(6).map(operations=lambda a: -a)
    assert mapped.get_col_names() == ["a", "b"]
    assert rows(mapped) == [(-i, 10 * i) for i in range(6)]


def test_map_on_a_later_column_leaves_the_others_alone():
    mapped = three_columns(5).map(operations=lambda b: b + 7, input_columns=["b"])
    assert rows(mapped) == [(i, 10 * i + 7, 100 * i) for i in range(5)]


def test_map_with_more_output_columns_adds_them_at_the_input_place():
    mapped = two_columns(5).map(operations=lambda a: (a, a * a), input_columns=["a"], output_columns=["a", "square"])
    assert mapped.get_col_names() == ["a", "square", "b"]
    assert rows(mapped) == [(i, i * i, 10 * i) for i in range(5)]


def test_map_with_fewer_output_columns_merges_the_inputs():
    mapped = three_columns(5).map(operations=lambda b, c: b + c, input_columns=["b", "c"], output_columns=["sum"])
    assert mapped.get_col_names() == ["a", "sum"]
    assert rows(mapped) == [(i, 110 * i) for i in range(5)]


def test_map_output_columns_rename_the_result():
    mapped = two_columns(3).map(operations=lambda b: b // 10, input_columns=["b"], output_columns=["b_over_10"])
    assert mapped.get_col_names() == ["a", "b_over_10"]
    assert rows(mapped) == [(i, i) for i in range(3)]


def test_map_can_change_dtype_and_shape():
    mapped = dataset(4).map(operations=lambda x: np.full((2, 3), x, dtype=np.float32))
    out = [row[0] for row in mapped.create_tuple_iterator(output_numpy=True, num_epochs=1)]
    assert [a.dtype for a in out] == [np.float32] * 4
    for i, a in enumerate(out):
        np.testing.assert_array_equal(a, np.full((2, 3), i, dtype=np.float32))


def test_map_rejects_a_non_callable_operation():
    with pytest.raises(TypeError):
        dataset(3).map(operations=[lambda x: x, 42])


# -- filter -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("workers", [1, 3])
def test_filter_keeps_the_rows_the_predicate_accepts_in_order(workers):
    kept = dataset(30).filter(lambda x: x % 3 == 0, num_parallel_workers=workers)
    assert values(kept) == list(range(0, 30, 3))


def test_filter_sees_only_its_input_columns():
    seen = []

    def predicate(b):
        seen.append(int(b))
        return b % 20 == 0

    kept = two_columns(6).filter(predicate, input_columns=["b"])
    assert rows(kept) == [(0, 0), (2, 20), (4, 40)]
    assert sorted(seen) == [0, 10, 20, 30, 40, 50]


def test_filter_without_input_columns_sees_every_column():
    kept = three_columns(6).filter(lambda a, b, c: a + b + c > 300)
    assert values(kept) == [3, 4, 5]


# -- batch ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("drop_remainder", [False, True], ids=["keep", "drop"])
@pytest.mark.parametrize("size, batch_size", [(10, 3), (12, 4), (5, 7), (7, 1), (1, 1)])
def test_batch_sizes_and_drop_remainder(size, batch_size, drop_remainder):
    batched = dataset(size).batch(batch_size, drop_remainder=drop_remainder)
    got = values(batched)
    full, rest = divmod(size, batch_size)
    expected = [list(range(b * batch_size, (b + 1) * batch_size)) for b in range(full)]
    if rest and not drop_remainder:
        expected.append(list(range(full * batch_size, size)))
    assert got == expected
    assert batched.get_dataset_size() == len(expected)
    assert batched.get_batch_size() == batch_size


def test_batch_stacks_each_column_along_a_new_first_axis():
    batched = ds.GeneratorDataset(Sequences(8, period=1), ["seq", "i"], shuffle=False).batch(4)
    seq, index = next(iter(batched.create_tuple_iterator(output_numpy=True, num_epochs=1)))
    assert seq.shape == (4, 1) and seq.dtype == np.int32
    assert index.shape == (4,) and index.dtype == np.int64
    np.testing.assert_array_equal(index, [0, 1, 2, 3])


def test_batch_of_rows_of_different_shapes_is_an_error_without_padding():
    with pytest.raises(Exception, match="(?i)shape"):
        values(ds.GeneratorDataset(Sequences(8), ["seq", "i"], shuffle=False).batch(4))


@pytest.mark.parametrize("batch_size", [0, -2, 1.5])
def test_batch_size_must_be_a_positive_integer(batch_size):
    with pytest.raises(ValueError):
        dataset(4).batch(batch_size)


def test_per_batch_map_gets_one_list_per_column_and_the_batch_info():
    calls = []

    def per_batch_map(a, b, info):
        calls.append((info.get_epoch_num(), info.get_batch_num(), [int(x) for x in a], [int(x) for x in b]))
        return [x + 1 for x in a], [y * 2 for y in b]

    batched = two_columns(7).batch(3, per_batch_map=per_batch_map)
    got = [[(row[0].tolist(), row[1].tolist()) for row in iterator_epoch]
           for iterator_epoch in _two_epochs(batched)]
    expected_epoch = [([1, 2, 3], [0, 20, 40]), ([4, 5, 6], [60, 80, 100]), ([7], [120])]
    assert got == [expected_epoch, expected_epoch]
    batches = [([0, 1, 2], [0, 10, 20]), ([3, 4, 5], [30, 40, 50]), ([6], [60])]
    assert sorted(calls) == [(epoch, n, a, b) for epoch in range(2) for n, (a, b) in enumerate(batches)]


def _two_epochs(data):
    iterator = data.create_tuple_iterator(output_numpy=True, num_epochs=2)
    return [list(iterator), list(iterator)]


def test_per_batch_map_on_input_columns_leaves_the_other_columns_alone():
    def per_batch_map(b, info):
        return ([-y for y in b],)

    batched = three_columns(4).batch(2, per_batch_map=per_batch_map, input_columns=["b"])
    assert batched.get_col_names() == ["a", "b", "c"]
    assert rows(batched) == [([0, 1], [0, -10], [0, 100]), ([2, 3], [-20, -30], [200, 300])]


def test_per_batch_map_output_columns_may_differ_from_its_inputs():
    def per_batch_map(a, b, info):
        return [x + y for x, y in zip(a, b)], [np.array(len(a)) for _ in a]

    batched = two_columns(4).batch(2, per_batch_map=per_batch_map, input_columns=["a", "b"],
                                   output_columns=["sum", "count"])
    assert batched.get_col_names() == ["sum", "count"]
    assert rows(batched) == [([0, 11], [2, 2]), ([22, 33], [2, 2])]


def test_per_batch_map_can_pad_rows_of_different_lengths():
    def pad(seq, info):
        longest = max(len(s) for s in seq)
        return ([np.pad(s, (0, longest - len(s)), constant_values=-1) for s in seq],)

    source = Sequences(10, period=4)
    batched = ds.GeneratorDataset(source, ["seq", "i"], shuffle=False).batch(3, per_batch_map=pad,
                                                                               input_columns=["seq"])
    got = list(batched.create_tuple_iterator(output_numpy=True, num_epochs=1))
    assert len(got) == 4
    for b, (seq, index) in enumerate(got):
        members = list(range(3 * b, min(3 * b + 3, 10)))
        rows_of_batch = [source[i][0] for i in members]
        np.testing.assert_array_equal(seq, padded(rows_of_batch, max(map(len, rows_of_batch)), -1))
        np.testing.assert_array_equal(index, members)


def test_batch_input_columns_without_per_batch_map_is_an_error():
    with pytest.raises(ValueError):
        two_columns(4).batch(2, input_columns=["a"])


# -- padded_batch -----------------------------------------------------------------------------------

def sequences(size=10):
    return ds.GeneratorDataset(Sequences(size, period=4), ["seq", "i"], shuffle=False)


def batches_of(data):
    return list(data.create_tuple_iterator(output_numpy=True, num_epochs=1))


def reference_rows(size, batch_size, batch):
    source = Sequences(size, period=4)
    return [source[i][0] for i in range(batch * batch_size, min(size, (batch + 1) * batch_size))]


@pytest.mark.parametrize("shape, value", [([6], -1), ([4], 9)])
def test_padded_batch_pads_to_the_given_shape_with_the_given_value(shape, value):
    got = batches_of(sequences().padded_batch(3, pad_info={"seq": (shape, value)}))
    assert len(got) == 4
    for b, (seq, _) in enumerate(got):
        np.testing.assert_array_equal(seq, padded(reference_rows(10, 3, b), shape[0], value))


@pytest.mark.parametrize("shape", [None, [None]], ids=["no-shape", "none-extent"])
def test_padded_batch_without_a_size_pads_to_the_longest_row_of_each_batch(shape):
    got = batches_of(sequences().padded_batch(3, pad_info={"seq": (shape, 5)}))
    for b, (seq, _) in enumerate(got):
        reference = reference_rows(10, 3, b)
        np.testing.assert_array_equal(seq, padded(reference, max(map(len, reference)), 5))


def test_padded_batch_drops_the_remainder_when_asked():
    got = batches_of(sequences(10).padded_batch(4, drop_remainder=True, pad_info={"seq": ([4], 0)}))
    assert [seq.shape for seq, _ in got] == [(4, 4), (4, 4)]


def test_padded_batch_to_a_shape_smaller_than_a_row_is_an_error():
    with pytest.raises(Exception):
        batches_of(sequences().padded_batch(4, pad_info={"seq": ([2], 0)}))


# -- shuffle ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("buffer_size", [2, 4, 16])
def test_shuffle_keeps_every_row_and_draws_only_from_its_buffer(buffer_size):
    got = values(dataset(60).shuffle(buffer_size))
    assert sorted(got) == list(range(60))
    assert got != list(range(60))
    # A streaming buffer of B rows has read at most k + B source rows when it emits its k-th.
    assert all(v < k + buffer_size for k, v in enumerate(got))


def test_shuffle_with_a_buffer_larger_than_the_dataset_is_a_full_shuffle():
    got = values(dataset(30).shuffle(1000))
    assert sorted(got) == list(range(30)) and got != list(range(30))


@pytest.mark.parametrize("buffer_size", [1, 0, -5])
def test_shuffle_needs_a_buffer_of_at_least_two(buffer_size):
    with pytest.raises((ValueError, OverflowError, TypeError)):
        values(dataset(5).shuffle(buffer_size))


# -- shuffle determinism under ds.config.set_seed -------------------------------------------------

def shuffled(kind, workers, size=64):
    """A pipeline whose order is random: a global shuffle of the source (a RandomSampler), a
    streaming shuffle buffer, or both; `workers` threads in the source and in a map."""
    data = ds.GeneratorDataset(Indexed(size), ["x"], shuffle=kind in ("global", "both"),
                               num_parallel_workers=workers)
    data = data.map(lambda x: x * 1, num_parallel_workers=workers)
    return data.shuffle(16) if kind in ("buffer", "both") else data


SHUFFLES = ["global", "buffer", "both"]


def read_with_seed(seed, kind, workers, num_epochs=2):
    ds.config.set_seed(seed)
    return epochs(shuffled(kind, workers), num_epochs)


@pytest.mark.parametrize("kind", SHUFFLES)
def test_the_same_seed_gives_the_same_order_with_any_number_of_workers(kind):
    orders = {workers: read_with_seed(2024, kind, workers) for workers in (1, 2, 4)}
    assert orders[1] == orders[2] == orders[4]
    assert orders[1] == read_with_seed(2024, kind, 1)  # and again


@pytest.mark.parametrize("kind", SHUFFLES)
@pytest.mark.parametrize("workers", [1, 2, 4])
def test_each_epoch_is_a_different_permutation(kind, workers):
    first, second = read_with_seed(7, kind, workers)
    assert sorted(first) == sorted(second) == list(range(64))
    assert first != second


@pytest.mark.parametrize("kind", SHUFFLES)
@pytest.mark.parametrize("workers", [1, 2, 4])
def test_different_seeds_give_different_orders(kind, workers):
    assert read_with_seed(7, kind, workers, 1) != read_with_seed(8, kind, workers, 1)


# -- repeat, take, skip -----------------------------------------------------------------------------

@pytest.mark.parametrize("count", [1, 2, 3])
def test_repeat_reads_the_dataset_count_times_per_epoch(count):
    repeated = dataset(5).repeat(count)
    assert values(repeated) == list(range(5)) * count
    assert repeated.get_dataset_size() == 5 * count


@pytest.mark.parametrize("count", [None, -1])
def test_repeat_forever_then_take_stops_after_take(count):
    assert values(dataset(5).repeat(count).take(12)) == [0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1]


def test_repeat_without_a_count_repeats_forever():
    assert values(dataset(3).repeat().take(100)) == [0, 1, 2] * 33 + [0]


def test_size_of_a_dataset_repeated_forever_is_known_without_reading_it():
    """get_dataset_size() of repeat() answers promptly (a number, or an exception saying the size
    is unbounded) instead of counting an endless epoch. Runs in a subprocess: the failure mode is
    an endless loop that no thread could stop."""
    code = ("import numpy as np, conveyor.dataset as ds\n"
            "class S:\n"
            "    def __len__(self): return 5\n"
            "    def __getitem__(self, i): return np.array(i)\n"
            "print(ds.GeneratorDataset(S(), ['x'], shuffle=False).repeat().get_dataset_size())\n")
    try:
        result = run_python(code, timeout=4)
    except subprocess.TimeoutExpired:
        pytest.fail("get_dataset_size() of repeat() did not return within 4 s")
    assert result.returncode in (0, 1), result.stderr  # returned, or raised; did not crash


@pytest.mark.parametrize("count", [0, 1, 4, 10, 15])
def test_take_keeps_the_first_count_rows(count):
    taken = dataset(10).take(count)
    assert values(taken) == list(range(10))[:count]
    assert taken.get_dataset_size() == min(count, 10)


def test_batch_before_repeat_drops_each_passs_remainder_and_after_repeat_spans_passes():
    assert values(dataset(5).batch(2, drop_remainder=True).repeat(2)) == [[0, 1], [2, 3]] * 2
    assert values(dataset(5).repeat(2).batch(2, drop_remainder=True)) == [[0, 1], [2, 3], [4, 0], [1, 2], [3, 4]]


def test_take_minus_one_keeps_everything():
    assert values(dataset(7).take(-1)) == list(range(7))


@pytest.mark.parametrize("count", [0, 1, 4, 10, 15])
def test_skip_drops_the_first_count_rows(count):
    skipped = dataset(10).skip(count)
    assert values(skipped) == list(range(10))[count:]
    assert skipped.get_dataset_size() == max(10 - count, 0)


def test_skip_and_take_apply_to_each_epoch():
    assert epochs(dataset(10).skip(2).take(3), 2) == [[2, 3, 4], [2, 3, 4]]


# -- project, rename --------------------------------------------------------------------------------

def test_project_keeps_the_named_columns_in_the_given_order():
    projected = three_columns(4).project(["c", "a"])
    assert projected.get_col_names() == ["c", "a"]
    assert rows(projected) == [(100 * i, i) for i in range(4)]


def test_project_of_a_single_name():
    assert rows(three_columns(3).project("b")) == [(0,), (10,), (20,)]


def test_project_of_an_unknown_column_is_an_error():
    with pytest.raises(Exception, match="nope"):
        rows(three_columns(3).project(["a", "nope"]))


def test_rename_changes_names_but_not_values():
    renamed = three_columns(3).rename(["a", "c"], ["alpha", "gamma"])
    assert renamed.get_col_names() == ["alpha", "b", "gamma"]
    assert rows(renamed) == rows(three_columns(3))


def test_rename_needs_as_many_new_names_as_old_ones():
    with pytest.raises(ValueError):
        rows(three_columns(3).rename(["a"], ["x", "y"]))


def test_map_of_an_unknown_input_column_is_a_value_error_naming_it():
    with pytest.raises(ValueError, match="nope"):
        values(dataset(3).map(lambda x: x, input_columns=["nope"]))


# -- zip, concat ------------------------------------------------------------------------------------

def named(size, name, scale=1):
    return ds.GeneratorDataset(Columns(size, 1), [name], shuffle=False).map(lambda v: v * scale)


def test_zip_method_puts_rows_side_by_side_and_ends_with_the_shortest():
    zipped = named(5, "p").zip(named(8, "q", scale=-1))
    assert zipped.get_col_names() == ["p", "q"]
    assert rows(zipped) == [(i, -i) for i in range(5)]
    assert zipped.get_dataset_size() == 5


def test_zip_method_takes_a_tuple_of_datasets():
    zipped = named(4, "p").zip((named(6, "q", 2), named(5, "r", 3)))
    assert rows(zipped) == [(i, 2 * i, 3 * i) for i in range(4)]


def test_zip_function_of_the_module_zips_a_tuple_of_datasets():
    zipped = ds.zip((named(6, "p"), named(3, "q", 2), named(9, "r", 3)))
    assert zipped.get_col_names() == ["p", "q", "r"]
    assert rows(zipped) == [(i, 2 * i, 3 * i) for i in range(3)]


def test_zip_of_datasets_with_a_common_column_name_is_an_error():
    with pytest.raises(ValueError):
        rows(named(3, "p").zip(named(3, "p")))


def test_concat_reads_one_dataset_after_the_other():
    joined = named(3, "v").concat(named(2, "v", scale=-1))
    assert values(joined) == [0, 1, 2, 0, -1]
    assert joined.get_dataset_size() == 5


def test_concat_of_a_list_and_the_plus_operator_agree():
    a, b, c = named(2, "v"), named(3, "v", 10), named(1, "v", 100)
    expected = [0, 1, 0, 10, 20, 0]
    assert values(a.concat([b, c])) == expected
    assert values(a + b + c) == expected


def test_concat_of_datasets_with_different_columns_is_an_error():
    with pytest.raises(Exception):
        values(named(2, "v").concat(named(2, "w")))


# -- facts ------------------------------------------------------------------------------------------

def test_get_col_names_follows_the_pipeline():
    data = three_columns(4)
    assert data.get_col_names() == ["a", "b", "c"]
    assert data.rename("b", "beta").project(["c", "beta"]).get_col_names() == ["c", "beta"]


def test_output_shapes_and_types_describe_the_first_output():
    class Mixed:
        def __len__(self):
            return 10

        def __getitem__(self, i):
            return np.zeros((3, 2), dtype=np.float32) + i, np.array(i, dtype=np.int16), np.arange(4, dtype=np.uint8)

    data = ds.GeneratorDataset(Mixed(), ["image", "label", "bytes"], shuffle=False)
    assert data.output_shapes() == [[3, 2], [], [4]]
    assert data.output_types() == [np.float32, np.int16, np.uint8]
    batched = data.batch(4)
    assert batched.output_shapes() == [[4, 3, 2], [4], [4, 4]]
    assert batched.output_types() == [np.float32, np.int16, np.uint8]


def test_get_batch_size_is_one_before_batching_and_the_batch_size_after():
    data = dataset(10)
    assert data.get_batch_size() == 1
    assert data.batch(4).get_batch_size() == 4
    assert data.batch(4).map(lambda x: x).get_batch_size() == 4


@pytest.mark.parametrize("make, expected", [
    (lambda: dataset(10), 10),
    (lambda: dataset(10).batch(3), 4),
    (lambda: dataset(10).batch(3, drop_remainder=True), 3),
    (lambda: dataset(10).filter(lambda x: x % 4 == 1), 3),
    (lambda: dataset(10).filter(lambda x: x % 2 == 0).batch(2), 3),
    (lambda: dataset(10, num_samples=6), 6),
    (lambda: dataset(10).skip(3).take(5), 5),
    (lambda: dataset(10, sampler=ds.SubsetRandomSampler([1, 2, 3])), 3),
], ids=["source", "batch", "batch-drop", "filter", "filter-batch", "num_samples", "skip-take", "sampler"])
def test_get_dataset_size_counts_rows_or_batches_per_epoch(make, expected):
    assert make().get_dataset_size() == expected


def counted_source(kind, size=13):
    def generate():
        for i in range(size):
            yield np.array(i)

    class Iterable:
        def __iter__(self):
            return generate()

    return generate if kind == "generator function" else Iterable()


SOURCES_WITHOUT_LEN = ["generator function", "iterable"]


@pytest.mark.parametrize("kind", SOURCES_WITHOUT_LEN)
def test_get_dataset_size_of_a_source_without_len_counts_it(kind):
    assert ds.GeneratorDataset(counted_source(kind), ["x"]).get_dataset_size() == 13
    assert ds.GeneratorDataset(counted_source(kind), ["x"]).batch(5).get_dataset_size() == math.ceil(13 / 5)
    assert ds.GeneratorDataset(counted_source(kind), ["x"]).batch(5, True).get_dataset_size() == 13 // 5


@pytest.mark.parametrize("kind", SOURCES_WITHOUT_LEN)
def test_counting_the_size_of_a_source_without_len_leaves_it_readable(kind):
    data = ds.GeneratorDataset(counted_source(kind), ["x"])
    assert data.get_dataset_size() == 13
    assert values(data) == list(range(13))
