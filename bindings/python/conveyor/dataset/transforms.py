"""Native generic ops, as mindspore.dataset.transforms: TypeCast, OneHot, Fill. Generated from
the C++ declarations (conveyor/ops)."""

from conveyor.dataset._native import NativeOperation, operator_classes

globals().update(operator_classes("transforms"))

__all__ = ["NativeOperation"] + sorted(operator_classes("transforms"))
