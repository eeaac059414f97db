#!/usr/bin/env python3
"""Writes the seed corpus of decode_fuzz into tests/fuzz/corpus/: tiny valid JPEG, PNG and BMP
files of several kinds (each under 2 KB) and two truncated ones. Deterministic; needs Pillow.

    python3 tests/fuzz/make_corpus.py
"""
import io
import pathlib

import numpy as np
from PIL import Image

out = pathlib.Path(__file__).resolve().parent / "corpus"
out.mkdir(exist_ok=True)
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
for f in sorted(out.iterdir()):
    print(f"{f.stat().st_size:6d}  {f.name}")
