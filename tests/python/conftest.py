"""Fixtures for the conveyor Python tests.

Every test runs under a watchdog: a test that hangs (a deadlocked pipeline) makes faulthandler
print every thread's stack and end the run, instead of hanging it. pytest-timeout is not a
dependency of this project, so the watchdog is the bound. A test that runs a program (a sample,
a compiler) raises its own bound with ``@pytest.mark.time_limit(seconds)``."""

from __future__ import annotations

import faulthandler
import sys

import pytest

from conveyor import _core

PER_TEST_LIMIT_S = 30


def pytest_configure(config):
    config.addinivalue_line("markers", "time_limit(seconds): the watchdog's bound for this test, in place of "
                                       f"{PER_TEST_LIMIT_S} s")


@pytest.fixture(autouse=True)
def watchdog(request):
    marker = request.node.get_closest_marker("time_limit")
    limit = marker.args[0] if marker is not None else PER_TEST_LIMIT_S
    faulthandler.dump_traceback_later(limit, exit=True, file=sys.__stderr__)
    yield
    faulthandler.cancel_dump_traceback_later()


@pytest.fixture(autouse=True)
def restore_config():
    """Puts conveyor's process-wide config (seed, prefetch_size, num_parallel_workers, ...) back
    as it was before the test. Goes through _core because ds.config's setters refuse the
    default num_parallel_workers (0: see test_config.py)."""
    saved = _core.get_config()
    yield
    _core.set_config(**saved)
