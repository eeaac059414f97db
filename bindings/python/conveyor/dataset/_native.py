"""Python classes for the native operators, generated from their C++ declarations
(``_core.operators()``), with MindSpore's argument shorthands."""

from __future__ import annotations

import numbers
from typing import Any, Callable, Dict, List

import numpy as np

from conveyor import _core


class NativeOperation:
    """A native op with its arguments. Pass it to ``map(operations=[...])``: adjacent native ops
    run fused in one task without the GIL. Calling it runs it eagerly on NumPy arrays."""

    _name = ""

    def __init__(self, values: Dict[str, Any]):
        self._native = _core.NativeOp(self._name, values)

    def __call__(self, *arrays):
        return self._native(*arrays)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._native.values.items())
        return f"{self._name}({args})"


def _pair(value, what: str) -> List[float]:
    if isinstance(value, numbers.Number):
        return [float(value)] * 2
    values = [float(v) for v in value]
    if len(values) != 2:
        raise ValueError(f"{what} must be a number or a (min, max) pair, not {value!r}")
    return values


def _size(value) -> List[float]:
    return [float(value)] if isinstance(value, numbers.Number) else [float(v) for v in value]


def _padding(value) -> List[float]:
    """MindSpore's padding: p (all sides), (left_right, top_bottom) or (left, top, right, bottom);
    canonical form {top, bottom, left, right}."""
    if isinstance(value, numbers.Number):
        return [float(value)] * 4
    v = [float(p) for p in value]
    if len(v) == 2:
        return [v[1], v[1], v[0], v[0]]
    if len(v) == 4:
        left, top, right, bottom = v
        return [top, bottom, left, right]
    raise ValueError(f"padding must be a number, a pair or four values, not {value!r}")


def _jitter(value, what: str) -> List[float]:
    """ColorJitter's shorthand: x means [max(0, 1 - x), 1 + x]."""
    if isinstance(value, numbers.Number):
        return [max(0.0, 1.0 - float(value)), 1.0 + float(value)]
    return _pair(value, what)


def _hue(value) -> List[float]:
    if isinstance(value, numbers.Number):
        return [-float(value), float(value)]
    return _pair(value, "hue")


def _fill(value) -> int:
    if isinstance(value, numbers.Number):
        return int(value)
    values = set(int(v) for v in value)
    if len(values) != 1:
        raise ValueError(f"per-channel fill values are not supported, got {value!r}")
    return values.pop()


def _dtype(value) -> str:
    return np.dtype(value).name


# MindSpore's shorthands, by parameter name, turned into the canonical values C++ declares.
_CANONICAL: Dict[str, Callable[[Any], Any]] = {
    "size": _size,
    "padding": _padding,
    "scale": lambda v: _pair(v, "scale"),
    "ratio": lambda v: _pair(v, "ratio"),
    "brightness": lambda v: _jitter(v, "brightness"),
    "contrast": lambda v: _jitter(v, "contrast"),
    "saturation": lambda v: _jitter(v, "saturation"),
    "hue": _hue,
    "mean": lambda v: [float(x) for x in v],
    "std": lambda v: [float(x) for x in v],
    "fill_value": _fill,
    "data_type": _dtype,
    "prob": float,
    "rescale": float,
    "shift": float,
}


def _make_class(spec: Dict[str, Any]) -> type:
    params = spec["params"]
    names = [p[0] for p in params]

    def __init__(self, *args, **kwargs):
        if len(args) > len(names):
            raise TypeError(f"{spec['name']}() takes at most {len(names)} arguments")
        values = dict(zip(names, args))
        for key, value in kwargs.items():
            if key not in names:
                raise TypeError(f"{spec['name']}() got an unexpected argument '{key}'")
            if key in values:
                raise TypeError(f"{spec['name']}() got '{key}' twice")
            values[key] = value
        canonical = {k: _CANONICAL.get(k, lambda v: v)(v) for k, v in values.items() if v is not None}
        if spec["name"] == "Fill" and "fill_value" in canonical:
            canonical["fill_value"] = float(values["fill_value"])
        NativeOperation.__init__(self, canonical)

    lines = [spec["doc"], "", "Arguments:"]
    for name, default, required, doc in params:
        lines.append(f"    {name}: {doc}" + ("" if required else f" (default {default!r})"))
    return type(spec["name"], (NativeOperation,), {"__init__": __init__, "__doc__": "\n".join(lines),
                                                   "_name": spec["name"]})


def operator_classes(module: str) -> Dict[str, type]:
    """The generated classes of one module ("vision" or "transforms"), by name."""
    return {spec["name"]: _make_class(spec) for spec in _core.operators() if spec["module"] == module}
