"""Rank and world size from the launcher that started this process, for ``num_shards="auto"``.

torchrun (and torch.distributed.launch) set ``RANK`` and ``WORLD_SIZE``; Open MPI's mpirun sets
``OMPI_COMM_WORLD_RANK`` and ``OMPI_COMM_WORLD_SIZE``. With neither, the process is the only
shard.
"""

from __future__ import annotations

import os
from typing import Mapping, Optional, Tuple, Union

_LAUNCHERS = (("torchrun", "RANK", "WORLD_SIZE"), ("Open MPI", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"))

AUTO = "auto"


def launcher_shard(environ: Optional[Mapping[str, str]] = None) -> Tuple[int, int]:
    """(num_shards, shard_id) from the environment: torchrun's variables first, then Open
    MPI's, else (1, 0). Raises ValueError naming the variable when one is set but malformed, or
    when only one of a pair is set."""
    env = os.environ if environ is None else environ
    for launcher, rank_name, size_name in _LAUNCHERS:
        if rank_name not in env and size_name not in env:
            continue
        if rank_name not in env or size_name not in env:
            present, missing = (rank_name, size_name) if rank_name in env else (size_name, rank_name)
            raise ValueError(f"num_shards='auto': {present} is set but {missing} is not ({launcher}'s variables "
                             "come together)")
        rank, size = _integer(env, rank_name), _integer(env, size_name)
        if size < 1 or not 0 <= rank < size:
            raise ValueError(f"num_shards='auto': {rank_name}={rank} and {size_name}={size} do not name a shard")
        return size, rank
    return 1, 0


def resolve_shards(num_shards: Union[int, str, None], shard_id: Union[int, str, None],
                   environ: Optional[Mapping[str, str]] = None) -> Tuple[Optional[int], Optional[int]]:
    """``num_shards`` and ``shard_id`` with "auto" replaced by the launcher's values. "auto" in
    one needs "auto" (or None) in the other; a single shard from "auto" means no sharding
    (None, None)."""
    if num_shards != AUTO and shard_id != AUTO:
        return num_shards, shard_id
    if (num_shards not in (AUTO, None)) or (shard_id not in (AUTO, None)):
        raise ValueError(f"num_shards={num_shards!r} and shard_id={shard_id!r}: 'auto' reads both from the "
                         "launcher; give both as 'auto' or both as numbers")
    size, rank = launcher_shard(environ)
    return (None, None) if size == 1 else (size, rank)


def _integer(env: Mapping[str, str], name: str) -> int:
    try:
        return int(env[name])
    except ValueError:
        raise ValueError(f"num_shards='auto': {name}={env[name]!r} is not an integer") from None
