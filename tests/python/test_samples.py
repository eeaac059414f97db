"""The Python samples (samples/python) run to completion at small sizes and print what they
promise, so none of them rots. Each runs in a fresh interpreter, killed after LIMIT_S."""

from __future__ import annotations

import re
import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "python"
LIMIT_S = 90


def run_sample(name: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, str(SAMPLES / name), *args], cwd=cwd, capture_output=True, text=True,
                            timeout=LIMIT_S)
    assert result.returncode == 0, f"{name} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.mark.time_limit(LIMIT_S + 10)
def test_torch_training_loss_falls_through_both_apis(tmp_path):
    out = run_sample("torch_training.py", "--samples", "1024", "--epochs", "3", "--workers", "2",
                     cwd=tmp_path).stdout
    for api in ("GeneratorDataset", "DataLoader"):
        losses = [float(x) for x in re.findall(rf"^{api}: epoch \d+: loss ([\d.]+) over 16 batches$", out, re.M)]
        assert len(losses) == 3, out
        assert losses[-1] < losses[0], out
        assert f"{api}: loss {losses[0]:.4f} -> {losses[-1]:.4f}: fell" in out


@pytest.mark.time_limit(LIMIT_S + 10)
def test_image_pipeline_writes_a_grid_of_the_first_batch_and_the_profile(tmp_path):
    from PIL import Image

    grid = tmp_path / "grid.png"
    out = run_sample("image_pipeline.py", "--images", "30", "--batch", "8", "--size", "32", "--grid", str(grid),
                     cwd=tmp_path).stdout
    assert "30 images in 3 classes: circles, squares, stripes" in out
    assert "3 batches of (8, 32, 32, 3) uint8 images" in out
    with Image.open(grid) as image:
        assert image.size == (4 * 34, 2 * 34)  # 4 columns, 2 rows of 32-pixel images and 2-pixel gaps
        pixels = np.asarray(image)
    assert pixels[:32, :32].std() > 0  # an image, not the background
    stages = re.findall(r"^(\S+)\s+\d+\s+\d+\s+\d+%\s+\d+%\s+\d+%$", out, re.M)
    assert "source" in stages and "batch" in stages, out
    assert re.search(r"^bottleneck: \S+$", out, re.M), out


@pytest.mark.time_limit(LIMIT_S + 10)
def test_mindspore_migration_prints_what_the_mindspore_example_prints(tmp_path):
    out = run_sample("mindspore_migration.py", cwd=tmp_path).stdout
    assert out == "(2, 2) (2, 1)\n(2, 2) (2, 1)\n"  # two full batches: drop_remainder leaves the fifth row out


def test_mindspore_migration_doubles_the_data_and_keeps_the_labels_in_order():
    example = runpy.run_path(str(SAMPLES / "mindspore_migration.py"), run_name="faq_example")
    np.random.seed(58)  # MindSpore's result: the seeded samples in order, data doubled
    data, label = np.random.sample((5, 2)), np.random.sample((5, 1))
    got = [(d.copy(), l.copy()) for d, l in example["dataset"].create_tuple_iterator(output_numpy=True, num_epochs=1)]
    assert len(got) == 2
    for start, (batch_data, batch_label) in zip((0, 2), got):
        assert batch_data.dtype == np.float64 and batch_label.dtype == np.float64
        np.testing.assert_array_equal(batch_data, data[start:start + 2] * 2)
        np.testing.assert_array_equal(batch_label, label[start:start + 2])