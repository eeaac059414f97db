"""The ``jpeg-aug`` workload, the ImageNet training transform: decode an encoded image,
RandomResizedCrop(224) (scale 0.08-1, ratio 3/4-4/3, bilinear), random horizontal flip,
normalise with the ImageNet mean/std, HWC -> CHW float32; batch 64, shuffled.

* conveyor: GeneratorDataset over the encoded bytes (threads: the source only hands out bytes)
  -> map([RandomCropDecodeResize(224), RandomHorizontalFlip(), Normalize, HWC2CHW]) -> batch.
  The fused RandomCropDecodeResize decodes only the crop window.
* torch: a Dataset that decodes with PIL and applies torchvision's RandomResizedCrop,
  RandomHorizontalFlip, ToTensor and Normalize when torchvision imports; otherwise the same
  algorithm written with PIL and NumPy (what a torch user without torchvision writes), drawing
  from torch's generator as torchvision does. ``TORCH_SIDE`` says which.
"""

from __future__ import annotations

import io
import math
from typing import Tuple

import numpy as np

import conveyor.dataset as ds
import conveyor.dataset.vision as vision
from conveyor.bench.images import EncodedImages
from conveyor.bench.loaders import conveyor_config, torch_configs
from conveyor.bench.workload import Workload

SIZE = 224
BATCH = 64
MEAN = [123.675, 116.28, 103.53]
STD = [58.395, 57.12, 57.375]
SCALE = (0.08, 1.0)
RATIO = (3.0 / 4.0, 4.0 / 3.0)

try:
    import torchvision
    import torchvision.transforms as T
except Exception:  # not installed, or installed but unable to load beside this torch
    torchvision = T = None

TORCH_SIDE = (f"PIL + torchvision {torchvision.__version__} transforms" if T is not None
              else "PIL + NumPy (torchvision's algorithm written out; torchvision not importable)")


def random_resized_crop_params(width: int, height: int) -> Tuple[int, int, int, int]:
    """RandomResizedCrop's window (top, left, height, width) for scale (0.08, 1) and ratio
    (3/4, 4/3): up to ten draws of an area and a log-uniform aspect ratio from torch's
    generator, else the largest central crop within the ratio range."""
    import torch

    area = height * width
    log_ratio = (math.log(RATIO[0]), math.log(RATIO[1]))
    for _ in range(10):
        target_area = area * torch.empty(1).uniform_(SCALE[0], SCALE[1]).item()
        aspect_ratio = math.exp(torch.empty(1).uniform_(log_ratio[0], log_ratio[1]).item())
        w = int(round(math.sqrt(target_area * aspect_ratio)))
        h = int(round(math.sqrt(target_area / aspect_ratio)))
        if 0 < w <= width and 0 < h <= height:
            top = int(torch.randint(0, height - h + 1, size=(1,)).item())
            left = int(torch.randint(0, width - w + 1, size=(1,)).item())
            return top, left, h, w
    in_ratio = width / height
    if in_ratio < RATIO[0]:
        w, h = width, int(round(width / RATIO[0]))
    elif in_ratio > RATIO[1]:
        h, w = height, int(round(height * RATIO[1]))
    else:
        w, h = width, height
    return (height - h) // 2, (width - w) // 2, h, w


class PilImages:
    """torch's side: item i is (the transformed image as a CHW float32 tensor, label i)."""

    def __init__(self, images: EncodedImages):
        self.images = images
        self.mean = np.asarray(MEAN, dtype=np.float32)
        self.inv_std = 1.0 / np.asarray(STD, dtype=np.float32)
        self.transform = None
        if T is not None:
            self.transform = T.Compose([T.RandomResizedCrop(SIZE, scale=SCALE, ratio=RATIO), T.RandomHorizontalFlip(),
                                        T.ToTensor(), T.Normalize([m / 255 for m in MEAN], [s / 255 for s in STD])])

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int):
        import torch
        from PIL import Image

        try:
            img = Image.open(io.BytesIO(self.images.read(index))).convert("RGB")
        except Exception as error:  # PIL's messages name neither the sample nor the file
            raise ValueError(f"sample {index} ({self.images.name(index)}): {error}") from error
        label = self.images.labels[index]
        if self.transform is not None:
            return self.transform(img), label
        top, left, h, w = random_resized_crop_params(*img.size)
        img = img.crop((left, top, left + w, top + h)).resize((SIZE, SIZE), Image.BILINEAR)
        if torch.rand(1).item() < 0.5:
            img = img.transpose(Image.FLIP_LEFT_RIGHT)
        arr = (np.asarray(img, dtype=np.float32) - self.mean) * self.inv_std
        return torch.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1))), label


class EncodedSource:
    """conveyor's side: item i is (the encoded bytes, label i)."""

    def __init__(self, images: EncodedImages):
        self.images = images

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int):
        return self.images.read(index), np.int64(self.images.labels[index])


def build(images: EncodedImages) -> Workload:
    """The workload over ``images`` (at least one batch of them)."""
    if len(images) < BATCH:
        raise ValueError(f"jpeg-aug needs at least {BATCH} images (one batch); {images.origin} has {len(images)}")
    configs = []
    for workers in (1, 2):
        pipeline = ds.GeneratorDataset(EncodedSource(images), ["image", "label"], shuffle=True,
                                       num_parallel_workers=workers, python_multiprocessing=False)
        pipeline = pipeline.map([vision.RandomCropDecodeResize(SIZE), vision.RandomHorizontalFlip(),
                                 vision.Normalize(mean=MEAN, std=STD), vision.HWC2CHW()],
                                input_columns=["image"], num_parallel_workers=workers)
        configs.append(conveyor_config(pipeline.batch(BATCH, drop_remainder=True), workers,
                                       f"num_parallel_workers={workers}"))
    configs += torch_configs(PilImages(images), BATCH)
    return Workload(
        name="jpeg-aug",
        description=(f"{images.origin}: decode, RandomResizedCrop({SIZE}), flip, Normalize, CHW float32, "
                     f"batch {BATCH}, shuffled"),
        samples_per_epoch=len(images) // BATCH * BATCH,
        bytes_per_sample=3 * SIZE * SIZE * 4 + 8,
        configs=configs,
        notes=[f"torch side: {TORCH_SIDE}"],
        sample_name=images.name)
