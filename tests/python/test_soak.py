"""bench/soak.py stays runnable: a tiny soak (a few epochs and iterators) through the script, its
exit status when a bound is broken, and the slope it reports. The real soak (50 epochs, 1,000
iterators) is a benchmark, recorded in bench/RESULTS.md."""

import importlib.util
import json
import os
import subprocess
import sys

import pytest

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "..", "bench", "soak.py")
TINY = ["--epochs", "3", "--iterators", "12", "--samples", "512", "--images", "64"]


def soak(*arguments, timeout=120):
    """Runs the script in a fresh interpreter, killed (failing the test) after ``timeout`` s."""
    return subprocess.run([sys.executable, SCRIPT, *arguments], capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("soak", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_tiny_soak_runs_and_reports_every_figure(tmp_path):
    # Three epochs measure the warm-up more than a leak: the slope bounds are the real soak's.
    out = tmp_path / "soak.json"
    result = soak(*TINY, "--max-rss-slope", "1e9", "--max-heap-slope", "1e9", "--json", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "soak: pass" in result.stdout
    report = json.loads(out.read_text())
    assert [e["workload"] for e in report["epochs"]] == ["jpeg-aug", "py-small"]
    assert all(len(e["rss_kib"]) == len(e["heap_in_use_kib"]) == 3 for e in report["epochs"])
    churn = report["churn"]
    assert churn["iterators"] == 12
    assert set(churn["before"]) == set(churn["after"]) == {"fds", "shm", "threads"}
    assert report["failures"] == []


def test_a_broken_bound_fails_the_soak():
    result = soak(*TINY, "--max-rss-slope=-1e9")
    assert result.returncode == 1
    assert "FAIL" in result.stderr and "RSS grows" in result.stderr


def test_the_slope_is_the_least_squares_one(script):
    assert script.slope([5, 7, 9, 11]) == pytest.approx(2.0)
    assert script.slope([3, 1, 3, 1]) == pytest.approx(-0.4)
    assert script.slope([4]) == 0.0
