#!/usr/bin/env python3
"""JPEG training-input pipeline, conveyor against torch's DataLoader, side by side in one run.

The workload (the ImageNet training transform): decode a ~500x375 JPEG, RandomResizedCrop to
224x224 (torchvision's window algorithm, bilinear), random horizontal flip, normalise with the
ImageNet mean/std in pixel units, HWC -> CHW float32, batches of 64 (drop_last), shuffled.

* conveyor: conveyor.dataset.GeneratorDataset over a list of JPEG bytes ->
  map([vision.RandomCropDecodeResize(224), RandomHorizontalFlip(), Normalize(...), HWC2CHW()]) ->
  batch(64, True), with num_parallel_workers 1 and 2 (source and map).
* torch: torch.utils.data.DataLoader(num_workers 0 and 2, default collate; and num_workers 2
  with persistent_workers=True, its workers kept across epochs) over a Dataset that
  decodes with PIL and applies torchvision's transforms (RandomResizedCrop(224),
  RandomHorizontalFlip(), ToTensor(), Normalize()) when torchvision imports; otherwise the same
  algorithm written with PIL and NumPy below (RandomResizedCrop.get_params re-implemented,
  drawing from torch's generator as torchvision does), so that the script runs with the
  project's own dependencies. The first line of the output says which ran.

The JPEGs (quality 90, 4:2:0) are generated in memory at start-up with the same synthetic
photo-like content as bench/ops_bench.cpp. Rounds are interleaved (one epoch of every
configuration per round, the order rotating each round) after one warm-up round; the table gives
the median images/s, its spread (min-max) and the median time to first batch, then the ratio of
conveyor's best configuration to torch's best. Every conveyor epoch, like every plain torch
one, starts from a fresh iterator, its start-up included.

    python3 bench/jpeg_vs_torch.py                   # 1,000 images, 5 rounds (~1-2 minutes on 2 cores)
    python3 bench/jpeg_vs_torch.py --images 2000 --rounds 7
    python3 bench/jpeg_vs_torch.py --unfused        # conveyor with Decode + RandomResizedCrop

torchvision beside the project's torch 2.13.0 does not import; for the torchvision baseline use a
separate environment (on x86_64, the pair this kind of machine keeps on disk):

    python3 -m venv /tmp/tv && /tmp/tv/bin/pip install torch==2.14.1 torchvision==0.29.1 pillow \
        numpy scikit-build-core pybind11 && /tmp/tv/bin/pip install --no-build-isolation . && \
        /tmp/tv/bin/python bench/jpeg_vs_torch.py
"""

from __future__ import annotations

import argparse
import io
import math
import os
import platform
import statistics
import sys
import time
from typing import Callable, Dict, List, Tuple

# The image generator's matrix products would leave OpenBLAS threads spinning beside the loaders.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402 (after the environment is set)
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset

import conveyor
import conveyor.dataset as ds
import conveyor.dataset.vision as vision

WIDTH, HEIGHT, QUALITY = 500, 375, 90
SIZE = 224
BATCH = 64
MEAN = [123.675, 116.28, 103.53]
STD = [58.395, 57.12, 57.375]
SCALE = (0.08, 1.0)
RATIO = (3.0 / 4.0, 4.0 / 3.0)


# -- the images ----------------------------------------------------------------------------------

def synthetic_image(index: int) -> np.ndarray:
    """A photo-like (HEIGHT, WIDTH, 3) uint8 image, as bench/ops_bench.cpp makes them: per channel a
    linear gradient, three soft Gaussian blobs and a gentle sinusoidal texture, plus noise of +-14
    shared by the channels (luma) and +-3 per channel."""
    rng = np.random.default_rng(index * 7919 + 1)
    x = np.arange(WIDTH, dtype=np.float32)[None, :]
    y = np.arange(HEIGHT, dtype=np.float32)[:, None]
    img = np.empty((HEIGHT, WIDTH, 3), dtype=np.float32)
    for c in range(3):
        base = rng.uniform(40, 200)
        gx, gy = rng.uniform(-0.2, 0.2, 2)
        fx, fy = rng.uniform(0.01, 0.08, 2)
        amp = rng.uniform(4, 14)
        cols = [gx * x, amp * np.sin(fx * x)]  # separable factors, as in ops_bench.cpp
        rows = [base + gy * y, np.sin(fy * y)]
        for _ in range(3):
            bx, by = rng.uniform(0, WIDTH), rng.uniform(0, HEIGHT)
            radius, height = rng.uniform(30, 120), rng.uniform(-60, 60)
            cols.append(np.exp(-(x - bx) ** 2 / (2 * radius**2)))
            rows.append(height * np.exp(-(y - by) ** 2 / (2 * radius**2)))
        # Sum of outer products = one small matrix product: (H, 4) @ (4, W), plus the sums.
        left = np.concatenate(rows[1:], axis=1)  # (H, 4)
        right = np.concatenate(cols[1:], axis=0)  # (4, W)
        img[:, :, c] = rows[0] + cols[0] + left @ right
    img += rng.integers(-14, 15, (HEIGHT, WIDTH, 1), dtype=np.int8)
    img += rng.integers(-3, 4, (HEIGHT, WIDTH, 3), dtype=np.int8)
    return np.clip(img, 0, 255, out=img).astype(np.uint8)


def make_jpegs(count: int) -> List[bytes]:
    files = []
    for i in range(count):
        out = io.BytesIO()
        Image.fromarray(synthetic_image(i)).save(out, "JPEG", quality=QUALITY)  # PIL's default: 4:2:0
        files.append(out.getvalue())
    return files


# -- conveyor ------------------------------------------------------------------------------------

class JpegList:
    """Random-access source: row i is (the JPEG's bytes, its label)."""

    def __init__(self, files: List[bytes]):
        self.files = files

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int):
        return self.files[index], np.int64(index)


UNFUSED = False  # --unfused: Decode() then RandomResizedCrop() instead of RandomCropDecodeResize()


def conveyor_epoch(files: List[bytes], workers: int):
    """An iterator over one epoch of conveyor batches (image, label) as NumPy arrays."""
    # The source only hands out bytes: threads (the work is in the native map, without the GIL).
    dataset = ds.GeneratorDataset(JpegList(files), ["image", "label"], shuffle=True, num_parallel_workers=workers,
                                  python_multiprocessing=False)
    crop = [vision.Decode(), vision.RandomResizedCrop(SIZE)] if UNFUSED else [vision.RandomCropDecodeResize(SIZE)]
    dataset = dataset.map(crop + [vision.RandomHorizontalFlip(), vision.Normalize(mean=MEAN, std=STD), vision.HWC2CHW()],
                          input_columns=["image"], num_parallel_workers=workers)
    dataset = dataset.batch(BATCH, drop_remainder=True)
    return dataset.create_tuple_iterator(output_numpy=True, num_epochs=1)


# -- torch ---------------------------------------------------------------------------------------

def random_resized_crop_params(width: int, height: int) -> Tuple[int, int, int, int]:
    """torchvision.transforms.RandomResizedCrop.get_params (scale (0.08, 1), ratio (3/4, 4/3)),
    drawing from torch's generator exactly as torchvision does. Returns (top, left, h, w)."""
    area = height * width
    log_ratio = torch.log(torch.tensor(RATIO))
    for _ in range(10):
        target_area = area * torch.empty(1).uniform_(SCALE[0], SCALE[1]).item()
        aspect_ratio = torch.exp(torch.empty(1).uniform_(log_ratio[0], log_ratio[1])).item()
        w = int(round(math.sqrt(target_area * aspect_ratio)))
        h = int(round(math.sqrt(target_area / aspect_ratio)))
        if 0 < w <= width and 0 < h <= height:
            i = torch.randint(0, height - h + 1, size=(1,)).item()
            j = torch.randint(0, width - w + 1, size=(1,)).item()
            return i, j, h, w
    in_ratio = float(width) / float(height)  # fallback to a central crop
    if in_ratio < min(RATIO):
        w = width
        h = int(round(w / min(RATIO)))
    elif in_ratio > max(RATIO):
        h = height
        w = int(round(h * max(RATIO)))
    else:
        w, h = width, height
    return (height - h) // 2, (width - w) // 2, h, w


try:
    import torchvision
    import torchvision.transforms as T
except Exception:  # not installed, or (beside torch 2.13.0) installed but unable to load its ops
    torchvision = T = None


def torchvision_transform():
    """The classic ImageNet training transform, as torchvision users write it."""
    return T.Compose([T.RandomResizedCrop(SIZE, scale=SCALE, ratio=RATIO), T.RandomHorizontalFlip(), T.ToTensor(),
                      T.Normalize([m / 255 for m in MEAN], [s / 255 for s in STD])])


class PilJpegDataset(Dataset):
    """Decodes with PIL and applies the transform with torchvision, or as torchvision would."""

    def __init__(self, files: List[bytes]):
        self.files = files
        self.mean = np.asarray(MEAN, dtype=np.float32)
        self.inv_std = 1.0 / np.asarray(STD, dtype=np.float32)
        self.transform = torchvision_transform() if T is not None else None

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int):
        img = Image.open(io.BytesIO(self.files[index])).convert("RGB")
        if self.transform is not None:
            return self.transform(img), index
        top, left, h, w = random_resized_crop_params(*img.size)
        img = img.crop((left, top, left + w, top + h)).resize((SIZE, SIZE), Image.BILINEAR)
        if torch.rand(1).item() < 0.5:
            img = img.transpose(Image.FLIP_LEFT_RIGHT)
        arr = (np.asarray(img, dtype=np.float32) - self.mean) * self.inv_std
        return torch.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1))), index


def torch_epoch(files: List[bytes], workers: int):
    loader = DataLoader(PilJpegDataset(files), batch_size=BATCH, shuffle=True, num_workers=workers, drop_last=True)
    return iter(loader)


PERSISTENT: Dict[int, DataLoader] = {}


def torch_persistent_epoch(files: List[bytes], workers: int):
    """torch at its best: one DataLoader with persistent_workers=True, its worker processes kept
    from epoch to epoch (made in the warm-up round)."""
    if workers not in PERSISTENT:
        PERSISTENT[workers] = DataLoader(PilJpegDataset(files), batch_size=BATCH, shuffle=True, num_workers=workers,
                                         drop_last=True, persistent_workers=True)
    return iter(PERSISTENT[workers])


# -- the harness ---------------------------------------------------------------------------------

Config = Tuple[str, int, Callable]


def run_epoch(make_epoch: Callable, files: List[bytes], workers: int) -> Tuple[float, float, Tuple]:
    """One epoch from a fresh iterator (its start-up included): (images/s, seconds to first batch,
    shape of the first image batch)."""
    start = time.perf_counter()
    it = make_epoch(files, workers)
    first_batch = None
    images = 0
    for images_batch, _labels in it:
        if first_batch is None:
            first_batch = time.perf_counter() - start
            shape = (tuple(images_batch.shape), str(images_batch.dtype))
        images += images_batch.shape[0]
    elapsed = time.perf_counter() - start
    return images / elapsed, first_batch, shape


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=1000, help="JPEGs to generate (default 1000)")
    parser.add_argument("--rounds", type=int, default=5, help="measured rounds after the warm-up (default 5)")
    parser.add_argument("--unfused", action="store_true",
                        help="conveyor runs Decode + RandomResizedCrop instead of the fused RandomCropDecodeResize")
    args = parser.parse_args()
    global UNFUSED
    UNFUSED = args.unfused
    if args.images < BATCH:
        parser.error(f"--images must be at least the batch size, {BATCH}")

    print(f"# conveyor vs torch DataLoader: JPEG decode + RandomResizedCrop({SIZE}) + flip + normalize + CHW")
    print("conveyor ops: " + ("Decode, RandomResizedCrop" if UNFUSED else "RandomCropDecodeResize") +
          ", RandomHorizontalFlip, Normalize, HWC2CHW")
    print("torch side: PIL + " + (f"torchvision {torchvision.__version__} transforms" if T is not None else
                                   "torchvision's algorithm re-implemented with PIL and NumPy (torchvision not importable)"))
    print(f"python {platform.python_version()}, torch {torch.__version__}, numpy {np.__version__}, "
          f"Pillow {Image.__version__}, conveyor {getattr(conveyor, '__version__', '?')}; nproc {os.cpu_count()}; "
          f"load average at start {os.getloadavg()[0]:.2f}")
    t0 = time.perf_counter()
    files = make_jpegs(args.images)
    print(f"generated {len(files)} JPEGs {WIDTH}x{HEIGHT} q{QUALITY}, mean {np.mean([len(f) for f in files]) / 1024:.1f} KiB, "
          f"in {time.perf_counter() - t0:.1f} s", flush=True)

    configs: List[Config] = [("conveyor", 1, conveyor_epoch), ("torch", 0, torch_epoch),
                             ("conveyor", 2, conveyor_epoch), ("torch", 2, torch_epoch),
                             ("torch persistent_workers", 2, torch_persistent_epoch)]
    results: Dict[Tuple[str, int], List[Tuple[float, float]]] = {(n, w): [] for n, w, _ in configs}
    for round_ in range(args.rounds + 1):
        shift = round_ % len(configs)  # rotate the order; conveyor and torch still alternate
        for name, workers, make_epoch in configs[shift:] + configs[:shift]:
            rate, first, shape = run_epoch(make_epoch, files, workers)
            if round_ == 0:
                if shape != ((BATCH, 3, SIZE, SIZE), "float32") and shape != ((BATCH, 3, SIZE, SIZE), "torch.float32"):
                    raise SystemExit(f"{name} gave batches of {shape}")
                continue  # the warm-up round is not recorded
            results[(name, workers)].append((rate, first))
        status = "warm-up" if round_ == 0 else f"round {round_}/{args.rounds}"
        print(f"{status} done at {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)

    print()
    print(f"{args.rounds} rounds of one epoch each ({len(files) // BATCH * BATCH} images per epoch, batch {BATCH}), "
          f"load average at end {os.getloadavg()[0]:.2f}")
    print()
    print("| loader | workers | images/s (median) | spread (min-max) | time to first batch (median) |")
    print("|---|---|---|---|---|")
    medians = {}
    for (name, workers), runs in results.items():
        rates = [r for r, _ in runs]
        medians[(name, workers)] = statistics.median(rates)
        label = "num_parallel_workers" if name == "conveyor" else "num_workers"
        print(f"| {name} | {label}={workers} | {medians[(name, workers)]:.0f} | {min(rates):.0f}-{max(rates):.0f} | "
              f"{statistics.median(f for _, f in runs) * 1000:.0f} ms |")
    best_c = max((k for k in medians if k[0] == "conveyor"), key=medians.get)
    best_t = max((k for k in medians if k[0].startswith("torch")), key=medians.get)
    print()
    print(f"conveyor/torch, best vs best: {medians[best_c] / medians[best_t]:.2f}x "
          f"(conveyor {best_c[1]} workers {medians[best_c]:.0f} images/s, {best_t[0]} num_workers={best_t[1]} "
          f"{medians[best_t]:.0f} images/s)")
    print(f"conveyor 2 workers / torch num_workers=2: {medians[('conveyor', 2)] / medians[('torch', 2)]:.2f}x")
    print(f"total {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
