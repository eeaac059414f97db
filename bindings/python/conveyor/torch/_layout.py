"""The structure of a torch dataset's sample, and how it travels through the engine.

A sample (a tensor, a number, a string, or tuples, lists, named tuples and dicts of them, nested)
is flattened into columns, one per leaf, in a fixed order; the engine carries and batches the
columns; the consumer puts them back into the structure ``torch.utils.data.default_collate``
gives (a batch) or into the sample itself (for a custom ``collate_fn``).
"""

from __future__ import annotations

import collections.abc
import numbers
from typing import Any, List, Sequence, Tuple

import numpy as np
import torch

# Leaf kinds: what a leaf was, so that it can be given back as the same kind of value.
TENSOR, NDARRAY, NUMPY_SCALAR, INT, FLOAT, BOOL, STR, BYTES = (
    "tensor", "ndarray", "numpy scalar", "int", "float", "bool", "str", "bytes")
_TEXT = (STR, BYTES)


def _leaf_kind(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        return TENSOR
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "OSU":
            raise TypeError(f"arrays of {value.dtype} cannot be batched (default_collate refuses them too)")
        return NDARRAY
    if isinstance(value, np.generic):
        return NUMPY_SCALAR
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, numbers.Integral):
        return INT
    if isinstance(value, numbers.Real):
        return FLOAT
    if isinstance(value, str):
        return STR
    if isinstance(value, bytes):
        return BYTES
    raise TypeError(f"a sample holds a {type(value).__qualname__}; conveyor carries tensors, NumPy arrays and "
                    "scalars, numbers, str and bytes, in tuples, lists and dicts")


# Kinds of the common leaf types, found without isinstance checks against ABCs (per sample).
_EXACT_KINDS = {torch.Tensor: TENSOR, int: INT, float: FLOAT, bool: BOOL, str: STR, bytes: BYTES}


class Layout:
    """The tree of one sample: containers as nodes, leaves numbered in depth-first order.

    A node is ``("leaf", kind, column)``, ``("dict", type, keys, children)`` or
    ``("seq", type, children)`` (tuples, lists and named tuples). Immutable; pickles with the
    dataset adapter it belongs to."""

    def __init__(self, sample: Any):
        self.kinds: List[str] = []
        self.root = self._node(sample)

    def _node(self, value: Any):
        if isinstance(value, collections.abc.Mapping):
            keys = list(value.keys())
            return ("dict", type(value), keys, [self._node(value[k]) for k in keys])
        if isinstance(value, (tuple, list)):
            return ("seq", type(value), [self._node(v) for v in value])
        self.kinds.append(_leaf_kind(value))
        return ("leaf", self.kinds[-1], len(self.kinds) - 1)

    @property
    def columns(self) -> int:
        return len(self.kinds)

    @property
    def has_text(self) -> bool:
        """True when a leaf is a str or bytes: such columns cannot be stacked by the engine."""
        return any(k in _TEXT for k in self.kinds)

    # -- sample -> columns (in the process that reads the dataset) -------------------------------

    def flatten(self, sample: Any, index: Any) -> Tuple[Any, ...]:
        """The columns of ``sample`` (dataset item ``index``), checked against this layout."""
        out: List[Any] = []
        try:
            self._flatten(self.root, sample, out)
        except _Mismatch:
            self._explain(self.root, sample, index, "sample")
            raise
        return tuple(out)

    def _flatten(self, node, value, out: List[Any]) -> None:
        # The hot path (once per sample): no message is built unless something does not match.
        tag = node[0]
        if tag == "leaf":
            kind = _EXACT_KINDS.get(type(value)) or _leaf_kind(value)
            if kind != node[1]:
                raise _Mismatch
            out.append(_column(value, kind))
        elif tag == "seq":
            children = node[2]
            if not isinstance(value, (tuple, list)) or len(value) != len(children):
                raise _Mismatch
            for child, item in zip(children, value):
                self._flatten(child, item, out)
        else:
            if not isinstance(value, collections.abc.Mapping) or list(value.keys()) != node[2]:
                raise _Mismatch
            for key, child in zip(node[2], node[3]):
                self._flatten(child, value[key], out)

    def _explain(self, node, value, index, where: str) -> None:
        """Raises the error that names where ``value`` departs from ``node``."""
        if node[0] == "dict":
            if not isinstance(value, collections.abc.Mapping) or list(value.keys()) != node[2]:
                raise ValueError(f"dataset item {index}: {where} is {_describe(value)}, but the first sample had a "
                                 f"dict with keys {node[2]}; every sample must have the same structure")
            for key, child in zip(node[2], node[3]):
                self._explain(child, value[key], index, f"{where}[{key!r}]")
        elif node[0] == "seq":
            if not isinstance(value, (tuple, list)) or len(value) != len(node[2]):
                raise ValueError(f"dataset item {index}: {where} is {_describe(value)}, but the first sample had a "
                                 f"sequence of {len(node[2])}; every sample must have the same structure")
            for i, child in enumerate(node[2]):
                self._explain(child, value[i], index, f"{where}[{i}]")
        else:
            kind = _leaf_kind(value)
            if kind != node[1]:
                raise TypeError(f"dataset item {index}: {where} is a {kind}, but the first sample had a {node[1]} "
                                "there; every sample must have the same structure")

    # -- columns -> values (in the consumer) -----------------------------------------------------

    def batch(self, columns: Sequence[Any]) -> Any:
        """What default_collate gives for a batch whose stacked columns are ``columns``
        (conveyor Tensors): tensors shared with the engine's buffer through DLPack, in the
        sample's structure, tuples becoming lists as default_collate makes them."""
        return self._build(self.root, [torch.from_dlpack(c) for c in columns], collated=True)

    def sample(self, columns: Sequence[Any]) -> Any:
        """The sample itself, rebuilt from its columns (conveyor Tensors or arrays): each leaf
        as the kind of value the dataset returned (tensors share the engine's memory)."""
        return self._build(self.root, [_leaf(c, k) for c, k in zip(columns, self.kinds)], collated=False)

    def _build(self, node, leaves: List[Any], collated: bool) -> Any:
        if node[0] == "leaf":
            return leaves[node[2]]
        if node[0] == "dict":
            values = {k: self._build(c, leaves, collated) for k, c in zip(node[2], node[3])}
            return _make(node[1], values, dict)
        items = [self._build(c, leaves, collated) for c in node[2]]
        container = node[1]
        if issubclass(container, tuple) and hasattr(container, "_fields"):
            return container(*items)
        if collated and issubclass(container, tuple):
            return items  # default_collate turns a tuple's fields into a list
        return _make(container, items, list if collated else tuple)


class _Mismatch(Exception):
    """A sample departs from the layout (Layout._explain then says where)."""


def _make(container: type, values: Any, fallback: type) -> Any:
    try:
        return container(values)
    except TypeError:  # a container type that cannot be built from its items, as default_collate does
        return fallback(values)


def _describe(value: Any) -> str:
    if isinstance(value, collections.abc.Mapping):
        return f"a dict with keys {list(value.keys())}"
    if isinstance(value, (tuple, list)):
        return f"a sequence of {len(value)}"
    return f"a {type(value).__qualname__}"


def _column(value: Any, kind: str) -> Any:
    if kind == TENSOR:
        try:
            return value.numpy()
        except (RuntimeError, TypeError):  # it requires grad, or lives on another device
            return value.detach().cpu().numpy()
    if kind == NUMPY_SCALAR:
        return np.asarray(value)
    return value  # arrays, str and bytes as they are; int, float and bool become int64, float64 and bool


def _leaf(column: Any, kind: str) -> Any:
    if kind == TENSOR:
        return torch.from_dlpack(column)
    array = np.asarray(column)
    array = array.view(np.dtype(array.dtype.name))  # NumPy's canonical type: int64, not longlong
    if kind == NDARRAY:
        return array
    if kind == NUMPY_SCALAR:
        return array[()]
    if kind == INT:
        return int(array)
    if kind == FLOAT:
        return float(array)
    if kind == BOOL:
        return bool(array)
    if kind == STR:
        return array.tobytes().decode()
    return array.tobytes()
