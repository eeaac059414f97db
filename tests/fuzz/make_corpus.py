#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into tests/fuzz/corpus/<target>/. Deterministic;
needs Pillow.

* decode_fuzz: tiny valid JPEG, PNG and BMP files of several kinds (each under 2 KB) and two
  truncated ones.
* jpeg_window_fuzz: those JPEGs (not CMYK) followed by the six parameter bytes the target reads
  from the end (grayscale, width, left, height, top, scale), several windows and scales each.
* row_fuzz: byte strings that row_values.build turns into typical rows (an image array and a
  label, swapped byte order, a strided view, a big array, bytes and str) and random ones.

    python3 tests/fuzz/make_corpus.py
"""
import io
import pathlib

import numpy as np
from PIL import Image

corpus = pathlib.Path(__file__).resolve().parent / "corpus"
out = corpus / "decode_fuzz"
window_out = corpus / "jpeg_window_fuzz"
row_out = corpus / "row_fuzz"
for d in (out, window_out, row_out):
    d.mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(0)


def image(w, h, mode="RGB"):
    y, x = np.mgrid[0:h, 0:w]
    rgb = np.stack([x * 255 // max(w - 1, 1), y * 255 // max(h - 1, 1), (x + y) * 127 // max(w + h - 2, 1)], -1)
    rgb = np.clip(rgb + rng.integers(-8, 9, rgb.shape), 0, 255).astype(np.uint8)
    return Image.fromarray(rgb).convert(mode)


def save(name, img, fmt, **kw):
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    data = buf.getvalue()
    assert len(data) < 2048, (name, len(data))
    (out / name).write_bytes(data)
    return data


save("jpeg_rgb_8x8_420.jpg", image(8, 8), "JPEG", quality=90)
save("jpeg_rgb_17x11_444.jpg", image(17, 11), "JPEG", quality=90, subsampling=0)
save("jpeg_rgb_16x16_422.jpg", image(16, 16), "JPEG", quality=75, subsampling=1)
save("jpeg_gray_9x7.jpg", image(9, 7, "L"), "JPEG", quality=90)
save("jpeg_progressive_24x16.jpg", image(24, 16), "JPEG", quality=80, progressive=True)
save("jpeg_cmyk_8x8.jpg", image(8, 8, "CMYK"), "JPEG", quality=90)
save("jpeg_optimized_32x8.jpg", image(32, 8), "JPEG", quality=50, optimize=True)
whole = save("jpeg_rgb_40x30_420.jpg", image(40, 30), "JPEG", quality=60)
(out / "jpeg_truncated_40x30.jpg").write_bytes(whole[: len(whole) * 2 // 3])
save("png_rgb_8x8.png", image(8, 8), "PNG")
save("png_rgba_5x5.png", image(5, 5, "RGBA"), "PNG")
save("png_gray_7x3.png", image(7, 3, "L"), "PNG")
save("png_palette_6x6.png", image(6, 6, "P"), "PNG")
save("png_gray16_4x4.png", Image.fromarray((np.arange(16).reshape(4, 4) * 4000).astype(np.uint16)), "PNG")
save("png_1bit_9x2.png", image(9, 2, "1"), "PNG")
png = save("png_rgb_20x20.png", image(20, 20), "PNG")
(out / "png_truncated_20x20.png").write_bytes(png[: len(png) // 2])
save("bmp_rgb_7x5.bmp", image(7, 5), "BMP")
save("bmp_palette_4x4.bmp", image(4, 4, "P"), "BMP")
save("bmp_gray_6x3.bmp", image(6, 3, "L"), "BMP")
save("bmp_1bit_8x2.bmp", image(8, 2, "1"), "BMP")
save("bmp_rgba_3x3.bmp", image(3, 3, "RGBA"), "BMP")
# Parameter suffixes: (grayscale, width, left, height, top, scale % 4 -> 1/8, 1/4, 1/2, 1/1).
windows = {"whole_1x1": (0, 255, 0, 255, 0, 3), "corner_half_gray": (1, 100, 0, 100, 0, 2),
           "middle_quarter": (0, 60, 128, 60, 128, 1), "last_pixel_eighth": (0, 0, 255, 0, 255, 0)}
for jpeg in sorted(out.glob("jpeg_*.jpg")):
    if "cmyk" in jpeg.name:
        continue
    for label, params in windows.items():
        (window_out / f"{jpeg.stem}_{label}").write_bytes(jpeg.read_bytes() + bytes(params))

# Row seeds, in row_values.build's reading order. Columns: kind 0 = array (dtype index into
# DTYPES, payload length, payload, big flag, ndim, extents, strides + 8, offset, [fallback
# reverse, step, transpose]), or for a big one (big flag 0) payload, flag, reverse, step; 3 = bytes; 4 = str; 5 = int; 8 = bytearray.
image_and_label = bytes([1, 2, 0, 14, 24]) + bytes(range(24)) + bytes([1, 2, 2, 3, 20, 12, 0, 0, 5, 1, 1, 0])
swapped_and_strided = bytes([1, 2, 0, 15, 16]) + bytes(range(16)) + bytes([1, 1, 4, 16, 0, 0, 0]) + \
    bytes([0, 8, 40]) + bytes(range(40)) + bytes([1, 2, 3, 2, 23, 11, 3, 1, 1, 1])
big_array = bytes([0, 0, 1, 63]) + bytes(range(63)) + bytes([0, 1, 0])
text_columns = bytes([1, 4, 3, 5]) + b"hello" + bytes([4, 4]) + b"\xff\xfe\xc3\xa9" + bytes([8, 3]) + b"abc" + bytes([6, 9, 9, 3])
for name, data in {"image_and_label": image_and_label, "swapped_and_strided": swapped_and_strided,
                   "big_array": big_array, "text_columns": text_columns}.items():
    (row_out / name).write_bytes(data)
for i in range(8):
    (row_out / f"random_{i}").write_bytes(rng.integers(0, 256, 96, dtype=np.uint8).tobytes())

for d in (out, window_out, row_out):
    for f in sorted(d.iterdir()):
        print(f"{f.stat().st_size:6d}  {d.name}/{f.name}")
