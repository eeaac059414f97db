"""conveyor.dataset.config: process-wide defaults with mindspore.dataset.config's get/set API.
The autouse restore_config fixture puts every value back after each test."""

import pytest

import conveyor.dataset as ds
from support import run_python

SETTINGS = [
    pytest.param(ds.config.set_seed, ds.config.get_seed, [0, 1234, 2**40], id="seed"),
    pytest.param(ds.config.set_prefetch_size, ds.config.get_prefetch_size, [1, 3, 64], id="prefetch_size"),
    pytest.param(ds.config.set_num_parallel_workers, ds.config.get_num_parallel_workers, [1, 2, 7],
                 id="num_parallel_workers"),
    pytest.param(ds.config.set_rows_per_task, ds.config.get_rows_per_task, [1, 16, 0], id="rows_per_task"),
]


@pytest.mark.parametrize("setter, getter, values", SETTINGS)
def test_a_set_value_is_what_get_returns(setter, getter, values):
    for value in values:
        setter(value)
        assert getter() == value


@pytest.mark.parametrize("setter, getter, values", SETTINGS)
def test_setting_one_value_leaves_the_others_alone(setter, getter, values):
    others = [(g, g()) for _, g, _ in (p.values for p in SETTINGS) if g is not getter]
    setter(values[-1])
    for other_getter, before in others:
        assert other_getter() == before


@pytest.mark.parametrize("setter, bad", [
    (ds.config.set_seed, -1), (ds.config.set_seed, 1.5), (ds.config.set_seed, "7"),
    (ds.config.set_prefetch_size, 0), (ds.config.set_prefetch_size, -3),
    (ds.config.set_num_parallel_workers, 0), (ds.config.set_num_parallel_workers, -1),
    (ds.config.set_rows_per_task, -1), (ds.config.set_rows_per_task, 2.0), (ds.config.set_rows_per_task, 65537),
])
def test_an_invalid_value_raises_value_error_and_changes_nothing(setter, bad):
    getter = {ds.config.set_seed: ds.config.get_seed, ds.config.set_prefetch_size: ds.config.get_prefetch_size,
              ds.config.set_num_parallel_workers: ds.config.get_num_parallel_workers,
              ds.config.set_rows_per_task: ds.config.get_rows_per_task}[setter]
    before = getter()
    with pytest.raises(ValueError):
        setter(bad)
    assert getter() == before


def defaults_of_a_fresh_process() -> dict:
    result = run_python("import conveyor.dataset as ds; print(ds.config.get_seed(), ds.config.get_prefetch_size(), "
                        "ds.config.get_num_parallel_workers())", timeout=30)
    assert result.returncode == 0, result.stderr
    seed, prefetch, workers = (int(v) for v in result.stdout.split())
    return {"seed": seed, "prefetch_size": prefetch, "num_parallel_workers": workers}


def test_the_default_seed_is_mindspores_5489():
    assert defaults_of_a_fresh_process()["seed"] == 5489


def test_the_default_prefetch_size_is_positive():
    assert defaults_of_a_fresh_process()["prefetch_size"] >= 1


def test_the_default_num_parallel_workers_is_a_value_set_accepts():
    default = defaults_of_a_fresh_process()["num_parallel_workers"]
    assert default >= 1
    ds.config.set_num_parallel_workers(default)
    assert ds.config.get_num_parallel_workers() == default
