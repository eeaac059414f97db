"""Pipelines stopped from awkward places: interpreter exit, another thread, the garbage collector
inside the pipeline's own threads; and epochs that end empty."""

import gc
import threading
import time

import numpy as np

import conveyor.dataset as ds
from support import Indexed, Slow, os_threads, run_python, threads_settled_at_most, values


def test_exiting_with_an_iterator_mid_epoch_is_clean():
    code = ("import numpy as np, conveyor.dataset as ds\n"
            "class S:\n"
            "    def __len__(self): return 100000\n"
            "    def __getitem__(self, i): return np.array(i)\n"
            "it = ds.GeneratorDataset(S(), ['x']).map(lambda x: x + 1).create_tuple_iterator()\n"
            "next(it)\n"
            "print('done')\n")
    result = run_python(code, timeout=30)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "done"


def test_stopping_from_another_thread_ends_a_waiting_next():
    it = ds.GeneratorDataset(Slow(100, delay=0.5), ["x"], shuffle=False).create_tuple_iterator()
    outcome = []
    reader = threading.Thread(target=lambda: outcome.append(list(it)))
    reader.start()
    time.sleep(0.2)
    it.stop()
    reader.join(5)
    assert not reader.is_alive()
    assert len(outcome) == 1 and len(outcome[0]) < 100


def test_the_garbage_collector_dropping_an_iterator_inside_its_own_map_does_not_hang():
    code = ("import gc, numpy as np, conveyor.dataset as ds\n"
            "class S:\n"
            "    def __len__(self): return 100000\n"
            "    def __getitem__(self, i): return np.array(i)\n"
            "class Holder: pass\n"
            "h = Holder(); h.me = h\n"
            "def f(x):\n"
            "    if int(x) == 50: gc.collect()\n"
            "    return x\n"
            "h.it = ds.GeneratorDataset(S(), ['x'], shuffle=False).map(f, num_parallel_workers=2).create_tuple_iterator()\n"
            "next(h.it)\n"
            "del h\n"
            "other = ds.GeneratorDataset(S(), ['x'], shuffle=False).map(f).take(200)\n"
            "print(sum(1 for _ in other.create_tuple_iterator(num_epochs=1)))\n")
    result = run_python(code, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "200"


def test_empty_epochs_end_even_without_an_epoch_count():
    it = ds.GeneratorDataset(Indexed(3), ["x"]).batch(4, drop_remainder=True).create_tuple_iterator()
    for _ in range(3):
        assert list(it) == []


def test_a_generator_object_is_read_once_and_later_epochs_are_empty():
    it = ds.GeneratorDataset(((np.array(i),) for i in range(5)), ["x"]).create_tuple_iterator(output_numpy=True)
    assert [int(x) for (x,) in it] == list(range(5))
    assert list(it) == []


def test_concatenating_a_generator_dataset_with_itself_reads_it_twice():
    def rows():
        for i in range(20):
            yield (np.array(i),)

    data = ds.GeneratorDataset(rows, ["x"]).map(lambda x: x, num_parallel_workers=2)
    assert values(data + data) == list(range(20)) * 2


def test_counting_an_iterable_source_does_not_disturb_a_running_iterator():
    data = ds.GeneratorDataset(lambda: ((np.array(i),) for i in range(40)), ["x"])
    it = data.create_tuple_iterator(num_epochs=1, output_numpy=True)
    first = [int(next(it)[0]) for _ in range(5)]
    assert data.get_dataset_size() == 40
    rest = [int(x) for (x,) in it]
    assert first + rest == list(range(40))


def test_big_endian_arrays_arrive_with_their_values():
    data = ds.GeneratorDataset([(np.array([1.5, -2.0], dtype=">f4"),)], ["x"], shuffle=False)
    (x,), = list(data.create_tuple_iterator(output_numpy=True, num_epochs=1))
    assert x.tolist() == [1.5, -2.0]


def test_threads_do_not_accumulate_when_iterators_are_dropped_mid_epoch():
    def run():
        it = ds.GeneratorDataset(Indexed(10000), ["x"]).map(lambda x: x).create_tuple_iterator()
        next(it)

    run()
    gc.collect()
    baseline = os_threads()
    for _ in range(30):
        run()
    gc.collect()
    assert threads_settled_at_most(baseline) <= baseline
