"""Native image ops, as mindspore.dataset.vision: Decode, Resize, CenterCrop, RandomCrop,
RandomResizedCrop, RandomCropDecodeResize, RandomHorizontalFlip, RandomVerticalFlip, Normalize,
HWC2CHW, Rescale, RandomColorAdjust, Pad. Images are HWC uint8 NumPy arrays. The classes are
generated from the C++ declarations (conveyor/ops); each random op draws from a generator
seeded by (config seed, epoch, sample, op), so results do not depend on the worker count."""

from conveyor.dataset._native import NativeOperation, operator_classes


class Inter:
    """Interpolation modes (mindspore.dataset.vision.Inter)."""

    NEAREST = "nearest"
    LINEAR = "linear"
    BILINEAR = "linear"
    CUBIC = "cubic"
    BICUBIC = "cubic"
    AREA = "area"


class Border:
    """Padding modes (mindspore.dataset.vision.Border); conveyor supports CONSTANT."""

    CONSTANT = "constant"
    EDGE = "edge"
    REFLECT = "reflect"
    SYMMETRIC = "symmetric"


globals().update(operator_classes("vision"))

__all__ = ["Border", "Inter", "NativeOperation"] + sorted(operator_classes("vision"))
