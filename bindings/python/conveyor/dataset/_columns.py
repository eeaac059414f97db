"""Column names as the API takes them (a name, a sequence of names, or None) and as a stage that
replaces some columns leaves them."""

from __future__ import annotations

from typing import List, Sequence, Union

Columns = Union[str, Sequence[str], None]


def as_names(columns: Columns) -> List[str]:
    """``columns`` as a list of names; None is none."""
    if columns is None:
        return []
    if isinstance(columns, str):
        return [columns]
    return list(columns)


def replace_columns(names: List[str], inputs: List[str], outputs: List[str]) -> List[str]:
    """Column names after ``outputs`` replace ``inputs``, at the first input's place."""
    first = min(names.index(c) for c in inputs)
    result: List[str] = []
    for i, name in enumerate(names):
        if i == first:
            result.extend(outputs)
        if name not in inputs:
            result.append(name)
    return result
