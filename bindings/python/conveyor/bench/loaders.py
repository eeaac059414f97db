"""Configurations of the two loaders, built the same way for every workload.

conveyor: a pipeline (``conveyor.dataset.Dataset``) read with ``create_tuple_iterator``, one
fresh iterator per epoch; its worker processes, if any, live as long as the dataset.
torch: ``DataLoader(batch_size, shuffle=True, drop_last=True, num_workers=N)``, a fresh one per
epoch (its workers start and stop with the epoch, so there is nothing to warm up), and for
``persistent`` worker counts one DataLoader with ``persistent_workers=True`` kept across epochs
(its workers made in its first warm-up).
"""

from __future__ import annotations

from typing import Any, List, Optional, Sequence

from conveyor.bench.workload import CONVEYOR, TORCH, Config, Epoch


def _parent(pid: int) -> Optional[int]:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def conveyor_config(pipeline, workers: int, setting: str, generator=None) -> Config:
    """``pipeline`` read one epoch per call. ``generator``: the GeneratorDataset whose worker
    processes (and their fork server) this configuration owns, when it has any."""

    def epoch() -> Epoch:
        iterator = pipeline.create_tuple_iterator(output_numpy=True, num_epochs=1)
        return Epoch(iterator, iterator.stats)

    def pids() -> List[int]:
        pool = getattr(generator, "_workers", None)
        if pool is None:
            return []
        workers_ = pool.pids()
        servers = {_parent(p) for p in workers_} - {None}
        return workers_ + sorted(servers)

    def close() -> None:
        pool = getattr(generator, "_workers", None)
        if pool is not None:
            pool.close()

    return Config(CONVEYOR, workers, setting, epoch, pids, close)


def torch_configs(dataset: Any, batch_size: int, worker_counts: Sequence[int] = (0, 1, 2),
                  persistent: Sequence[int] = (2,)) -> List[Config]:
    """torch's DataLoader over ``dataset`` at each of ``worker_counts``, plus a persistent-workers
    loader at each of ``persistent``."""
    from torch.utils.data import DataLoader

    def fresh(n: int) -> Config:
        def epoch() -> Epoch:
            return Epoch(iter(DataLoader(dataset, batch_size=batch_size, shuffle=True, drop_last=True, num_workers=n)))

        return Config(TORCH, n, f"num_workers={n}", epoch, warm_up=n == 0)

    def kept(n: int) -> Config:
        loader = DataLoader(dataset, batch_size=batch_size, shuffle=True, drop_last=True, num_workers=n,
                            persistent_workers=True)

        def pids() -> List[int]:
            running = getattr(loader, "_iterator", None)
            return [w.pid for w in getattr(running, "_workers", [])]

        def close() -> None:
            running = getattr(loader, "_iterator", None)
            if running is not None:
                running._shutdown_workers()

        return Config(TORCH, n, f"num_workers={n} persistent", lambda: Epoch(iter(loader)), pids, close)

    return [fresh(n) for n in worker_counts] + [kept(n) for n in persistent]
