"""The ``native`` workload: a C++ source with no Python in it (``conveyor._core.bench``), each
row a freshly made 3x32x32 float32 image filled with its index and an int64 label, batch 256,
shuffled. Beside it, the floors: a hand-written C++ loop making the same rows with the same
code and copying them into reused batch buffers, and memcpy of the same bytes (the
memory-bandwidth bound). torch has no counterpart here: a DataLoader always calls Python.
"""

from __future__ import annotations

import conveyor.dataset as ds
from conveyor import _core
from conveyor.bench.loaders import conveyor_config
from conveyor.bench.workload import Bound, Workload

BATCH = 256
DEFAULT_SAMPLES = 100_000


def build(samples: int = DEFAULT_SAMPLES) -> Workload:
    """The workload over ``samples`` rows (at least one batch)."""
    if samples < BATCH:
        raise ValueError(f"native needs at least {BATCH} samples (one batch), not {samples}")
    configs = []
    for workers in (1, 2):
        core = _core.bench.native_dataset(samples, shuffle=True, num_parallel_workers=workers)
        pipeline = ds.Dataset(core).batch(BATCH, drop_remainder=True)
        configs.append(conveyor_config(pipeline, workers, f"num_parallel_workers={workers}"))
    usable = samples // BATCH * BATCH
    channels, height, width = _core.bench.IMAGE_SHAPE
    return Workload(
        name="native",
        description=(f"C++ source (no Python), {samples:,} rows of float32 3x32x32 + int64 label, batch {BATCH}, "
                     "shuffled"),
        samples_per_epoch=usable,
        bytes_per_sample=channels * height * width * 4 + 8,
        configs=configs,
        bounds=[Bound("hand-written C++ loop, same rows (1 thread)", usable,
                      run=lambda: _core.bench.hand_loop(usable, BATCH)),
                Bound("memcpy of the same bytes (1 thread)", usable,
                      run=lambda: _core.bench.memcpy_bound(usable, BATCH))])
