"""DataLoader's argument checks: torch's own (same conditions and messages), then what conveyor
does not implement."""

from __future__ import annotations

import pickle
from typing import Any

import torch.utils.data


def is_iterable_dataset(dataset: Any) -> bool:
    """Whether ``dataset`` is read as an iterable rather than map-style; TypeError when it is
    neither."""
    if isinstance(dataset, torch.utils.data.IterableDataset):
        return True
    if hasattr(dataset, "__len__") and (hasattr(dataset, "__getitem__") or hasattr(dataset, "__getitems__")):
        return False
    if hasattr(dataset, "__iter__"):
        return True
    raise TypeError(f"a {type(dataset).__qualname__} is neither map-style (__getitem__ or __getitems__, and "
                    "__len__) nor iterable (__iter__)")


def check_pickles(value: Any, name: str) -> None:
    try:
        pickle.dumps(value)
    except Exception as error:
        raise TypeError(f"{name} runs in worker processes and must pickle: {error}. Define it at module "
                        "level") from None


def check_arguments(iterable: bool, batch_size, shuffle, sampler, batch_sampler, num_workers, drop_last,
                     timeout, prefetch_factor, persistent_workers, multiprocessing_context,
                     pin_memory_device) -> None:
    """torch's own argument checks (same conditions), then what conveyor does not implement."""
    if not isinstance(num_workers, int) or num_workers < 0:
        raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable "
                         "multiprocessing.")
    if timeout < 0:
        raise ValueError("timeout option should be non-negative")
    if num_workers == 0 and prefetch_factor is not None:
        raise ValueError("prefetch_factor option could only be specified in multiprocessing. let "
                         "num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to None.")
    if prefetch_factor is not None and (not isinstance(prefetch_factor, int) or prefetch_factor < 1):
        raise ValueError(f"prefetch_factor must be a positive integer, not {prefetch_factor!r}")
    if persistent_workers and num_workers == 0:
        raise ValueError("persistent_workers option needs num_workers > 0")
    if iterable:
        if shuffle not in (None, False):
            raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle option, but got "
                             f"shuffle={shuffle}")
        if sampler is not None:
            raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler option, but got "
                             f"sampler={sampler}")
        if batch_sampler is not None:
            raise ValueError(f"DataLoader with IterableDataset: expected unspecified batch_sampler option, "
                             f"but got batch_sampler={batch_sampler}")
        if num_workers > 0:
            raise ValueError("num_workers > 0 with an iterable dataset is not supported by conveyor: it "
                             "reads an iterable in this process (torch would read a full copy in each "
                             "worker)")
    if sampler is not None and shuffle:
        raise ValueError("sampler option is mutually exclusive with shuffle")
    if batch_sampler is not None:
        if batch_size != 1 or shuffle or sampler is not None or drop_last:
            raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, "
                             "and drop_last")
    elif batch_size is None:
        if drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with "
                             "drop_last")
    elif not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
    if multiprocessing_context not in (None, "forkserver"):
        raise ValueError(f"multiprocessing_context={multiprocessing_context!r} is not supported: conveyor's "
                         "workers always start with forkserver")
    if pin_memory_device:
        raise ValueError(f"pin_memory_device={pin_memory_device!r} is not supported by conveyor")
