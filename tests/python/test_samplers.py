"""GeneratorDataset's samplers (mindspore.dataset's names and arguments) and the options they
exclude. Sources are Indexed(n): row i is i, so a read epoch is the sampler's index list."""

import math
from collections import Counter

import pytest

import conveyor
import conveyor.dataset as ds
from support import Indexed, epochs, values


def sampled(size, sampler, num_epochs=1):
    data = ds.GeneratorDataset(Indexed(size), ["x"], sampler=sampler)
    return epochs(data, num_epochs) if num_epochs > 1 else values(data)


# -- SequentialSampler ------------------------------------------------------------------------------

@pytest.mark.parametrize("start_index, num_samples, expected", [
    (None, None, list(range(10))),
    (3, None, list(range(3, 10))),
    (0, 4, [0, 1, 2, 3]),
    (2, 4, [2, 3, 4, 5]),
    (7, 10, [7, 8, 9]),  # num_samples past the end stops at the end
])
def test_sequential_sampler_reads_num_samples_from_start_index(start_index, num_samples, expected):
    assert sampled(10, ds.SequentialSampler(start_index=start_index, num_samples=num_samples)) == expected


def test_sequential_sampler_gives_every_epoch_the_same_order():
    assert sampled(6, ds.SequentialSampler(start_index=1), num_epochs=3) == [[1, 2, 3, 4, 5]] * 3


# -- RandomSampler ----------------------------------------------------------------------------------

def test_random_sampler_without_replacement_is_a_shuffled_permutation():
    got = sampled(50, ds.RandomSampler())
    assert sorted(got) == list(range(50))
    assert got != list(range(50))


def test_random_sampler_gives_each_epoch_a_new_permutation():
    first, second = sampled(50, ds.RandomSampler(), num_epochs=2)
    assert sorted(first) == sorted(second) == list(range(50))
    assert first != second


@pytest.mark.parametrize("num_samples", [1, 7, 30])
def test_random_sampler_num_samples_without_replacement_draws_distinct_indices(num_samples):
    got = sampled(30, ds.RandomSampler(num_samples=num_samples))
    assert len(got) == num_samples
    assert len(set(got)) == num_samples
    assert set(got) <= set(range(30))


def test_random_sampler_with_replacement_repeats_indices():
    got = sampled(50, ds.RandomSampler(replacement=True))
    assert len(got) == 50 and set(got) <= set(range(50))
    # 50 uniform draws from 50 are all distinct with probability 50!/50**50 (about 3e-21).
    assert len(set(got)) < 50


def test_random_sampler_with_replacement_may_draw_more_than_the_dataset_holds():
    got = sampled(10, ds.RandomSampler(replacement=True, num_samples=200))
    assert len(got) == 200
    # Missing one of 10 indices in 200 draws has probability about 7e-9.
    assert set(got) == set(range(10))


# -- DistributedSampler -----------------------------------------------------------------------------

def shards(size, num_shards, shuffle):
    return [sampled(size, ds.DistributedSampler(num_shards, shard_id, shuffle=shuffle))
            for shard_id in range(num_shards)]


@pytest.mark.parametrize("shuffle", [False, True], ids=["ordered", "shuffled"])
@pytest.mark.parametrize("size, num_shards", [(12, 3), (12, 4), (20, 2), (9, 9)])
def test_distributed_shards_of_a_divisible_dataset_are_disjoint_and_cover_it(size, num_shards, shuffle):
    parts = shards(size, num_shards, shuffle)
    assert [len(p) for p in parts] == [size // num_shards] * num_shards
    everything = [i for p in parts for i in p]
    assert sorted(everything) == list(range(size))


@pytest.mark.parametrize("shuffle", [False, True], ids=["ordered", "shuffled"])
@pytest.mark.parametrize("size, num_shards", [(10, 3), (7, 4), (5, 2)])
def test_distributed_shards_of_any_dataset_have_equal_length_and_cover_it(size, num_shards, shuffle):
    parts = shards(size, num_shards, shuffle)
    length = math.ceil(size / num_shards)
    assert [len(p) for p in parts] == [length] * num_shards
    counts = Counter(i for p in parts for i in p)
    assert set(counts) == set(range(size))
    # Padding repeats only as many indices as the last round lacks, each once.
    assert sum(counts.values()) - size == length * num_shards - size
    assert max(counts.values()) <= 2


@pytest.mark.parametrize("size, num_shards", [(10, 3), (12, 4)])
def test_unshuffled_distributed_shard_k_takes_every_num_shards_th_index_from_k(size, num_shards):
    parts = shards(size, num_shards, shuffle=False)
    length = math.ceil(size / num_shards)
    assert parts == [[(k + j * num_shards) % size for j in range(length)] for k in range(num_shards)]


def test_shuffled_distributed_shards_change_order_between_epochs_and_stay_disjoint():
    per_shard = [sampled(40, ds.DistributedSampler(4, k), num_epochs=2) for k in range(4)]
    for epoch in range(2):
        assert sorted(i for shard in per_shard for i in shard[epoch]) == list(range(40))
    assert [shard[0] for shard in per_shard] != [shard[1] for shard in per_shard]


def test_num_shards_and_shard_id_on_generator_dataset_equal_a_distributed_sampler():
    for shard_id in range(3):
        direct = values(ds.GeneratorDataset(Indexed(10), ["x"], num_shards=3, shard_id=shard_id, shuffle=False))
        assert direct == sampled(10, ds.DistributedSampler(3, shard_id, shuffle=False))


@pytest.mark.parametrize("kwargs", [{"num_samples": 4}, {"offset": 2}], ids=["num_samples", "offset"])
def test_distributed_sampler_options_conveyor_lacks_raise_value_error(kwargs):
    with pytest.raises(ValueError):
        ds.DistributedSampler(2, 0, **kwargs)


# -- SubsetRandomSampler ----------------------------------------------------------------------------

def test_subset_random_sampler_reads_a_permutation_of_the_subset():
    subset = list(range(1, 60, 2))
    got = sampled(60, ds.SubsetRandomSampler(subset))
    assert sorted(got) == subset
    assert got != subset


def test_subset_random_sampler_gives_each_epoch_a_new_permutation():
    subset = list(range(0, 40))
    first, second = sampled(50, ds.SubsetRandomSampler(subset), num_epochs=2)
    assert sorted(first) == sorted(second) == subset
    assert first != second


@pytest.mark.parametrize("num_samples", [1, 3, 10])
def test_subset_random_sampler_num_samples_keeps_that_many_distinct_subset_indices(num_samples):
    subset = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29]
    for epoch in sampled(30, ds.SubsetRandomSampler(subset, num_samples=num_samples), num_epochs=2):
        assert len(epoch) == num_samples
        assert len(set(epoch)) == num_samples
        assert set(epoch) <= set(subset)


def test_subset_random_sampler_num_samples_draws_anew_each_epoch():
    subset = list(range(100))
    first, second = sampled(100, ds.SubsetRandomSampler(subset, num_samples=20), num_epochs=2)
    assert first != second


# -- WeightedRandomSampler --------------------------------------------------------------------------

WEIGHTS = [0.0, 1.0, 0.0, 3.0, 2.0, 0.0]


def test_weighted_random_sampler_never_draws_a_zero_weight():
    got = sampled(6, ds.WeightedRandomSampler(WEIGHTS, num_samples=600))
    assert len(got) == 600
    assert set(got) == {1, 3, 4}


def test_weighted_random_sampler_draws_in_proportion_to_the_weights():
    counts = Counter(sampled(6, ds.WeightedRandomSampler(WEIGHTS, num_samples=600)))
    # Expected 100, 300, 200; each bound is over 5 standard deviations away.
    assert 40 < counts[1] < 160
    assert 230 < counts[3] < 370
    assert 140 < counts[4] < 260


def test_weighted_random_sampler_without_replacement_draws_each_nonzero_index_once():
    got = sampled(6, ds.WeightedRandomSampler(WEIGHTS, num_samples=3, replacement=False))
    assert sorted(got) == [1, 3, 4]


def test_weighted_random_sampler_num_samples_defaults_to_the_number_of_weights():
    assert len(sampled(6, ds.WeightedRandomSampler(WEIGHTS))) == len(WEIGHTS)


# -- Python indices ---------------------------------------------------------------------------------

@pytest.mark.parametrize("indices", [[4, 2, 0, 2], [9], list(range(10))[::-1]])
def test_a_list_of_indices_is_a_sampler_read_in_order(indices):
    assert sampled(10, indices) == indices


def test_a_python_iterable_sampler_is_read_afresh_each_epoch():
    class EpochAware:
        def __init__(self):
            self.epoch = 0

        def set_epoch(self, epoch):
            self.epoch = epoch

        def __iter__(self):
            return iter([self.epoch, self.epoch + 1])

    assert sampled(10, EpochAware(), num_epochs=3) == [[0, 1], [1, 2], [2, 3]]


def test_a_sampler_object_that_is_not_iterable_raises_type_error():
    with pytest.raises(TypeError):
        ds.GeneratorDataset(Indexed(5), ["x"], sampler=42)


# -- seeds ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [
    lambda: ds.RandomSampler(),
    lambda: ds.DistributedSampler(2, 1),
    lambda: ds.SubsetRandomSampler(list(range(40))),
    lambda: ds.WeightedRandomSampler([1.0] * 40, num_samples=40),
], ids=["random", "distributed", "subset", "weighted"])
def test_samplers_follow_the_config_seed(make):
    def run(seed):
        ds.config.set_seed(seed)
        return sampled(40, make(), num_epochs=2)

    assert run(11) == run(11)
    assert run(11) != run(12)


# -- options that exclude each other ----------------------------------------------------------------

@pytest.mark.parametrize("kwargs", [
    {"sampler": ds.SequentialSampler(), "shuffle": True},
    {"sampler": [0, 1, 2], "shuffle": True},
    {"sampler": ds.RandomSampler(), "num_shards": 2, "shard_id": 0},
    {"shard_id": 0},
    {"num_shards": 2},
], ids=["sampler+shuffle", "list+shuffle", "sampler+shards", "shard_id-alone", "num_shards-alone"])
def test_options_that_exclude_each_other_raise_value_error(kwargs):
    with pytest.raises(ValueError):
        values(ds.GeneratorDataset(Indexed(10), ["x"], **kwargs))


@pytest.mark.parametrize("sampler", [
    lambda: ds.RandomSampler(num_samples=11),
    lambda: ds.WeightedRandomSampler(WEIGHTS, num_samples=4, replacement=False),
], ids=["random-too-many", "weighted-too-many"])
def test_drawing_more_distinct_samples_than_exist_is_an_error(sampler):
    with pytest.raises((ValueError, conveyor.PipelineError)):
        values(ds.GeneratorDataset(Indexed(10), ["x"], sampler=sampler()))


def test_an_out_of_range_shard_id_is_an_error():
    with pytest.raises((ValueError, conveyor.PipelineError)):
        values(ds.GeneratorDataset(Indexed(10), ["x"], num_shards=2, shard_id=2))
