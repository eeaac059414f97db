"""Stopping a pipeline early: `break`, `del` and stop() end it promptly and leave no thread
behind (Ctrl-C during next() is a row of test_fault_matrix.py). Each scenario runs on a bounded
thread (support.within) so that a teardown that hangs fails the test instead of the run; the
conftest watchdog is the outer bound."""

import gc
import time

import numpy as np
import pytest

import conveyor.dataset as ds
from support import Indexed, Slow, dataset, os_threads, threads_settled_at_most, values, within

PROMPT_S = 1.0


def fast_pipeline(workers=4):
    """Fills every queue at once: after one read the engine's stages block on full queues."""
    data = ds.GeneratorDataset(Indexed(100_000), ["x"], shuffle=False, num_parallel_workers=workers)
    return data.map(lambda x: x + 1, num_parallel_workers=workers)


def slow_pipeline(workers=2, delay=0.05):
    """Workers are inside a sleeping __getitem__ when the consumer leaves."""
    return ds.GeneratorDataset(Slow(10_000, delay), ["x"], shuffle=False, num_parallel_workers=workers)


def batched_pipeline(workers=2):
    return fast_pipeline(workers).batch(32)


PIPELINES = [fast_pipeline, slow_pipeline, batched_pipeline]
PIPELINE_IDS = ["blocked-on-full-queues", "inside-getitem", "batched"]


def seconds_to_leave_by_break(make):
    """Reads three outputs in a for loop, breaks, and returns how long the break took to free the
    loop's (only) iterator."""
    for count, _ in enumerate(make().create_tuple_iterator(output_numpy=True, num_epochs=1)):
        if count == 2:
            start = time.monotonic()
            break
    return time.monotonic() - start


def seconds_to_drop_by_del(make):
    iterator = make().create_tuple_iterator(output_numpy=True, num_epochs=1)
    next(iterator)
    next(iterator)
    time.sleep(0.05)  # let the stages run ahead and block
    start = time.monotonic()
    del iterator
    return time.monotonic() - start


def seconds_to_stop(make):
    iterator = make().create_tuple_iterator(output_numpy=True, num_epochs=1)
    next(iterator)
    time.sleep(0.05)
    start = time.monotonic()
    iterator.stop()
    return time.monotonic() - start


@pytest.mark.parametrize("make", PIPELINES, ids=PIPELINE_IDS)
@pytest.mark.parametrize("leave", [seconds_to_leave_by_break, seconds_to_drop_by_del, seconds_to_stop],
                         ids=["break", "del", "stop"])
def test_leaving_a_running_pipeline_stops_it_within_a_second(leave, make):
    assert within(10, lambda: leave(make)) < PROMPT_S


def test_leaving_an_infinite_pipeline_stops_it_within_a_second():
    def scenario():
        iterator = dataset(10).repeat().create_tuple_iterator(output_numpy=True, num_epochs=-1)
        for _ in range(25):
            next(iterator)
        start = time.monotonic()
        del iterator
        return time.monotonic() - start

    assert within(10, scenario) < PROMPT_S


@pytest.mark.parametrize("leave", [seconds_to_leave_by_break, seconds_to_drop_by_del, seconds_to_stop],
                         ids=["break", "del", "stop"])
def test_pipelines_left_early_leave_no_thread_behind(leave):
    def run_all_shapes():
        for make in PIPELINES:
            leave(make)
            values(dataset(50).map(lambda x: x, num_parallel_workers=4).batch(8))  # one read to the end

    within(20, run_all_shapes)  # warm-up: oneTBB's pool is created once for the process
    gc.collect()
    time.sleep(0.1)
    before = os_threads()
    within(60, lambda: [run_all_shapes() for _ in range(4)])
    gc.collect()
    after = threads_settled_at_most(before)
    # 12 more pipelines left early (and 4 read to the end): a thread left by each would add 12.
    assert after <= before, f"{after - before} more threads after 12 more pipelines"


def test_dropping_the_dataset_while_its_iterator_runs_is_safe():
    def scenario():
        data = fast_pipeline().batch(16)
        iterator = data.create_tuple_iterator(output_numpy=True, num_epochs=1)
        del data
        gc.collect()
        first = [next(iterator)[0] for _ in range(3)]
        del iterator
        return first

    first = within(10, scenario)
    np.testing.assert_array_equal(first[2], np.arange(33, 49))
