"""conveyor-bench at tiny sizes: every workload runs through both loaders and reports figures
that are positive and agree with each other; the JSON file holds every figure, the plot is a
PNG, and a --dataset folder that is empty, missing or unreadable is a clear error. (Speed is
not asserted here: it lives in bench/RESULTS.md.)"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time

import numpy as np
import pytest

import conveyor.dataset as ds
from conveyor import _core
from conveyor.bench import images, main, runner
from conveyor.bench.processes import TreeMeter, cpu_seconds, descendants, settle
from conveyor.bench.runner import WARMUP_BATCHES
from conveyor.bench.summary import stage_profile
from conveyor.bench.workload import Bound, Config, Epoch, Workload

# Per workload: the arguments that make it tiny, its samples and batches per epoch.
TINY = {
    "py-small": (["--scale", "0.00512"], 512, 2),   # 512 samples, batch 256
    "jpeg-aug": (["--images", "64"], 64, 1),        # 64 generated 500x375 JPEGs, batch 64
    "py-heavy": (["--scale", "0.032"], 128, 2),     # 128 samples, batch 64
    "native": (["--scale", "0.00512"], 512, 2),     # 512 rows, batch 256
}
CONFIG_FIELDS = {"label", "side", "workers", "setting", "samples_per_s", "samples_per_s_min", "samples_per_s_max",
                 "mb_per_s", "first_batch_s", "peak_rss_bytes", "cpu_s_per_1000", "epochs", "profile",
                 "ratio_to_torch_best"}
EPOCH_FIELDS = {"samples", "seconds", "samples_per_s", "first_batch_s", "peak_rss_bytes", "cpu_s"}


def run_bench(tmp_path, *args):
    report = tmp_path / "bench.json"
    assert main(["--rounds", "1", "--json", str(report), *args]) == 0
    return json.loads(report.read_text())


@pytest.mark.parametrize("name", sorted(TINY))
def test_each_workload_runs_with_consistent_figures(tmp_path, capsys, name):
    extra, samples, batches = TINY[name]
    workload, = run_bench(tmp_path, "--workloads", name, *extra)["workloads"]
    assert workload["name"] == name and workload["samples_per_epoch"] == samples
    sides = {c["side"] for c in workload["configs"]}
    assert sides == ({"conveyor"} if name == "native" else {"conveyor", "torch"})
    rates = {}
    for c in workload["configs"]:
        assert set(c) == CONFIG_FIELDS
        epoch, = c["epochs"]  # one measured round
        assert set(epoch) == EPOCH_FIELDS
        assert epoch["samples"] == samples
        assert 0 < epoch["first_batch_s"] <= epoch["seconds"]
        assert math.isclose(epoch["samples_per_s"], samples / epoch["seconds"])
        assert c["samples_per_s_min"] <= c["samples_per_s"] <= c["samples_per_s_max"]
        assert math.isclose(c["mb_per_s"], c["samples_per_s"] * workload["bytes_per_sample"] / 1e6)
        assert c["peak_rss_bytes"] > 10 * 2**20  # this process alone holds more
        assert c["cpu_s_per_1000"] > 0
        rates[c["label"]] = c["samples_per_s"]
        if c["side"] == "conveyor":
            stages = {s["name"]: s for s in c["profile"]["stages"]}
            assert stages["source"]["rows"] >= samples and stages["batch"]["rows"] >= batches
            assert c["profile"]["bottleneck"] in stages
            assert all(0 <= s["busy_pct"] <= 100.5 for s in stages.values())
        else:
            assert c["profile"] is None
    best = workload["best"]
    assert rates[best["conveyor"]] == max(r for label, r in rates.items() if label.startswith("conveyor"))
    if name == "native":
        assert best["torch"] is None and best["ratio"] is None
    else:
        assert math.isclose(best["ratio"], rates[best["conveyor"]] / rates[best["torch"]])
    assert len(workload["bounds"]) == {"jpeg-aug": 0, "py-heavy": 3}.get(name, 2)
    assert all(b["samples_per_s"] > 0 for b in workload["bounds"])
    table = capsys.readouterr().out
    assert f"## {name}" in table and "Bottleneck:" in table


def test_json_has_every_field_and_the_plot_is_a_png(tmp_path):
    plot = tmp_path / "bench.png"
    report = run_bench(tmp_path, "--workloads", "native", *TINY["native"][0], "--plot", str(plot))
    assert {"command", "machine", "rounds", "total_s", "load_average_at_end", "workloads"} <= set(report)
    assert {"python", "torch", "numpy", "conveyor", "nproc", "load_average_at_start"} <= set(report["machine"])
    assert report["command"][0] == "conveyor-bench" and "--plot" in report["command"]
    workload, = report["workloads"]
    assert {"name", "description", "notes", "samples_per_epoch", "bytes_per_sample", "rounds", "configs", "bounds",
            "best"} <= set(workload)
    assert [b["name"] for b in workload["bounds"]] == ["hand-written C++ loop, same rows (1 thread)",
                                                       "memcpy of the same bytes (1 thread)"]
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_native_rows_are_what_the_floors_copy():
    core = _core.bench.native_dataset(300, shuffle=False, num_parallel_workers=2)
    batches = list(ds.Dataset(core).batch(256).create_tuple_iterator(output_numpy=True, num_epochs=1))
    image = np.concatenate([b[0] for b in batches])
    label = np.concatenate([b[1] for b in batches])
    assert image.shape == (300,) + tuple(_core.bench.IMAGE_SHAPE) and image.dtype == np.float32
    np.testing.assert_array_equal(label, np.arange(300))
    np.testing.assert_array_equal(image, np.broadcast_to(np.arange(300, dtype=np.float32)[:, None, None, None],
                                                         image.shape))
    assert _core.bench.hand_loop(512, 256) > 0 and _core.bench.memcpy_bound(512, 256) > 0


def write_images(folder, count, size=(48, 40)):
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        Image.new("RGB", size, (i * 3 % 256, 80, 160)).save(folder / f"{i}.jpg", quality=80)


def test_dataset_folder_takes_labels_from_subfolders(tmp_path):
    write_images(tmp_path / "cat", 2)
    write_images(tmp_path / "dog" / "nested" / "deeper", 3)
    (tmp_path / "dog" / "notes.txt").write_text("not an image")
    found = images.scan(str(tmp_path))
    assert found.classes == ["cat", "dog"]
    assert sorted(zip(found.labels, (os.path.basename(p) for p in found.items))) == \
        [(0, "0.jpg"), (0, "1.jpg"), (1, "0.jpg"), (1, "1.jpg"), (1, "2.jpg")]
    assert found.read(0)[:2] == b"\xff\xd8"  # read from the file


def test_jpeg_workload_runs_on_a_dataset_folder(tmp_path):
    write_images(tmp_path / "images" / "a", 32)
    write_images(tmp_path / "images" / "b", 32)
    workload, = run_bench(tmp_path, "--dataset", str(tmp_path / "images"))["workloads"]
    assert workload["name"] == "jpeg-aug" and workload["samples_per_epoch"] == 64
    assert "64 images in 2 classes" in workload["description"]


@pytest.mark.parametrize("case", ["empty", "missing", "a file", "dangling image"])
def test_unusable_dataset_folder_is_a_clear_error(tmp_path, capsys, case):
    folder = tmp_path / "data"
    expected = {"empty": "no images", "missing": "not a folder", "a file": "not a folder",
                "dangling image": "cannot read"}[case]
    if case == "empty":
        (folder / "class" / "sub").mkdir(parents=True)
    elif case == "a file":
        folder.write_text("x")
    elif case == "dangling image":
        write_images(folder / "a", 2)
        (folder / "a" / "gone.jpg").symlink_to(tmp_path / "nowhere.jpg")
    assert main(["--dataset", str(folder), "--rounds", "1"]) == 2
    err = capsys.readouterr().err
    assert f"jpeg-aug: --dataset {folder}" in err and expected in err


def test_bad_arguments_are_refused(capsys):
    for args, message in [(["--workloads", "py-small,nope"], "unknown nope"),
                          (["--workloads", "native", "--dataset", "/tmp"], "--dataset is the input of jpeg-aug"),
                          (["--rounds", "0"], "--rounds must be at least 1"),
                          (["--dataset", "/tmp", "--images", "64"], "--images is the count of generated JPEGs"),
                          (["--workloads", "native", "--images", "64"], "--images is the count of generated JPEGs")]:
        with pytest.raises(SystemExit) as exit_:
            main(args)
        assert exit_.value.code == 2 and message in capsys.readouterr().err


def test_tree_meter_counts_a_child_process_memory_and_cpu():
    me = os.getpid()
    burn = ("import time; b = bytearray(200 * 2**20); end = time.process_time() + 0.3\n"
            "while time.process_time() < end: pass\ntime.sleep(0.1)")
    with TreeMeter(lambda: [me] + descendants(me)) as meter:
        alone = meter.peak_rss
        subprocess.run([sys.executable, "-c", burn], check=True)
    assert meter.cpu_s >= 0.25  # the child's CPU, counted once it was waited for
    assert meter.peak_rss >= alone + 150 * 2**20  # sampled while the child held its 200 MiB


def test_each_measurement_follows_a_warm_up_and_a_settle(monkeypatch):
    events = []  # in order: ("read", configuration, batches its iterator yielded), "settle", ("bound",)
    monkeypatch.setattr(runner, "settle", lambda: events.append("settle"))

    def config(name):
        def batches():
            events.append(["read", name, 0])
            for _ in range(WARMUP_BATCHES + 4):
                events[-1][2] += 1
                yield [np.zeros((2, 3))]

        return Config("conveyor", 1, name, lambda: Epoch(batches()))

    def bound_run():
        events.append(("bound",))
        return 1.0

    workload = Workload("fake", "", samples_per_epoch=2 * (WARMUP_BATCHES + 4), bytes_per_sample=24,
                        configs=[config("a"), config("b")], bounds=[Bound("loop", 10, run=bound_run)])
    result = runner.run_workload(workload, rounds=2)

    def measured(name):
        return [["read", name, WARMUP_BATCHES], "settle", ["read", name, WARMUP_BATCHES + 4]]

    bound = [("bound",), "settle", ("bound",)]
    assert events == measured("a") + measured("b") + bound + measured("b") + measured("a") + bound
    assert [e.samples for e in result.epochs["conveyor a"]] == [2 * (WARMUP_BATCHES + 4)] * 2
    assert result.bounds["loop"] == [10.0, 10.0]


def test_a_configuration_that_starts_afresh_each_epoch_is_not_warmed_up(monkeypatch):
    monkeypatch.setattr(runner, "settle", lambda: None)
    reads = []

    def epoch():
        reads.append(0)
        return Epoch(iter([[np.zeros((2, 3))]] * 5))

    config = Config("torch", 2, "fresh", epoch, warm_up=False)
    runner.run_workload(Workload("fake", "", samples_per_epoch=10, bytes_per_sample=24, configs=[config]), rounds=2)
    assert len(reads) == 2  # one iterator per measured epoch, none for a warm-up


def test_settle_waits_for_a_busy_child_to_go_quiet():
    burn = ("import time; end = time.process_time() + 0.6\n"
            "while time.process_time() < end: pass\ntime.sleep(60)")
    child = subprocess.Popen([sys.executable, "-c", burn])
    try:
        deadline = time.monotonic() + 10
        while cpu_seconds(child.pid) < 0.05 and time.monotonic() < deadline:  # it has started burning
            time.sleep(0.01)
        # Quiet is a whole 0.2 s in which it got no clock tick: a burn starved that long is unlikely.
        waited = settle(interval_s=0.2, quiet_cpu_s=0.005, timeout_s=30)
        assert cpu_seconds(child.pid) >= 0.55  # returned only once the burn was over
        assert waited < 30
        assert child.poll() is None  # quiet, not gone
    finally:
        child.kill()
        child.wait()


def test_stage_profile_shares_and_bottleneck():
    stats = [{"name": "source", "workers": 2, "rows": 100, "busy_s": 1.0, "wait_input_s": 0.0, "wait_output_s": 0.5},
             {"name": "batch", "workers": 1, "rows": 4, "busy_s": 0.9, "wait_input_s": 0.1, "wait_output_s": 0.0}]
    profile = stage_profile(stats, seconds=1.0)
    source, batch = profile["stages"]
    assert (source["busy_pct"], source["blocked_output_pct"]) == (50.0, 25.0)
    assert (batch["busy_pct"], batch["blocked_input_pct"]) == (90.0, 10.0)
    assert profile["bottleneck"] == "batch"  # 90 % of its one worker against 50 % of two


def test_a_corrupt_image_in_the_dataset_folder_is_an_error_naming_its_file(tmp_path, capsys):
    write_images(tmp_path / "a", 64)
    broken = tmp_path / "a" / "30.jpg"
    broken.write_bytes(broken.read_bytes()[:40])  # a truncated JPEG
    assert main(["--dataset", str(tmp_path), "--rounds", "1"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("conveyor-bench: jpeg-aug, ") and str(broken) in err
