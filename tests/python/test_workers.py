"""GeneratorDataset(python_multiprocessing=True): __getitem__ in worker processes, rows through
shared memory, per-sample seeding, and faults of the pool itself (unpicklable sources, exit and
cleanup, refused slots) as errors that name the worker and the sample, never a hang or a leak;
exceptions, deaths and Ctrl-C in workers are rows of test_fault_matrix.py. Sources live at
module level: workers unpickle them by name."""

import gc
import os
import pickle
import signal
import subprocess
import sys
import struct
import textwrap
import time

import numpy as np
import pytest

import conveyor.dataset as ds



class Pids:
    """Row i: (i, the pid of the process that read it)."""

    def __len__(self):
        return 40

    def __getitem__(self, index):
        return np.int64(index), np.int64(os.getpid())


class Noisy:
    """Row i: an image-sized array drawn from numpy.random and a number from random; `size` rows."""

    def __init__(self, size=24):
        self.size = size

    def __len__(self):
        return self.size

    def __getitem__(self, index):
        import random
        return np.random.random((64, 64, 8)).astype(np.float32), np.float64(random.random())


class Growing:
    """Row i: i + 1 rows of 40,000 float32 (160 KB to 2 MB), each element equal to i."""

    def __len__(self):
        return 12

    def __getitem__(self, index):
        return np.full((index + 1, 40_000), index, dtype=np.float32)


class Slow:
    """Row i: the int64 i, after ``delay`` seconds."""

    def __init__(self, delay):
        self.delay = delay

    def __len__(self):
        return 64

    def __getitem__(self, index):
        time.sleep(self.delay)
        return np.int64(index)


class Mixed:
    """Row i: every kind of value a row may hold, their shapes and lengths changing with i."""

    def __len__(self):
        return 40

    def __getitem__(self, index):
        big_endian = np.arange(index % 4 + 1, dtype=">f8") * index
        return (np.full((index % 3 + 1, 2), index, dtype=np.float32), index - 20, index / 8, index % 2 == 0,
                np.uint8(index), b"x" * (index % 5), "é" * (index % 3), big_endian, 2 ** 63 + index,
                [index, index + 1], bytearray(b"y" * (index % 4)), memoryview(np.arange(index % 3, dtype=np.int16)))


class RefusedSlot:
    """Row 3 (2 MiB) needs a slot larger than this worker may allocate: the worker caps its own
    file size at 1 MiB (RLIMIT_FSIZE), so reserving the slot fails with EFBIG."""

    def __len__(self):
        return 6

    def __getitem__(self, index):
        import resource
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # fail with EFBIG instead of a signal
        resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
        return np.zeros((2 << 20) if index == 3 else 8, dtype=np.uint8)


def rows(dataset, epochs=1):
    iterator = dataset.create_tuple_iterator(output_numpy=True, num_epochs=epochs)
    return [[tuple(column.copy() for column in row) for row in iterator] for _ in range(epochs)]


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def wait_until(condition, seconds=10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_rows_are_read_in_worker_processes_in_the_samplers_order():
    data = ds.GeneratorDataset(Pids(), ["i", "pid"], shuffle=False, num_parallel_workers=3)
    (epoch,) = rows(data)
    assert [int(i) for i, _ in epoch] == list(range(40))
    pids = {int(pid) for _, pid in epoch}
    assert os.getpid() not in pids and 1 <= len(pids) <= 3


def test_without_multiprocessing_rows_are_read_in_this_process():
    data = ds.GeneratorDataset(Pids(), ["i", "pid"], shuffle=False, num_parallel_workers=3,
                               python_multiprocessing=False)
    assert {int(pid) for _, pid in rows(data)[0]} == {os.getpid()}


def test_random_draws_in_getitem_are_identical_whatever_the_worker_count(restore_config):
    def run(workers, multiprocessing=True):
        ds.config.set_seed(5)
        data = ds.GeneratorDataset(Noisy(), ["image", "x"], num_parallel_workers=workers,
                                   python_multiprocessing=multiprocessing).batch(4, drop_remainder=True)
        return rows(data, epochs=2)

    two, four = run(2), run(4)
    for epoch_two, epoch_four in zip(two, four):
        for a, b in zip(epoch_two, epoch_four):
            assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(two[0][0][0], two[1][0][0]), "each epoch draws anew"


def test_random_draws_in_getitem_are_identical_whatever_the_batch_a_request_carries(restore_config):
    # A batch of 32 over the workers is read a batch a request (two chunks of 16, each seeded from
    # its own indices); a batch of 4 or no batch reads a chunk a request.
    def run(batch):
        ds.config.set_seed(9)
        data = ds.GeneratorDataset(Noisy(64), ["image", "x"], num_parallel_workers=2)
        return [row for out in rows(data if batch is None else data.batch(batch))[0]
                for row in (zip(*out) if batch else [out])]

    single, small, whole = run(None), run(4), run(32)
    assert len(single) == len(small) == len(whole) == 64
    for a, b, c in zip(single, small, whole):
        assert all(np.array_equal(x, y) and np.array_equal(y, z) for x, y, z in zip(a, b, c))


def mapping_of(array):
    """The line of /proc/self/maps whose range holds `array`'s data."""
    address = np.asarray(array).ctypes.data
    with open(f"/proc/{os.getpid()}/maps") as maps:
        return next(line for line in maps
                    if int(line.split()[0].split("-")[0], 16) <= address < int(line.split()[0].split("-")[1], 16))


def test_a_batch_directly_over_the_workers_is_collated_in_their_slot_not_copied():
    data = ds.GeneratorDataset(Noisy(64), ["image", "x"], shuffle=True, num_parallel_workers=2)
    kept = []
    for images, numbers in data.batch(32).create_tuple_iterator(output_numpy=True, num_epochs=1):
        assert images.shape == (32, 64, 64, 8) and numbers.shape == (32,)
        assert "memfd:conveyor-worker" in mapping_of(images) and "memfd:conveyor-worker" in mapping_of(numbers)
        kept.append((images, images.copy()))
    assert all(np.array_equal(batch, copy) for batch, copy in kept), "a kept batch was overwritten"
    # A map between them makes new rows: the batch stage copies them into a batch of its own.
    mapped = data.map(lambda image: image + 1, ["image"]).batch(32)
    for images, _ in mapped.create_tuple_iterator(output_numpy=True, num_epochs=1):
        assert "memfd" not in mapping_of(images)


class Ragged:
    """Row i: i % 5 + 1 float64 elements, each i; a request's rows differ in size."""

    def __len__(self):
        return 48

    def __getitem__(self, index):
        return np.full(index % 5 + 1, index, dtype=np.float64), np.int64(index)


def test_rows_that_differ_in_size_within_a_request_keep_their_values():
    data = ds.GeneratorDataset(Ragged(), ["v", "i"], shuffle=True, num_parallel_workers=2)
    batches = data.padded_batch(32, pad_info={"v": ([5], -1.0)}).create_tuple_iterator(output_numpy=True, num_epochs=2)
    for _ in range(2):  # the second reuses the slots of the first
        seen = []
        for values, indices in batches:
            for row, index in zip(values, indices):
                assert (row[:index % 5 + 1] == index).all() and (row[index % 5 + 1:] == -1).all()
                seen.append(int(index))
        assert sorted(seen) == list(range(48))


def test_rows_larger_than_any_slot_grow_a_slot_and_keep_their_values():
    data = ds.GeneratorDataset(Growing(), ["m"], shuffle=False, num_parallel_workers=2)
    for _ in range(2):  # the second epoch reuses the slots the first released
        for index, (value,) in enumerate(data.create_tuple_iterator(output_numpy=True, num_epochs=1)):
            assert value.shape == (index + 1, 40_000)
            assert (value == index).all()


def test_rows_of_every_kind_of_value_read_by_workers_are_those_read_in_process():
    # Workers encode a row's layout once per combination of dtypes and shapes, and write Python
    # ints and floats without NumPy: both must agree with the in-process conversion.
    names = [f"c{i}" for i in range(12)]
    in_process, in_workers = (rows(ds.GeneratorDataset(Mixed(), names, shuffle=False, num_parallel_workers=2,
                                                       python_multiprocessing=multiprocessing))[0]
                              for multiprocessing in (False, True))
    assert len(in_workers) == len(in_process) == 40
    for index, (expected, got) in enumerate(zip(in_process, in_workers)):
        for a, b in zip(expected, got):
            assert a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes(), index
    assert in_workers[7][1].dtype == np.int64 and in_workers[7][2].dtype == np.float64
    assert in_workers[7][8].dtype == np.uint64 and in_workers[7][7].dtype == np.float64
    # A bytearray or a memoryview is a buffer NumPy reads, in workers as in this process: an
    # array, not a bytes column (which NumPy also shows as uint8, but the engine does not).
    assert in_workers[7][11].dtype == np.int16 and list(in_workers[7][11]) == [0]
    tensors = [list(ds.GeneratorDataset(Mixed(), names, shuffle=False, num_parallel_workers=2,
                                        python_multiprocessing=multiprocessing)
                    .create_tuple_iterator(output_numpy=False, num_epochs=1))[7]
               for multiprocessing in (False, True)]
    assert [repr(row[10]) for row in tensors] == ["conveyor.Tensor([121, 121, 121], dtype=uint8)"] * 2
    assert [repr(row[5]) for row in tensors] == ["conveyor.Tensor(b'xx', dtype=bytes)"] * 2


def test_large_rows_reach_the_consumer_in_shared_memory_without_a_copy():
    data = ds.GeneratorDataset(Growing(), ["m"], shuffle=False, num_parallel_workers=2)
    for (value,) in data.create_tuple_iterator(output_numpy=False, num_epochs=1):
        # The tensor's memory is the worker's slot, mapped here: a shared mapping of a memfd.
        assert "memfd:conveyor-worker" in mapping_of(value)


def test_an_unpicklable_source_is_a_clear_error_naming_it():
    class Local:  # a class inside a function cannot be pickled by name
        def __len__(self):
            return 4

        def __getitem__(self, index):
            return np.int64(index)

    with pytest.raises(TypeError, match="Local.*cannot be pickled.*python_multiprocessing=False"):
        ds.GeneratorDataset(Local(), ["x"], num_parallel_workers=2)
    assert len(rows(ds.GeneratorDataset(Local(), ["x"], num_parallel_workers=2, python_multiprocessing=False))[0]) == 4


def shm_entries():
    return set(os.listdir("/dev/shm")) if os.path.isdir("/dev/shm") else set()


def test_workers_exit_and_nothing_is_left_when_the_dataset_goes():
    before = shm_entries()
    data = ds.GeneratorDataset(Growing(), ["m"], num_parallel_workers=2)
    iterator = data.create_tuple_iterator(output_numpy=True, num_epochs=1)
    next(iterator)  # stop mid-epoch
    pids = data_source_pids(data)
    assert all(alive(pid) for pid in pids)
    del iterator, data
    gc.collect()
    assert wait_until(lambda: not any(alive(pid) for pid in pids))
    assert shm_entries() == before


def data_source_pids(data):
    """The pids of the worker processes behind a GeneratorDataset."""
    return data._workers.pids()


def test_workers_exit_when_the_process_that_owns_them_is_killed(tmp_path):
    script = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {os.path.dirname(__file__)!r})
        import conveyor.dataset as ds
        from test_workers import Growing
        data = ds.GeneratorDataset(Growing(), ["m"], num_parallel_workers=2)
        iterator = data.create_tuple_iterator(output_numpy=True, num_epochs=1)
        next(iterator)
        print(*data._workers.pids(), flush=True)
        time.sleep(60)
    """)
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        pids = [int(p) for p in child.stdout.readline().split()]
        assert len(pids) == 2 and all(alive(pid) for pid in pids)
        child.kill()
        child.wait()
        assert wait_until(lambda: not any(alive(pid) for pid in pids), seconds=10)
    finally:
        child.kill()


def test_a_slot_the_system_refuses_is_an_error_saying_what_was_needed_and_what_is_available():
    data = ds.GeneratorDataset(RefusedSlot(), ["x"], shuffle=False, num_parallel_workers=2)
    with pytest.raises(MemoryError) as info:
        rows(data)
    message = str(info.value)
    assert "sample 3" in message and "shared-memory slot of 2097152 bytes" in message
    assert "available memory:" in message


def test_stopping_gives_up_the_rows_workers_have_not_started_and_the_workers_read_on():
    # A request is a chunk of 16 rows, 1.6 s here; a stop cancels it after the row in progress.
    data = ds.GeneratorDataset(Slow(0.1), ["x"], shuffle=False, num_parallel_workers=2)
    iterator = data.create_tuple_iterator(output_numpy=True, num_epochs=1)
    assert int(next(iterator)[0]) == 0  # the first two chunks are read
    time.sleep(0.3)  # both workers are inside their next chunk
    start = time.monotonic()
    iterator.stop()
    assert time.monotonic() - start < 0.7, "stopping waited for the chunks the workers were reading"
    # The cancelled requests' replies were read off the sockets: the next reads line up.
    assert [int(x) for x, in rows(data.take(20))[0]] == list(range(20))


def test_slot_memory_is_checked_against_memavailable_and_the_cgroup_limits_above_the_process(tmp_path):
    # The engine's available_memory (tests/cpp/memory_test.cpp covers its cases), as the
    # workers call it: a container's limit, not only the machine's memory, bounds a slot.
    from conveyor.dataset._workers import available_memory
    mib = 1 << 20
    (tmp_path / "proc/self").mkdir(parents=True)
    (tmp_path / "proc/meminfo").write_text("MemAvailable: 8388608 kB\n")
    (tmp_path / "proc/self/cgroup").write_text("0::/job\n")
    (tmp_path / "sys/fs/cgroup/job").mkdir(parents=True)
    (tmp_path / "sys/fs/cgroup/job/memory.max").write_text(str(512 * mib))
    (tmp_path / "sys/fs/cgroup/job/memory.current").write_text(str(500 * mib))
    assert available_memory(str(tmp_path)) == (
        12 * mib, "available memory: 12288 kB, under the memory cgroup's limit of 524288 kB with 512000 kB in use")
    assert available_memory(str(tmp_path / "nothing")) == (None, "available memory unknown")


class DiesOnce:
    """Row i: (i, a draw from numpy.random); reading row 13 kills the worker unless `marker`
    exists, which it first creates, holding `note`; `size` rows."""

    def __init__(self, marker, note="", size=32):
        self.marker, self.note, self.size = marker, note, size

    def __len__(self):
        return self.size

    def __getitem__(self, index):
        if index == 13 and not os.path.exists(self.marker):
            with open(self.marker, "w") as f:
                f.write(self.note)
            os.kill(os.getpid(), signal.SIGKILL)
        return np.int64(index), np.float64(np.random.random())


class DiesOnItsSecondRead(DiesOnce):
    """DiesOnce, but row 13 kills the worker the second time it is read (a sampler with
    replacement may ask for a sample twice in a request), once: `marker` + "-seen" notes the
    first read."""

    def __getitem__(self, index):
        if index == 13 and not os.path.exists(self.marker + "-seen"):
            open(self.marker + "-seen", "w").close()
            return np.int64(index), np.float64(np.random.random())
        return super().__getitem__(index)


class RefusesToStart:
    """A worker_init that fails while `marker` says "refuse"."""

    def __init__(self, marker):
        self.marker = marker

    def __call__(self, worker_id):
        if os.path.exists(self.marker) and open(self.marker).read() == "refuse":
            raise RuntimeError("worker_init refused")


def test_rows_after_a_death_in_a_batch_sized_request_are_drawn_as_before_from_the_next_chunk(
        tmp_path, restore_config):
    ds.config.set_error_samples_mode("skip")
    data = ds.GeneratorDataset(DiesOnce(str(tmp_path / "died"), size=64), ["i", "noise"], shuffle=False,
                               num_parallel_workers=2).batch(32)

    def drawn():
        return {int(i): float(noise) for batch in rows(data)[0] for i, noise in zip(*batch)}

    survived, whole = drawn(), drawn()  # the second epoch has no death
    assert sorted(survived) == [i for i in range(64) if i != 13] and sorted(whole) == list(range(64))
    # Rows 0-31 are one request, seeded per 16 rows: 14-15 are seeded from their own request,
    # 16-31 as before.
    assert [i for i in survived if survived[i] != whole[i]] == [14, 15]


def test_a_replacement_worker_that_fails_to_start_is_an_error_and_is_tried_again(tmp_path, monkeypatch):
    import functools
    from conveyor.dataset import _generator
    from conveyor.dataset._workers import WorkerError, WorkerPool
    marker = str(tmp_path / "marker")
    # GeneratorDataset starts its workers with the WorkerPool its module sees.
    monkeypatch.setattr(_generator, "WorkerPool",
                        functools.partial(WorkerPool, worker_init=RefusesToStart(marker)))
    data = ds.GeneratorDataset(DiesOnce(marker, note="refuse"), ["x", "noise"], shuffle=False, num_parallel_workers=2)
    with pytest.raises(WorkerError) as raised:
        rows(data)
    message = str(raised.value)  # both deaths: the worker's on sample 13, then its replacement's
    assert "killed by signal SIGKILL while reading sample 13; its replacement failed" in message
    assert "while starting" in message
    with open(marker, "w") as f:
        f.write("start")
    errors = 0
    while True:  # each failure says which worker and why, until a fresh replacement reads on
        try:
            got = rows(data)
            break
        except WorkerError as error:
            assert "conveyor worker" in str(error) and "pid" in str(error)
            errors += 1
            assert errors <= 3, "the failed worker is never replaced"
    assert [int(x) for x, _ in got[0]] == list(range(32))


def test_rows_sent_to_a_replacement_that_cannot_start_are_read_by_a_worker_that_lives(
        tmp_path, monkeypatch, restore_config):
    # The replacement dies before reading any of the rows it is sent: none of them is blamed for
    # a death; they are sent again, and only the sample the first worker died on is lost.
    import functools
    from conveyor.dataset import _generator
    from conveyor.dataset._workers import WorkerPool
    marker = str(tmp_path / "marker")
    monkeypatch.setattr(_generator, "WorkerPool",
                        functools.partial(WorkerPool, worker_init=RefusesToStart(marker)))
    ds.config.set_error_samples_mode("skip")
    data = ds.GeneratorDataset(DiesOnce(marker, note="refuse"), ["x", "noise"], shuffle=False, num_parallel_workers=2)
    assert [int(x) for x, _ in rows(data)[0]] == [i for i in range(32) if i != 13]


def test_only_the_sample_a_worker_died_on_is_lost_and_the_rows_it_had_read_are_read_again_the_same(
        tmp_path, restore_config):
    ds.config.set_error_samples_mode("skip")
    data = ds.GeneratorDataset(DiesOnce(str(tmp_path / "died")), ["i", "noise"], shuffle=False,
                               num_parallel_workers=2)
    survived = {int(i): float(noise) for i, noise in rows(data)[0]}
    # Rows 0-15 are one request: the worker read 0-12 and died on 13; 0-12 are read again the
    # same way, 14-15 as a request of their own.
    assert sorted(survived) == [i for i in range(32) if i != 13]
    whole = {int(i): float(noise) for i, noise in rows(data)[0]}  # no death this time
    assert sorted(whole) == list(range(32))
    same = [i for i in range(32) if i not in (13, 14, 15)]
    assert all(survived[i] == whole[i] for i in same), "rows read again drew other numbers"
    assert survived[14] != whole[14], "rows after the death are seeded from their own request"


def slot_of(reply):
    """The slot id a _RowWriter reply names (status byte, then <I slot)."""
    return struct.unpack_from("<I", reply, 1)[0]


def test_a_row_writer_never_writes_two_rows_into_one_slot():
    import mmap
    from conveyor._core import _RowWriter
    maps = []

    def new_slot(capacity, sample):
        maps.append(mmap.mmap(-1, capacity))
        return len(maps), maps[-1]

    writer = _RowWriter(new_slot, bytearray(24))
    row = np.arange(4, dtype=np.float32)
    writer.start(2)  # two rows share a slot; a third position is not the request's
    first, second, stray = (slot_of(writer.write(row, 7, position)[0]) for position in (0, 1, 2))
    assert first == second and stray != first
    writer.give_back([stray, stray])  # a slot given back twice is still one slot
    writer.start(1)
    assert len({slot_of(writer.write(row, 8)[0]) for _ in range(2)}) == 2


def replies_of(message):
    """The replies of a worker's message: each after its <I length."""
    replies, at = [], 0
    while at < len(message):
        length, = struct.unpack_from("<I", message, at)
        replies.append(message[at + 4:at + 4 + length])
        at += 4 + length
    return replies


class Rows:
    """Row i is [i] (float32); row 5 raises, row 6 is None (which no tensor holds); each row
    sleeps `delay` seconds first."""

    def __init__(self, delay=0.0):
        self.delay = delay

    def __getitem__(self, index):
        time.sleep(self.delay)
        if index == 5:
            raise KeyError(f"no row {index}")
        return None if index == 6 else np.array([index], dtype=np.float32)


def row_writer():
    import mmap
    from conveyor._core import _RowWriter
    maps, progress = [], bytearray(24)

    def new_slot(capacity, sample):
        maps.append(mmap.mmap(-1, capacity))
        return len(maps) + 100, maps[-1]

    return _RowWriter(new_slot, progress), progress


def test_a_row_writer_answers_a_request_row_by_row_seeding_per_chunk_and_noting_each_sample():
    from conveyor.dataset._workers import _error_reply
    writer, progress = row_writer()
    seeded = []
    writer.start(1)
    message, fds = writer.answer(Rows(), 7, list(range(2, 40)), 16, seeded.append, lambda: False, _error_reply)
    replies = replies_of(message)
    assert len(replies) == 38 and seeded == [0, 16, 32]
    assert [r[0] for r in replies] == [0] * 3 + [1, 1] + [0] * 33  # rows 5 and 6 (positions 3, 4) failed
    error, text = pickle.loads(replies[3][1:])
    assert isinstance(error, KeyError) and "no row 5" in str(error) and "__getitem__" in text
    error, _ = pickle.loads(replies[4][1:])  # raised in native code: no traceback of its own
    assert isinstance(error, TypeError) and "NoneType" in str(error)
    # No row is being read now; the last was request 7's position 37.
    assert struct.unpack("<QQQ", progress) == (2 ** 64 - 1, 7, 37)
    assert len(fds) == 36  # a slot of its own per row, each new: their descriptors, in order
    assert all(isinstance(fd, int) for fd in fds)


def test_a_row_writer_gives_a_request_up_between_rows_once_cancelled():
    from conveyor.dataset._workers import _error_reply
    writer, _ = row_writer()
    asked = []

    def cancelled():
        asked.append(True)
        return len(asked) == 2

    writer.start(1)
    # Rows of 2 ms: cancelled() is asked before each row after the first, and says so the
    # second time: two rows are read, then one cancelled reply stands for the rest.
    message, _ = writer.answer(Rows(0.002), 0, [0, 1, 2, 3, 4], 16, lambda _: None, cancelled, _error_reply)
    assert [r[0] for r in replies_of(message)] == [0, 0, 3]


def test_a_death_on_a_sample_a_request_holds_twice_is_the_death_of_the_row_it_was_reading(
        tmp_path, restore_config):
    # Sample 13 is at positions 4 and 13 of the first request; the worker dies reading it the
    # second time. The row at position 13 is lost, not the one at 4 (which it had read).
    ds.config.set_error_samples_mode("skip")
    order = list(range(32))
    order[4] = 13
    data = ds.GeneratorDataset(DiesOnItsSecondRead(str(tmp_path / "died")), ["i", "noise"], sampler=order,
                               num_parallel_workers=2)
    assert [int(i) for i, _ in rows(data)[0]] == order[:13] + order[14:]


class Unconvertible:
    """Row 3's second column is None, which no tensor holds."""

    def __len__(self):
        return 8

    def __getitem__(self, index):
        return np.int64(index), None if index == 3 else np.float32(index)


def test_a_value_a_worker_cannot_convert_is_a_type_error_naming_its_column_and_the_worker_reads_on():
    data = ds.GeneratorDataset(Unconvertible(), ["i", "x"], shuffle=False, num_parallel_workers=2)
    pids = data._workers.pids()
    with pytest.raises(TypeError, match="column 1: .*NoneType"):
        rows(data)
    assert data._workers.pids() == pids, "a worker died"
