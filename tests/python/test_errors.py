"""Failures surface as clear Python exceptions: the user's exception type, a message naming the
stage and the sample, the original as __cause__; and the process stays usable afterwards.
(test_fault_matrix.py holds one row per kind of fault, with threads and worker processes; this
file covers the range of exception types, stages and malformed values.)"""

import re
import traceback

import numpy as np
import pytest

import conveyor
import conveyor.dataset as ds
from support import dataset, values

FAILING_INDEX = 13


class DataCorrupt(Exception):
    """A user's own exception type."""


class NeedsTwoArguments(Exception):
    def __init__(self, path, line):
        super().__init__(path, line)
        self.path, self.line = path, line


class NeedsKeywords(LookupError):
    def __init__(self, *, where):
        super().__init__(f"missing at {where}")


def raise_value_error():
    raise ValueError("bad value")


def raise_key_error():
    raise KeyError("no such key")


def raise_zero_division():
    return 1 / 0


def raise_data_corrupt():
    raise DataCorrupt("checksum mismatch")


RAISERS = [raise_value_error, raise_key_error, raise_zero_division, raise_data_corrupt]
EXPECTED_TYPE = {raise_value_error: ValueError, raise_key_error: KeyError,
                 raise_zero_division: ZeroDivisionError, raise_data_corrupt: DataCorrupt}


class FailsAt:
    """Random access over 0 .. size-1 whose __getitem__ calls ``raiser`` at ``index``; keeps the
    exception it raised."""

    def __init__(self, raiser, index=FAILING_INDEX, size=20):
        self.raiser, self.index, self.size = raiser, index, size
        self.raised = None

    def __len__(self):
        return self.size

    def __getitem__(self, index):
        if index == self.index:
            try:
                self.raiser()
            except BaseException as error:
                self.raised = error
                raise
        return np.array(index, dtype=np.int64)


def names_sample(message: str, index: int) -> bool:
    return re.search(rf"(?<![\d-]){re.escape(str(index))}(?!\d)", message) is not None


def assert_a_fresh_pipeline_works():
    assert values(dataset(7).map(lambda x: x + 1).batch(3)) == [[1, 2, 3], [4, 5, 6], [7]]


@pytest.fixture
def fresh_pipeline_afterwards():
    yield
    assert_a_fresh_pipeline_works()


pytestmark = pytest.mark.usefixtures("fresh_pipeline_afterwards")


# -- the source -------------------------------------------------------------------------------------

@pytest.mark.parametrize("shuffle", [False, True], ids=["ordered", "shuffled"])
@pytest.mark.parametrize("workers", [1, 3])
@pytest.mark.parametrize("raiser", RAISERS, ids=lambda r: EXPECTED_TYPE[r].__name__)
def test_an_exception_in_getitem_surfaces_with_its_type_the_stage_and_the_index(raiser, workers, shuffle):
    source = FailsAt(raiser)  # read in this process, so that its exception object can be compared
    data = ds.GeneratorDataset(source, ["x"], shuffle=shuffle, num_parallel_workers=workers,
                               python_multiprocessing=False)
    with pytest.raises(EXPECTED_TYPE[raiser]) as caught:
        values(data)
    error = caught.value
    assert "source" in str(error)
    assert names_sample(str(error), FAILING_INDEX)
    assert error.__cause__ is source.raised
    assert error.stage == "source" and error.sample == FAILING_INDEX


@pytest.mark.parametrize("stage", ["source", "map"])
def test_the_original_exception_keeps_its_traceback(stage):
    original = DataCorrupt("checksum mismatch")

    class Source:  # raises without catching: Python code never handled the exception
        def __len__(self):
            return 20

        def __getitem__(self, index):
            if stage == "source" and index == FAILING_INDEX:
                raise original
            return np.array(index)

    def check(x):
        if stage == "map" and int(x) == FAILING_INDEX:
            raise original
        return x

    with pytest.raises(DataCorrupt) as caught:
        values(ds.GeneratorDataset(Source(), ["x"], shuffle=False).map(check))
    cause = caught.value.__cause__
    assert cause is original
    functions = [frame.name for frame in traceback.extract_tb(cause.__traceback__)]
    assert ("__getitem__" if stage == "source" else "check") in functions


def test_an_exception_in_a_generator_source_names_the_row():
    def generate():
        for i in range(10):
            if i == 6:
                raise DataCorrupt("truncated file")
            yield np.array(i)

    with pytest.raises(DataCorrupt) as caught:
        values(ds.GeneratorDataset(generate, ["x"]))
    assert "source" in str(caught.value) and names_sample(str(caught.value), 6)
    assert isinstance(caught.value.__cause__, DataCorrupt)


@pytest.mark.parametrize("make", [lambda: NeedsTwoArguments("a.bin", 7), lambda: NeedsKeywords(where="b.bin")],
                         ids=["positional", "keyword-only"])
def test_an_exception_whose_init_needs_other_arguments_keeps_its_type_or_is_a_pipeline_error(make):
    def raiser():
        raise make()

    source = FailsAt(raiser)
    with pytest.raises(Exception) as caught:
        values(ds.GeneratorDataset(source, ["x"], shuffle=False))
    error = caught.value
    assert isinstance(error, type(source.raised)) or isinstance(error, conveyor.PipelineError)
    assert error.__cause__ is source.raised
    assert "source" in str(error) and names_sample(str(error), FAILING_INDEX)


def raise_needs_two():
    raise NeedsTwoArguments("c.bin", 3)


def raise_needs_keywords():
    raise NeedsKeywords(where="d.bin")


@pytest.mark.parametrize("raiser, expected", [(raise_needs_two, NeedsTwoArguments),
                                              (raise_needs_keywords, NeedsKeywords)],
                         ids=["positional", "keyword-only"])
def test_an_exception_whose_init_needs_other_arguments_is_still_an_instance_of_it(raiser, expected):
    with pytest.raises(expected) as caught:
        values(ds.GeneratorDataset(FailsAt(raiser), ["x"], shuffle=False))
    assert caught.value.stage == "source" and caught.value.sample == FAILING_INDEX


# -- map, filter, per_batch_map ---------------------------------------------------------------------

def failing_op(raiser, at=FAILING_INDEX):
    def op(x):
        if int(x) == at:
            raiser()
        return x
    return op


@pytest.mark.parametrize("workers", [1, 3])
@pytest.mark.parametrize("raiser", RAISERS, ids=lambda r: EXPECTED_TYPE[r].__name__)
def test_an_exception_in_a_map_function_names_map_and_the_sample(raiser, workers):
    data = dataset(20).map(failing_op(raiser), num_parallel_workers=workers)
    with pytest.raises(EXPECTED_TYPE[raiser]) as caught:
        values(data)
    error = caught.value
    assert "map[0]" in str(error) and names_sample(str(error), FAILING_INDEX)
    assert isinstance(error.__cause__, EXPECTED_TYPE[raiser])
    assert error.stage == "map[0]"


def test_an_exception_in_a_later_map_function_names_its_position():
    data = dataset(20).map(lambda x: x + 0).map([lambda x: x, failing_op(raise_value_error)])
    with pytest.raises(ValueError) as caught:
        values(data)
    message = str(caught.value)
    assert re.search(r"map\[[12]\]", message) and "map[0]" not in message
    assert names_sample(message, FAILING_INDEX)


def test_an_exception_in_a_filter_predicate_names_filter_and_the_sample():
    def predicate(x):
        if int(x) == FAILING_INDEX:
            raise DataCorrupt("cannot decide")
        return True

    with pytest.raises(DataCorrupt) as caught:
        values(dataset(20).filter(predicate))
    assert "filter" in str(caught.value) and names_sample(str(caught.value), FAILING_INDEX)


def test_a_per_batch_map_returning_the_wrong_number_of_columns_is_a_value_error():
    with pytest.raises(ValueError, match="per_batch_map returned 2 columns; output_columns names 1"):
        values(dataset(6).batch(3, per_batch_map=lambda x, info: (x, x)))
    two = ds.GeneratorDataset([(1, 2)] * 4, ["a", "b"], shuffle=False)
    with pytest.raises(ValueError, match="per_batch_map returned 1 column; output_columns names 2"):
        values(two.batch(2, per_batch_map=lambda a, b, info: (a,), input_columns=["a", "b"]))


# -- samplers ---------------------------------------------------------------------------------------

class YieldingSampler:
    """A Python iterable sampler (not a list)."""

    def __init__(self, indices):
        self.indices = indices

    def __iter__(self):
        yield from self.indices


@pytest.mark.parametrize("kind", [list, YieldingSampler], ids=["list", "iterable"])
@pytest.mark.parametrize("bad_index", [99, 20, -1])
def test_a_sampler_yielding_an_index_out_of_range_is_an_error_naming_it(bad_index, kind):
    with pytest.raises((IndexError, ValueError, conveyor.PipelineError)) as caught:
        values(dataset(20, sampler=kind([3, 1, bad_index, 2])))
    assert "sampler" in str(caught.value)
    assert names_sample(str(caught.value), bad_index)


# -- malformed rows ---------------------------------------------------------------------------------

class Returns:
    """Random access over 0 .. 7 whose row 4 is ``bad`` instead."""

    def __init__(self, bad):
        self.bad = bad

    def __len__(self):
        return 8

    def __getitem__(self, index):
        return self.bad if index == 4 else np.array(index)


@pytest.mark.parametrize("bad, type_name", [
    ({"image": 1}, "dict"), (object(), "object"), (None, "NoneType"), ([1, "a"], "list"),
    (np.array([1 + 2j]), "complex"),
], ids=["dict", "object", "None", "mixed-list", "complex"])
def test_a_row_that_is_not_array_like_is_an_error_naming_its_type_and_the_sample(bad, type_name):
    with pytest.raises((TypeError, ValueError, conveyor.PipelineError)) as caught:
        values(ds.GeneratorDataset(Returns(bad), ["x"], shuffle=False))
    message = str(caught.value)
    assert type_name in message and names_sample(message, 4)


class ShowsItsFields(Exception):
    """Like NumPy's _ArrayMemoryError: its __str__ formats what __init__ was given, which fails
    when that is a message."""

    def __init__(self, nbytes):
        super().__init__(nbytes)
        self.nbytes = nbytes

    def __str__(self):
        return f"cannot allocate {self.nbytes:,} bytes"


def test_an_exception_whose_str_reads_its_fields_shows_the_engine_message():
    def raiser():
        raise ShowsItsFields(2**45)

    with pytest.raises(ShowsItsFields) as caught:
        values(ds.GeneratorDataset(FailsAt(raiser), ["x"], shuffle=False))
    message = str(caught.value)
    assert "cannot allocate 35,184,372,088,832 bytes" in message and names_sample(message, FAILING_INDEX)


@pytest.mark.parametrize("multiprocessing", [False, True], ids=["threads", "processes"])
def test_a_reversed_view_too_large_to_copy_is_a_memory_error_naming_the_sample(multiprocessing):
    # A reversed view is copied to C order; a copy that could not be made crashed the process.
    # 2**62 bytes: more than any address space, whatever the overcommit policy.
    huge = np.broadcast_to(np.arange(4.0)[::-1], (2**57, 4))
    with pytest.raises(MemoryError) as caught:
        values(ds.GeneratorDataset(Returns(huge), ["x"], shuffle=False, python_multiprocessing=multiprocessing))
    message = str(caught.value)
    assert "Unable to allocate" in message and names_sample(message, 4)


def test_a_str_that_utf8_cannot_encode_is_an_error_naming_it_and_the_sample():
    # Found by row_fuzz: pybind11's own cast error ("Unable to cast ... to C++ type '?'") escaped.
    bad = b"caf\xe9".decode("utf-8", "surrogateescape")
    with pytest.raises((ValueError, conveyor.PipelineError)) as caught:
        values(ds.GeneratorDataset(Returns(bad), ["x"], shuffle=False))
    message = str(caught.value)
    assert "UTF-8" in message and names_sample(message, 4)


def test_an_error_while_reading_output_shapes_surfaces_like_an_iteration_error():
    with pytest.raises(DataCorrupt) as caught:
        ds.GeneratorDataset(FailsAt(raise_data_corrupt, index=0), ["x"], shuffle=False).output_shapes()
    assert "source" in str(caught.value) and names_sample(str(caught.value), 0)


def test_many_failing_pipelines_in_a_row_leave_the_process_usable():
    for attempt in range(20):
        with pytest.raises(ValueError):
            values(dataset(30).map(failing_op(raise_value_error, at=attempt), num_parallel_workers=2))
    assert_a_fresh_pipeline_works()


# -- arguments --------------------------------------------------------------------------------------

@pytest.mark.parametrize("call", [
    lambda: ds.GeneratorDataset(42, ["x"]),
    lambda: ds.GeneratorDataset(dataset, []),
    lambda: ds.GeneratorDataset(FailsAt(raise_value_error), ["x"], num_parallel_workers=0),
    lambda: ds.GeneratorDataset(FailsAt(raise_value_error), ["x"], column_types=[np.int32, np.int32]),
], ids=["not-a-source", "no-columns", "zero-workers", "types-count"])
def test_invalid_dataset_arguments_raise_at_construction(call):
    with pytest.raises((ValueError, TypeError)):
        call()


@pytest.mark.parametrize("method, kwargs", [("map", {"column_order": ["x"]}), ("batch", {"pad_info": {}})])
def test_mindspore_arguments_conveyor_lacks_raise_type_error(method, kwargs):
    with pytest.raises(TypeError):
        getattr(dataset(4), method)(*([lambda x: x] if method == "map" else [2]), **kwargs)
