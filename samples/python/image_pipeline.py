"""An image pipeline on native ops: generates an ImageFolder-style folder of JPEGs (one subfolder
per class), reads it through conveyor.dataset.vision's decode and augmentation ops (run in C++,
without the GIL), saves the first batch as a grid of images in a PNG file and prints each
stage's profile from iterator.stats().

    python samples/python/image_pipeline.py [--folder DIR] [--images 96] [--grid augmented.png]

With --folder pointing at a folder that already holds images (subfolders of .jpg/.png/.bmp),
it reads those instead of generating any.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from typing import List, Tuple

import numpy as np
from PIL import Image

import conveyor.dataset as ds
import conveyor.dataset.vision as vision

CLASSES = ("circles", "stripes", "squares")
EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp")


def draw(kind: str, index: int, height: int = 180, width: int = 240) -> np.ndarray:
    """A (height, width, 3) uint8 picture of class ``kind``, varied by ``index``."""
    rng = np.random.default_rng(index)
    y, x = np.mgrid[0:height, 0:width]
    colour = rng.integers(60, 255, 3)
    if kind == "circles":
        cy, cx = rng.integers(40, height - 40), rng.integers(40, width - 40)
        mask = (y - cy) ** 2 + (x - cx) ** 2 < rng.integers(20, 40) ** 2
    elif kind == "stripes":
        mask = (x + y * rng.uniform(-1, 1)) // rng.integers(8, 20) % 2 == 0
    else:
        top, left = rng.integers(10, height // 2), rng.integers(10, width // 2)
        mask = (y > top) & (y < top + height // 3) & (x > left) & (x < left + width // 3)
    image = np.full((height, width, 3), 30, np.uint8)
    image[mask] = colour
    return image


def generate(folder: str, count: int) -> None:
    """Writes ``count`` JPEGs into ``folder``/<class>/<n>.jpg, spread over CLASSES."""
    for index in range(count):
        kind = CLASSES[index % len(CLASSES)]
        os.makedirs(os.path.join(folder, kind), exist_ok=True)
        Image.fromarray(draw(kind, index)).save(os.path.join(folder, kind, f"{index:05d}.jpg"), quality=90)


class ImageFolder:
    """torchvision's ImageFolder layout as a random-access source: item i is (the file's encoded
    bytes as a uint8 array, the index of its subfolder among the sorted subfolders)."""

    def __init__(self, root: str):
        self.classes = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
        self.files: List[Tuple[str, int]] = []
        for label, name in enumerate(self.classes):
            for dirpath, _, filenames in sorted(os.walk(os.path.join(root, name))):
                self.files += [(os.path.join(dirpath, f), label) for f in sorted(filenames)
                               if f.lower().endswith(EXTENSIONS)]
        if not self.files:
            raise ValueError(f"no images under {root} (expected <class>/<image> files ending {EXTENSIONS})")

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int):
        path, label = self.files[index]
        return np.fromfile(path, dtype=np.uint8), np.int64(label)


def grid(images: np.ndarray, columns: int) -> np.ndarray:
    """(N, H, W, 3) images tiled into one (rows*H, columns*W, 3) image, 2-pixel gaps."""
    n, h, w, _ = images.shape
    rows = -(-n // columns)
    out = np.full((rows * (h + 2), columns * (w + 2), 3), 255, np.uint8)
    for i, image in enumerate(images):
        r, c = divmod(i, columns)
        out[r * (h + 2):r * (h + 2) + h, c * (w + 2):c * (w + 2) + w] = image
    return out


def print_profile(stats: List[dict], seconds: float) -> None:
    """Each stage's share of the wall time, per worker, and the busiest stage."""
    print(f"{'stage':<12}{'workers':>8}{'rows':>8}{'busy':>8}{'wait in':>9}{'wait out':>10}")
    for s in stats:
        capacity = max(s["workers"], 1) * seconds
        print(f"{s['name']:<12}{s['workers']:>8}{s['rows']:>8}{100 * s['busy_s'] / capacity:>7.0f}%"
              f"{100 * s['wait_input_s'] / capacity:>8.0f}%{100 * s['wait_output_s'] / capacity:>9.0f}%")
    busiest = max(stats, key=lambda s: s["busy_s"] / max(s["workers"], 1))
    print(f"bottleneck: {busiest['name']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folder", help="an ImageFolder-style folder (default: generate one in a temporary folder)")
    parser.add_argument("--images", type=int, default=96, help="images to generate (without --folder)")
    parser.add_argument("--grid", default="augmented.png", help="where to write the grid of the first batch")
    parser.add_argument("--size", type=int, default=96, help="side of the augmented images")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        folder = args.folder or scratch
        if not args.folder:
            generate(folder, args.images)
        source = ImageFolder(folder)
        print(f"{len(source)} images in {len(source.classes)} classes: {', '.join(source.classes)}")

        # The source only hands out bytes: threads, not processes. The ops are native: the
        # fused RandomCropDecodeResize decodes only the crop window of each JPEG.
        dataset = ds.GeneratorDataset(source, ["image", "label"], shuffle=True,
                                      num_parallel_workers=args.workers, python_multiprocessing=False)
        augment = [vision.RandomCropDecodeResize(args.size, scale=(0.3, 1.0)),
                   vision.RandomHorizontalFlip(0.5),
                   vision.RandomColorAdjust(brightness=0.4, contrast=0.4, saturation=0.4)]
        dataset = dataset.map(augment, input_columns=["image"], num_parallel_workers=args.workers)
        dataset = dataset.batch(args.batch, drop_remainder=True)

        iterator = dataset.create_tuple_iterator(num_epochs=1, output_numpy=True)
        started = time.perf_counter()
        first, batches = None, 0
        for images, labels in iterator:
            if first is None:
                first = images.copy()  # the batch buffer returns to the pool once released
            batches += 1
        seconds = time.perf_counter() - started
        if first is None:
            print(f"fewer images than one batch of {args.batch}", file=sys.stderr)
            return 1
        print(f"{batches} batches of {tuple(first.shape)} {first.dtype} images in {seconds:.2f} s")
        Image.fromarray(grid(first, columns=4)).save(args.grid)
        print(f"wrote {args.grid}")
        print_profile(iterator.stats(), seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
