"""Native ops from Python: argument shorthands, results against NumPy references, fusion with
Python callables in one map, and determinism across workers (a corrupt image is a row of
test_fault_matrix.py)."""

import struct

import numpy as np
import pytest

import conveyor.dataset as ds
import conveyor.dataset.transforms as transforms
import conveyor.dataset.vision as vision


def bmp(image: np.ndarray) -> bytes:
    """An uncompressed 24-bit BMP of an (h, w, 3) RGB uint8 image (rows bottom-up, BGR, padded)."""
    h, w, _ = image.shape
    row = w * 3 + (-w * 3) % 4
    pixels = b"".join(image[y, :, ::-1].tobytes().ljust(row, b"\0") for y in reversed(range(h)))
    header = struct.pack("<2sIHHI", b"BM", 54 + len(pixels), 0, 0, 54)
    info = struct.pack("<IiiHHIIiiII", 40, w, h, 1, 24, 0, len(pixels), 2835, 2835, 0, 0)
    return header + info + pixels


def image(h=20, w=30, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def test_decode_reads_a_bmp_exactly():
    img = image()
    assert np.array_equal(vision.Decode()(np.frombuffer(bmp(img), np.uint8)), img)


def test_layout_and_colour_ops_match_numpy():
    img = image()
    assert np.array_equal(vision.HWC2CHW()(img), img.transpose(2, 0, 1))
    mean, std = [10.0, 20.0, 30.0], [2.0, 4.0, 8.0]
    np.testing.assert_allclose(vision.Normalize(mean, std)(img), (img - np.array(mean)) / np.array(std), rtol=1e-6)
    np.testing.assert_allclose(vision.Rescale(1 / 255, -0.5)(img), img / 255 - 0.5, rtol=1e-6, atol=1e-6)
    assert transforms.TypeCast(np.float64)(img).dtype == np.float64
    assert np.array_equal(transforms.OneHot(4)(np.array([1, 3])), np.eye(4, dtype=np.int64)[[1, 3]])
    assert np.array_equal(transforms.Fill(7)(img), np.full_like(img, 7))


def test_geometry_ops_have_the_shapes_mindspore_gives():
    img = image(20, 30)
    assert vision.Resize((10, 12))(img).shape == (10, 12, 3)
    assert vision.Resize(10)(img).shape == (10, 15, 3)  # shorter side, aspect kept
    assert np.array_equal(vision.CenterCrop(10)(img), img[5:15, 10:20])
    assert vision.RandomResizedCrop((8, 6))(img).shape == (8, 6, 3)
    assert vision.Pad(2)(img).shape == (24, 34, 3)
    assert vision.RandomCrop(24, padding=2)(img).shape == (24, 24, 3)


def test_flips_with_probability_one_are_exact():
    img = image()
    assert np.array_equal(vision.RandomHorizontalFlip(1.0)(img), img[:, ::-1])
    assert np.array_equal(vision.RandomVerticalFlip(prob=1.0)(img), img[::-1])


@pytest.mark.parametrize("make", [
    lambda: vision.Resize(),                        # size is required
    lambda: vision.Resize(8, colour=True),          # no such argument
    lambda: vision.Resize(8, interpolation="sinc"),
    lambda: vision.Decode(to_pil=True),
    lambda: vision.RandomColorAdjust(hue=0.1),
    lambda: vision.Pad(1, padding_mode=vision.Border.EDGE),
])
def test_bad_arguments_fail_when_the_op_is_made(make):
    with pytest.raises((ValueError, TypeError)):
        make()


class Images:
    """BMP files of generated images, with labels."""

    def __init__(self, n=24):
        self.files = [np.frombuffer(bmp(image(24, 32, seed=i)), np.uint8) for i in range(n)]

    def __len__(self):
        return len(self.files)

    def __getitem__(self, i):
        return self.files[i], np.int64(i)


def augmented(workers):
    ds.config.set_seed(11)
    pipeline = ds.GeneratorDataset(Images(), ["image", "label"], num_parallel_workers=workers)
    pipeline = pipeline.map([vision.Decode(), vision.RandomResizedCrop(16), vision.RandomHorizontalFlip(),
                             lambda x: x.astype(np.float32),  # a Python step between native ones
                             vision.HWC2CHW()], input_columns="image", num_parallel_workers=workers)
    return [b for b, _ in pipeline.batch(8).create_tuple_iterator(num_epochs=1, output_numpy=True)]


def test_random_augmentations_are_identical_whatever_the_worker_count(restore_config):
    one, two = augmented(1), augmented(2)
    assert [b.shape for b in one] == [(8, 3, 16, 16)] * 3
    for a, b in zip(one, two):
        assert np.array_equal(a, b)


def test_normalize_and_hwc2chw_written_straight_into_the_batch_match_numpy():
    mean, std = [120.0, 110.0, 100.0], [50.0, 60.0, 70.0]
    decoded = ds.GeneratorDataset(Images(), ["image", "label"], shuffle=False).map(vision.Decode(), input_columns="image")
    images = [img for img, _ in decoded.create_tuple_iterator(num_epochs=1, output_numpy=True)]
    # The batch right after the fused Normalize + HWC2CHW runs it in place (conveyor/slot_op.hpp).
    batched = decoded.map([vision.Normalize(mean, std), vision.HWC2CHW()], input_columns="image").batch(5)
    got = np.concatenate([b for b, _ in batched.create_tuple_iterator(num_epochs=1, output_numpy=True)])
    expected = np.stack([((img.astype(np.float32) - np.float32(mean)) / np.float32(std)).transpose(2, 0, 1)
                         for img in images])
    assert got.dtype == np.float32 and got.shape == (24, 3, 24, 32)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)


