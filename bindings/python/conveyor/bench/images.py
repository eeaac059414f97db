"""Encoded images for the ``jpeg-aug`` workload: photo-like JPEGs generated in memory, or a
user's folder of images read ImageFolder-style.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from typing import List, Union

import numpy as np

WIDTH, HEIGHT, QUALITY = 500, 375, 90
#: File name endings read from a folder (case-insensitive); the decoders handle these formats.
EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp")


def synthetic_image(index: int) -> np.ndarray:
    """A photo-like (HEIGHT, WIDTH, 3) uint8 image, as bench/ops_bench.cpp makes them: per
    channel a linear gradient, three soft Gaussian blobs and a gentle sinusoidal texture, plus
    noise of +-14 shared by the channels (luma) and +-3 per channel."""
    rng = np.random.default_rng(index * 7919 + 1)
    x = np.arange(WIDTH, dtype=np.float32)[None, :]
    y = np.arange(HEIGHT, dtype=np.float32)[:, None]
    img = np.empty((HEIGHT, WIDTH, 3), dtype=np.float32)
    for c in range(3):
        base = rng.uniform(40, 200)
        gx, gy = rng.uniform(-0.2, 0.2, 2)
        fx, fy = rng.uniform(0.01, 0.08, 2)
        amp = rng.uniform(4, 14)
        cols = [gx * x, amp * np.sin(fx * x)]
        rows = [base + gy * y, np.sin(fy * y)]
        for _ in range(3):
            bx, by = rng.uniform(0, WIDTH), rng.uniform(0, HEIGHT)
            radius, height = rng.uniform(30, 120), rng.uniform(-60, 60)
            cols.append(np.exp(-(x - bx) ** 2 / (2 * radius**2)))
            rows.append(height * np.exp(-(y - by) ** 2 / (2 * radius**2)))
        # The separable terms summed as one small matrix product: (H, 4) @ (4, W).
        img[:, :, c] = rows[0] + cols[0] + np.concatenate(rows[1:], axis=1) @ np.concatenate(cols[1:], axis=0)
    img += rng.integers(-14, 15, (HEIGHT, WIDTH, 1), dtype=np.int8)
    img += rng.integers(-3, 4, (HEIGHT, WIDTH, 3), dtype=np.int8)
    return np.clip(img, 0, 255, out=img).astype(np.uint8)


@dataclass
class EncodedImages:
    """Encoded images and their labels: each item is the file's bytes (generated images) or its
    path (a folder, read at each access, as a training job reads its files)."""

    items: List[Union[bytes, str]]
    labels: List[int]
    classes: List[str]
    origin: str

    def __len__(self) -> int:
        return len(self.items)

    def name(self, index: int) -> str:
        """Where image ``index`` comes from: its path, or "generated image i"."""
        item = self.items[index]
        return item if isinstance(item, str) else f"generated image {index}"

    def read(self, index: int) -> bytes:
        item = self.items[index]
        if isinstance(item, bytes):
            return item
        with open(item, "rb") as f:
            return f.read()


def generate(count: int) -> EncodedImages:
    """``count`` synthetic JPEGs (WIDTH x HEIGHT, quality 90, 4:2:0), labels 0-9."""
    from PIL import Image

    items = []
    for i in range(count):
        out = io.BytesIO()
        Image.fromarray(synthetic_image(i)).save(out, "JPEG", quality=QUALITY)  # PIL's default: 4:2:0
        items.append(out.getvalue())
    return EncodedImages(items, [i % 10 for i in range(count)], [str(c) for c in range(10)],
                         f"{count} generated {WIDTH}x{HEIGHT} JPEGs (quality {QUALITY})")


class DatasetFolderError(ValueError):
    """A --dataset folder that cannot be used: missing, unreadable, or without images."""


def _walk_error(error: OSError) -> None:
    raise DatasetFolderError(f"cannot read {error.filename}: {error.strerror}")


def scan(root: str) -> EncodedImages:
    """The images under ``root``, ImageFolder-style: each first-level subfolder is a class (its
    images found at any depth), classes sorted by name; images directly in ``root`` form a class
    named ".". Raises DatasetFolderError when ``root`` is not a readable folder, when it holds
    no image, or when an image file cannot be read."""
    if not os.path.isdir(root):
        raise DatasetFolderError(f"--dataset {root}: not a folder")
    if not os.access(root, os.R_OK | os.X_OK):
        raise DatasetFolderError(f"--dataset {root}: folder not readable")
    found = []  # (class name, path)
    for folder, subfolders, files in os.walk(root, onerror=_walk_error):
        subfolders.sort()
        relative = os.path.relpath(folder, root)
        name = "." if relative == "." else relative.split(os.sep)[0]
        for file in sorted(files):
            if file.lower().endswith(EXTENSIONS):
                found.append((name, os.path.join(folder, file)))
    if not found:
        raise DatasetFolderError(f"--dataset {root}: no images ({', '.join(EXTENSIONS)}) in it or its subfolders")
    for _, path in found:
        if not os.access(path, os.R_OK):
            raise DatasetFolderError(f"--dataset {root}: cannot read {path}")
    classes = sorted({name for name, _ in found})
    index = {name: i for i, name in enumerate(classes)}
    return EncodedImages([p for _, p in found], [index[n] for n, _ in found], classes,
                         f"{len(found)} images in {len(classes)} classes under {root}")
