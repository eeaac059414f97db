"""Memory and CPU of a process tree, read from /proc (Linux).

A configuration's processes are this process and its descendants, less the long-lived worker
pools that belong to other configurations (see :class:`conveyor.bench.workload.Config`).
Resident memory is summed over those processes (pages shared between them count once per
process, as RSS does); CPU time is user + system, and includes children that ended and were
waited for during the measurement.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Callable, Dict, Iterable, List, Set, Tuple

_PAGE = os.sysconf("SC_PAGE_SIZE")
_TICK = os.sysconf("SC_CLK_TCK")


def children(pid: int) -> List[int]:
    """The direct children of ``pid`` (empty if it is gone)."""
    out: List[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                out.extend(int(p) for p in f.read().split())
    except OSError:
        pass
    return out


def descendants(pid: int) -> List[int]:
    """Every process below ``pid``, breadth first."""
    out, queue = [], children(pid)
    while queue:
        p = queue.pop(0)
        out.append(p)
        queue.extend(children(p))
    return out


def _stat_fields(pid: int) -> List[str]:
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()


def rss_bytes(pid: int) -> int:
    """Resident memory of ``pid``; 0 if it is gone."""
    try:
        return int(_stat_fields(pid)[21]) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0


def _cpu(fields: List[str]) -> float:
    return (int(fields[11]) + int(fields[12])) / _TICK


def cpu_seconds(pid: int) -> float:
    """User + system CPU of ``pid`` so far (not counting its children); 0 if it is gone."""
    try:
        return _cpu(_stat_fields(pid))
    except (OSError, IndexError, ValueError):
        return 0.0


def settle(interval_s: float = 0.05, quiet_cpu_s: float = 0.02, timeout_s: float = 10.0) -> float:
    """Waits until the processes below this one, together, use less than ``quiet_cpu_s`` of CPU
    in an ``interval_s``, or until ``timeout_s`` has passed; returns the seconds waited. Blocks
    the caller. Only processes there at both ends of an interval count (one that ends has no
    work left; one that starts is counted from the next interval); this process's own threads
    do not.

    A loader dropped mid-epoch can leave work running: a persistent-workers torch DataLoader's
    workers go on with the batches they had prefetched (jpeg-aug: 4 batches of 64 images, ~0.8 s
    on two cores), and a configuration measured meanwhile would share the cores with them."""
    me = os.getpid()

    def tree_cpu() -> Dict[Tuple[int, str], float]:
        # By pid and start time: a pid the system hands out again is another process.
        out = {}
        for pid in descendants(me):
            try:
                fields = _stat_fields(pid)
                out[(pid, fields[19])] = _cpu(fields)
            except (OSError, IndexError, ValueError):
                pass  # gone already
        return out

    start = time.perf_counter()
    before = tree_cpu()
    while time.perf_counter() - start < timeout_s:
        time.sleep(interval_s)
        after = tree_cpu()
        used = sum(cpu - before[key] for key, cpu in after.items() if key in before)
        if used < quiet_cpu_s:
            break
        before = after
    return time.perf_counter() - start


class TreeMeter:
    """Measures one configuration's run: peak summed RSS (sampled every ``interval_s`` on a
    background thread) and CPU seconds of the processes ``pids()`` returns. Use as a context
    manager around the run; ``peak_rss`` and ``cpu_s`` are final after it exits.

    A sample reads a dozen /proc files with the GIL held (~0.3-1 ms): every 20 ms, that cost
    py-heavy's 2 worker processes ~5 % of their throughput, so the default is 100 ms."""

    def __init__(self, pids: Callable[[], Iterable[int]], interval_s: float = 0.1):
        self._pids = pids
        self._interval = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample_until_stopped, daemon=True)
        self._cpu_start: Dict[int, float] = {}
        self._cpu_last: Dict[int, float] = {}
        self._direct: Set[int] = set()
        self.peak_rss = 0
        self.cpu_s = 0.0

    def _sample(self) -> None:
        pids: Set[int] = set(self._pids())
        self._direct.update(children(os.getpid()))
        total = 0
        for pid in pids:
            total += rss_bytes(pid)
            cpu = cpu_seconds(pid)
            if cpu:
                self._cpu_last[pid] = cpu
        self.peak_rss = max(self.peak_rss, total)

    def _sample_until_stopped(self) -> None:
        while not self._stop.wait(self._interval):
            self._sample()

    def __enter__(self) -> "TreeMeter":
        me = os.getpid()
        self._times_start = os.times()
        self._own_start = time.process_time()  # finer than os.times(): clock ticks of 10 ms
        self._cpu_start = {p: cpu_seconds(p) for p in self._pids() if p != me}
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()
        me = os.getpid()
        end = os.times()
        start = self._times_start
        # This process, and children it waited for meanwhile (a torch DataLoader's workers).
        own = time.process_time() - self._own_start
        reaped = (end.children_user - start.children_user) + (end.children_system - start.children_system)
        alive = {p: cpu_seconds(p) for p in self._pids() if p != me}
        others = 0.0
        for pid, last in self._cpu_last.items():
            if pid == me:
                continue
            if pid in alive and alive[pid]:
                others += alive[pid] - self._cpu_start.get(pid, 0.0)
            elif pid in self._direct:
                # A child that ended: counted in `reaped` whole, from its start; take off what it
                # had spent before this measurement.
                reaped -= self._cpu_start.get(pid, 0.0)
            else:
                # Gone, and not ours to wait for (a grandchild): its last sample is the best known.
                others += last - self._cpu_start.get(pid, 0.0)
        self.cpu_s = own + max(reaped, 0.0) + others
