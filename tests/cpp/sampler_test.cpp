#include "conveyor/sampler.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <limits>
#include <memory>
#include <numeric>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "conveyor/detail/random.hpp"

namespace conveyor {
namespace {

using Indices = std::vector<std::size_t>;

Indices identity(std::size_t n) {
  Indices order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  return order;
}

Indices sorted(Indices indices) {
  std::sort(indices.begin(), indices.end());
  return indices;
}

// Expects `call` to throw `E` whose message starts with "conveyor: " and contains every one of `parts`.
template <class E, class F>
void expect_throw_naming(F call, std::initializer_list<std::string> parts) {
  try {
    call();
    ADD_FAILURE() << "expected an exception";
  } catch (const E& e) {
    const std::string what = e.what();
    EXPECT_TRUE(what.starts_with("conveyor: ")) << what;
    for (const std::string& part : parts) EXPECT_NE(what.find(part), std::string::npos) << what << " lacks " << part;
  }
}

// Passes when `count` draws of a value with probability `p` out of `draws` are within 5 sigma of
// the expectation. The generator is deterministic, so a passing check passes on every machine.
void expect_frequency(std::size_t count, double p, std::size_t draws) {
  const double n = static_cast<double>(draws);
  const double sigma = std::sqrt(n * p * (1 - p));
  EXPECT_NEAR(static_cast<double>(count), n * p, 5 * sigma) << "p = " << p;
}

// ---------------------------------------------------------------------------------------------
// detail::Rng and detail::mix

class RngBelowTest : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(RngBelowTest, StaysBelowTheBound) {
  const std::uint64_t bound = GetParam();
  detail::Rng rng(bound);
  for (int i = 0; i < 10000; ++i) ASSERT_LT(rng.below(bound), bound);
}

INSTANTIATE_TEST_SUITE_P(Bounds, RngBelowTest,
                         ::testing::Values(std::uint64_t{1}, std::uint64_t{2}, std::uint64_t{3}, std::uint64_t{7},
                                           std::uint64_t{1000}, (std::uint64_t{1} << 63) + 1,
                                           std::numeric_limits<std::uint64_t>::max()));

TEST(RngTest, BelowDrawsEveryValueEquallyOften) {
  detail::Rng rng(42);
  constexpr std::size_t kBound = 7;
  constexpr std::size_t kDraws = 70000;
  std::vector<std::size_t> counts(kBound);
  for (std::size_t i = 0; i < kDraws; ++i) ++counts[rng.below(kBound)];
  for (std::size_t count : counts) expect_frequency(count, 1.0 / kBound, kDraws);
}

TEST(RngTest, UniformStaysInTheHalfOpenUnitInterval) {
  detail::Rng rng(3);
  double sum = 0;
  constexpr int kDraws = 100000;
  for (int i = 0; i < kDraws; ++i) {
    const double u = rng.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
  }
  // The mean of n uniforms has sigma 1/sqrt(12 n).
  EXPECT_NEAR(sum / kDraws, 0.5, 5 / std::sqrt(12.0 * kDraws));
}

TEST(RngTest, SameSeedGivesTheSameSequence) {
  detail::Rng a(123);
  detail::Rng b(123);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(a.next(), b.next());
}

TEST(RngTest, NearbySeedsGiveDifferentSequences) {
  detail::Rng a(0);
  detail::Rng b(1);
  int equal = 0;
  for (int i = 0; i < 100; ++i) equal += a.next() == b.next() ? 1 : 0;
  EXPECT_EQ(equal, 0);
}

class RngShuffleTest : public ::testing::TestWithParam<std::size_t> {};

TEST_P(RngShuffleTest, ShuffleIsAPermutation) {
  Indices order = identity(GetParam());
  detail::Rng rng(GetParam());
  rng.shuffle(order.begin(), order.end());
  EXPECT_EQ(sorted(order), identity(GetParam()));
}

INSTANTIATE_TEST_SUITE_P(Sizes, RngShuffleTest, ::testing::Values(0, 1, 2, 7, 100, 101));

TEST(RngTest, ShufflePutsEveryElementEverywhere) {
  detail::Rng rng(5);
  constexpr std::size_t kSize = 4;
  constexpr std::size_t kShuffles = 40000;
  std::vector<std::vector<std::size_t>> counts(kSize, std::vector<std::size_t>(kSize));
  for (std::size_t s = 0; s < kShuffles; ++s) {
    Indices order = identity(kSize);
    rng.shuffle(order.begin(), order.end());
    for (std::size_t position = 0; position < kSize; ++position) ++counts[order[position]][position];
  }
  for (const auto& row : counts)
    for (std::size_t count : row) expect_frequency(count, 1.0 / kSize, kShuffles);
}

TEST(MixTest, NearbyKeysGiveUnrelatedSeeds) {
  static_assert(detail::mix({1, 2}) != detail::mix({2, 1}), "mix must depend on the order of its keys");
  const std::uint64_t base = detail::mix({7, 0, 1});
  for (std::uint64_t other : {detail::mix({7, 0, 2}), detail::mix({7, 1, 1}), detail::mix({8, 0, 1}),
                              detail::mix({7, 0}), detail::mix({7, 0, 1, 0})}) {
    // Unrelated 64-bit words differ in about 32 bits; 16..48 is far outside chance for related ones.
    const int differing = std::popcount(base ^ other);
    EXPECT_GE(differing, 16);
    EXPECT_LE(differing, 48);
  }
}

// ---------------------------------------------------------------------------------------------
// Properties every seeded sampler shares

struct SamplerKind {
  const char* name;
  std::function<std::unique_ptr<Sampler>(std::uint64_t seed)> make;
};

constexpr std::size_t kDatasetSize = 100;

std::vector<double> ramp_weights(std::size_t n) {
  std::vector<double> weights(n);
  std::iota(weights.begin(), weights.end(), 1.0);
  return weights;
}

const SamplerKind kSeededKinds[] = {
    {"Random", [](std::uint64_t seed) { return std::make_unique<RandomSampler>(seed); }},
    {"RandomWithReplacement", [](std::uint64_t seed) { return std::make_unique<RandomSampler>(seed, true); }},
    {"RandomFewerSamples",
     [](std::uint64_t seed) { return std::make_unique<RandomSampler>(seed, false, std::size_t{30}); }},
    {"Distributed", [](std::uint64_t seed) { return std::make_unique<DistributedSampler>(3, 1, true, seed); }},
    {"DistributedDropLast",
     [](std::uint64_t seed) { return std::make_unique<DistributedSampler>(3, 2, true, seed, true); }},
    {"SubsetRandom",
     [](std::uint64_t seed) {
       Indices evens(kDatasetSize / 2);
       for (std::size_t i = 0; i < evens.size(); ++i) evens[i] = 2 * i;
       return std::make_unique<SubsetRandomSampler>(evens, seed);
     }},
    {"WeightedWithReplacement",
     [](std::uint64_t seed) {
       return std::make_unique<WeightedRandomSampler>(ramp_weights(kDatasetSize), kDatasetSize, true, seed);
     }},
    {"WeightedWithoutReplacement",
     [](std::uint64_t seed) {
       return std::make_unique<WeightedRandomSampler>(ramp_weights(kDatasetSize), 50, false, seed);
     }},
};

class SeededSamplerTest : public ::testing::TestWithParam<SamplerKind> {
 protected:
  std::unique_ptr<Sampler> make(std::uint64_t seed) const { return GetParam().make(seed); }
};

TEST_P(SeededSamplerTest, YieldsNumSamplesIndicesBelowTheDatasetSize) {
  const auto sampler = make(1);
  for (std::uint64_t epoch = 0; epoch < 3; ++epoch) {
    const Indices indices = sampler->indices(kDatasetSize, epoch);
    EXPECT_EQ(indices.size(), sampler->num_samples(kDatasetSize));
    for (std::size_t index : indices) EXPECT_LT(index, kDatasetSize);
  }
}

TEST_P(SeededSamplerTest, IsDeterministicPerSeedAndEpoch) {
  const auto first = make(11);
  const auto second = make(11);
  for (std::uint64_t epoch : {0, 1, 2, 1000})
    EXPECT_EQ(first->indices(kDatasetSize, epoch), second->indices(kDatasetSize, epoch));
}

TEST_P(SeededSamplerTest, DifferentEpochsGiveDifferentOrders) {
  const auto sampler = make(11);
  std::set<Indices> orders;
  for (std::uint64_t epoch = 0; epoch < 5; ++epoch) orders.insert(sampler->indices(kDatasetSize, epoch));
  EXPECT_EQ(orders.size(), 5u);
}

TEST_P(SeededSamplerTest, DifferentSeedsGiveDifferentOrders) {
  std::set<Indices> orders;
  for (std::uint64_t seed = 0; seed < 5; ++seed) orders.insert(make(seed)->indices(kDatasetSize, 0));
  EXPECT_EQ(orders.size(), 5u);
}

TEST_P(SeededSamplerTest, SetEpochRoundTrips) {
  const auto sampler = make(0);
  EXPECT_EQ(sampler->epoch(), 0u);
  sampler->set_epoch(5);
  EXPECT_EQ(sampler->epoch(), 5u);
  sampler->set_epoch(std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(sampler->epoch(), std::numeric_limits<std::uint64_t>::max());
}

TEST_P(SeededSamplerTest, GivesTheSameIndicesWhenCalledFromSeveralThreads) {
  const auto sampler = make(3);
  constexpr std::uint64_t kEpochs = 8;
  std::vector<Indices> expected;
  for (std::uint64_t epoch = 0; epoch < kEpochs; ++epoch) expected.push_back(sampler->indices(kDatasetSize, epoch));
  std::vector<std::vector<Indices>> seen(4);
  std::vector<std::thread> threads;
  for (auto& mine : seen)
    threads.emplace_back([&sampler, &mine] {
      for (std::uint64_t epoch = 0; epoch < kEpochs; ++epoch) mine.push_back(sampler->indices(kDatasetSize, epoch));
    });
  for (auto& thread : threads) thread.join();
  for (const auto& mine : seen) EXPECT_EQ(mine, expected);
}

INSTANTIATE_TEST_SUITE_P(Kinds, SeededSamplerTest, ::testing::ValuesIn(kSeededKinds),
                         [](const ::testing::TestParamInfo<SamplerKind>& info) { return info.param.name; });

// ---------------------------------------------------------------------------------------------
// SequentialSampler

TEST(SequentialSamplerTest, YieldsEveryIndexInOrderByDefault) {
  EXPECT_EQ(SequentialSampler().indices(5, 0), identity(5));
}

TEST(SequentialSamplerTest, StartsAtStartIndexAndStopsAfterNumSamples) {
  const SequentialSampler sampler(2, 3);
  EXPECT_EQ(sampler.indices(10, 0), (Indices{2, 3, 4}));
  EXPECT_EQ(sampler.num_samples(10), 3u);
}

TEST(SequentialSamplerTest, NumSamplesBeyondTheEndStopsAtTheEnd) {
  EXPECT_EQ(SequentialSampler(8, 5).indices(10, 0), (Indices{8, 9}));
}

TEST(SequentialSamplerTest, IgnoresTheEpoch) {
  const SequentialSampler sampler(1);
  EXPECT_EQ(sampler.indices(6, 0), sampler.indices(6, 9));
}

TEST(SequentialSamplerTest, StartIndexAtTheEndYieldsNothing) {
  EXPECT_TRUE(SequentialSampler(10).indices(10, 0).empty());
}

TEST(SequentialSamplerTest, StartIndexPastTheEndThrowsInvalidArgument) {
  expect_throw_naming<std::invalid_argument>([] { SequentialSampler(12).indices(10, 0); }, {"12", "10"});
  expect_throw_naming<std::invalid_argument>([] { SequentialSampler(12).num_samples(10); }, {"12", "10"});
}

// ---------------------------------------------------------------------------------------------
// RandomSampler

const auto kDatasetSizes = ::testing::Values(std::size_t{0}, std::size_t{1}, std::size_t{7}, std::size_t{100},
                                             std::size_t{101});

class RandomSamplerTest : public ::testing::TestWithParam<std::size_t> {};

TEST_P(RandomSamplerTest, WithoutReplacementYieldsAPermutation) {
  const std::size_t n = GetParam();
  EXPECT_EQ(sorted(RandomSampler(7).indices(n, 3)), identity(n));
}

TEST_P(RandomSamplerTest, NumSamplesTruncatesThePermutation) {
  const std::size_t n = GetParam();
  const Indices full = RandomSampler(7).indices(n, 3);
  const Indices head = RandomSampler(7, false, n / 2).indices(n, 3);
  EXPECT_EQ(head, Indices(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n / 2)));
}

TEST_P(RandomSamplerTest, WithReplacementDrawsDatasetSizeIndicesByDefault) {
  const std::size_t n = GetParam();
  const Indices drawn = RandomSampler(7, true).indices(n, 0);
  EXPECT_EQ(drawn.size(), n);
  for (std::size_t index : drawn) EXPECT_LT(index, n);
}

TEST_P(RandomSamplerTest, WithReplacementMayDrawMoreSamplesThanRows) {
  const std::size_t n = GetParam();
  const RandomSampler sampler(7, true, 3 * n);
  EXPECT_EQ(sampler.num_samples(n), 3 * n);
  EXPECT_EQ(sampler.indices(n, 0).size(), 3 * n);
}

INSTANTIATE_TEST_SUITE_P(DatasetSizes, RandomSamplerTest, kDatasetSizes);

TEST(RandomSamplerTest, WithReplacementRepeatsSomeIndices) {
  const Indices drawn = RandomSampler(7, true).indices(100, 0);
  EXPECT_LT(std::set<std::size_t>(drawn.begin(), drawn.end()).size(), drawn.size());
}

TEST(RandomSamplerTest, MatchesTheGoldenOrderOnEveryMachine) {
  // Pinned once from this implementation. The order must not depend on the compiler, standard
  // library or CPU: if this fails, shuffles changed and every seeded pipeline's data order with it.
  EXPECT_EQ(RandomSampler(7).indices(10, 0), (Indices{1, 3, 6, 8, 2, 7, 5, 9, 4, 0}));
}

TEST(RandomSamplerTest, TooManySamplesWithoutReplacementThrowsNamingBothNumbers) {
  const RandomSampler sampler(7, false, 11);
  expect_throw_naming<std::invalid_argument>([&] { sampler.indices(10, 0); }, {"11", "10"});
  expect_throw_naming<std::invalid_argument>([&] { sampler.num_samples(10); }, {"11", "10"});
}

TEST(RandomSamplerTest, WithReplacementFromAnEmptyDatasetThrows) {
  expect_throw_naming<std::invalid_argument>([] { RandomSampler(7, true, 4).indices(0, 0); }, {"4", "empty"});
}

// ---------------------------------------------------------------------------------------------
// DistributedSampler

// (dataset size, num_shards, shuffle, drop_last)
using ShardCase = std::tuple<std::size_t, std::size_t, bool, bool>;

class DistributedSamplerTest : public ::testing::TestWithParam<ShardCase> {
 protected:
  std::size_t n() const { return std::get<0>(GetParam()); }
  std::size_t num_shards() const { return std::get<1>(GetParam()); }
  bool shuffle() const { return std::get<2>(GetParam()); }
  bool drop_last() const { return std::get<3>(GetParam()); }

  DistributedSampler sampler(std::size_t shard_id, std::uint64_t seed = 9) const {
    return DistributedSampler(num_shards(), shard_id, shuffle(), seed, drop_last());
  }
  std::vector<Indices> shards(std::uint64_t epoch = 2) const {
    std::vector<Indices> all;
    for (std::size_t k = 0; k < num_shards(); ++k) all.push_back(sampler(k).indices(n(), epoch));
    return all;
  }
  Indices all_indices() const {
    Indices all;
    for (const Indices& shard : shards()) all.insert(all.end(), shard.begin(), shard.end());
    return all;
  }
};

std::string shard_case_name(const ::testing::TestParamInfo<ShardCase>& info) {
  const auto& [n, num_shards, shuffle, drop_last] = info.param;
  std::string name = "n";  // built by appending: GCC 12 -O2 warns falsely on "literal" + std::string
  name += std::to_string(n);
  name += "_shards";
  name += std::to_string(num_shards);
  name += shuffle ? "_shuffled" : "_ordered";
  name += drop_last ? "_droplast" : "_padded";
  return name;
}

TEST_P(DistributedSamplerTest, EveryShardHasTheSameLength) {
  const std::size_t expected = drop_last() ? n() / num_shards() : (n() + num_shards() - 1) / num_shards();
  for (std::size_t k = 0; k < num_shards(); ++k) {
    EXPECT_EQ(sampler(k).num_samples(n()), expected);
    EXPECT_EQ(sampler(k).indices(n(), 2).size(), expected);
  }
}

TEST_P(DistributedSamplerTest, ShardsInterleaveOneOrderWrappedAround) {
  // Shard k's i-th index sits at position k + i * num_shards of one order shared by all shards;
  // its first n positions are a permutation, and later ones repeat it from the start.
  const std::vector<Indices> all = shards();
  Indices order;
  for (std::size_t i = 0; i < all[0].size(); ++i)
    for (const Indices& shard : all) order.push_back(shard[i]);
  const std::size_t distinct = std::min(order.size(), n());
  const Indices head(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(distinct));
  EXPECT_EQ(std::set<std::size_t>(head.begin(), head.end()).size(), distinct);
  for (std::size_t index : head) EXPECT_LT(index, n());
  for (std::size_t p = distinct; p < order.size(); ++p) EXPECT_EQ(order[p], order[p % n()]) << "position " << p;
}

TEST_P(DistributedSamplerTest, IsDeterministicPerSeedAndEpoch) {
  for (std::size_t k = 0; k < num_shards(); ++k) EXPECT_EQ(sampler(k).indices(n(), 4), sampler(k).indices(n(), 4));
}

INSTANTIATE_TEST_SUITE_P(Sweep, DistributedSamplerTest,
                         ::testing::Combine(kDatasetSizes, ::testing::Range(std::size_t{1}, std::size_t{6}),
                                            ::testing::Bool(), ::testing::Bool()),
                         shard_case_name);

class PaddedDistributedSamplerTest : public DistributedSamplerTest {};

TEST_P(PaddedDistributedSamplerTest, ShardsCoverTheEpoch) {
  const Indices all = all_indices();
  EXPECT_EQ(std::set<std::size_t>(all.begin(), all.end()).size(), n());
}

INSTANTIATE_TEST_SUITE_P(Sweep, PaddedDistributedSamplerTest,
                         ::testing::Combine(kDatasetSizes, ::testing::Range(std::size_t{1}, std::size_t{6}),
                                            ::testing::Bool(), ::testing::Values(false)),
                         shard_case_name);

class DropLastDistributedSamplerTest : public DistributedSamplerTest {};

TEST_P(DropLastDistributedSamplerTest, ShardsAreDisjointAndDropOnlyTheTail) {
  const Indices all = all_indices();
  EXPECT_EQ(std::set<std::size_t>(all.begin(), all.end()).size(), all.size());
  EXPECT_EQ(all.size(), n() - n() % num_shards());
}

INSTANTIATE_TEST_SUITE_P(Sweep, DropLastDistributedSamplerTest,
                         ::testing::Combine(kDatasetSizes, ::testing::Range(std::size_t{1}, std::size_t{6}),
                                            ::testing::Bool(), ::testing::Values(true)),
                         shard_case_name);

TEST(DistributedSamplerTest, UnshuffledShardTakesEveryKthIndexAndWrapsAround) {
  EXPECT_EQ(DistributedSampler(3, 1, false).indices(10, 0), (Indices{1, 4, 7, 0}));
  EXPECT_EQ(DistributedSampler(3, 1, false, 0, true).indices(10, 0), (Indices{1, 4, 7}));
}

TEST(DistributedSamplerTest, PaddingRepeatsTheListWhenShardsOutnumberRows) {
  std::vector<Indices> shards;
  for (std::size_t k = 0; k < 5; ++k) shards.push_back(DistributedSampler(5, k, false).indices(2, 0));
  EXPECT_EQ(shards, (std::vector<Indices>{{0}, {1}, {0}, {1}, {0}}));
}

TEST(DistributedSamplerTest, DropLastWithMoreShardsThanRowsYieldsNothing) {
  EXPECT_TRUE(DistributedSampler(5, 0, true, 0, true).indices(3, 0).empty());
}

TEST(DistributedSamplerTest, EmptyDatasetYieldsNothing) {
  EXPECT_TRUE(DistributedSampler(4, 3).indices(0, 0).empty());
  EXPECT_EQ(DistributedSampler(4, 3).num_samples(0), 0u);
}

TEST(DistributedSamplerTest, ZeroShardsThrowsInvalidArgument) {
  expect_throw_naming<std::invalid_argument>([] { DistributedSampler(0, 0); }, {"num_shards", "0"});
}

TEST(DistributedSamplerTest, ShardIdOutOfRangeThrowsNamingBothValues) {
  expect_throw_naming<std::invalid_argument>([] { DistributedSampler(4, 4); }, {"shard_id 4", "num_shards 4"});
  expect_throw_naming<std::invalid_argument>([] { DistributedSampler(3, 17); }, {"17", "3"});
}

// ---------------------------------------------------------------------------------------------
// SubsetRandomSampler

TEST(SubsetRandomSamplerTest, YieldsAPermutationOfTheSubset) {
  const Indices subset{3, 9, 3, 0, 42};
  const SubsetRandomSampler sampler(subset, 1);
  EXPECT_EQ(sorted(sampler.indices(50, 0)), sorted(subset));
  EXPECT_EQ(sampler.num_samples(50), subset.size());
}

TEST(SubsetRandomSamplerTest, EmptySubsetYieldsNothing) {
  EXPECT_TRUE(SubsetRandomSampler({}, 1).indices(10, 0).empty());
}

TEST(SubsetRandomSamplerTest, IndexOutOfRangeThrowsNamingIt) {
  const SubsetRandomSampler sampler({1, 12, 3}, 1);
  expect_throw_naming<std::out_of_range>([&] { sampler.indices(10, 0); }, {"12", "position 1", "10"});
  expect_throw_naming<std::out_of_range>([&] { sampler.num_samples(10); }, {"12", "10"});
}

// ---------------------------------------------------------------------------------------------
// WeightedRandomSampler

class WeightedRandomSamplerTest : public ::testing::TestWithParam<bool> {
 protected:
  bool replacement() const { return GetParam(); }
};

TEST_P(WeightedRandomSamplerTest, ZeroWeightIndicesAreNeverDrawn) {
  const std::vector<double> weights{0, 1, 0, 2, 0, 3e-300, 0};
  const WeightedRandomSampler sampler(weights, replacement() ? 1000 : 3, replacement(), 4);
  for (std::uint64_t epoch = 0; epoch < 200; ++epoch)
    for (std::size_t index : sampler.indices(weights.size(), epoch)) ASSERT_GT(weights[index], 0) << index;
}

TEST_P(WeightedRandomSamplerTest, IndicesStayWithinTheWeightedRowsOfALargerDataset) {
  const WeightedRandomSampler sampler({1, 2, 3}, 3, replacement());
  for (std::size_t index : sampler.indices(1000, 0)) EXPECT_LT(index, 3u);
}

INSTANTIATE_TEST_SUITE_P(Replacement, WeightedRandomSamplerTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "WithReplacement" : "WithoutReplacement";
                         });

TEST(WeightedRandomSamplerTest, FrequenciesFollowTheWeights) {
  const std::vector<double> weights{1, 2, 3, 4, 0, 10};
  constexpr std::size_t kDraws = 100000;
  const Indices drawn = WeightedRandomSampler(weights, kDraws, true, 8).indices(weights.size(), 0);
  const double total = std::accumulate(weights.begin(), weights.end(), 0.0);
  for (std::size_t i = 0; i < weights.size(); ++i)
    expect_frequency(static_cast<std::size_t>(std::count(drawn.begin(), drawn.end(), i)), weights[i] / total, kDraws);
}

TEST(WeightedRandomSamplerTest, WithoutReplacementFirstDrawFollowsTheWeights) {
  const std::vector<double> weights{1, 2, 3, 4};
  constexpr std::size_t kEpochs = 20000;
  const WeightedRandomSampler sampler(weights, 1, false, 8);
  std::vector<std::size_t> counts(weights.size());
  for (std::uint64_t epoch = 0; epoch < kEpochs; ++epoch) ++counts[sampler.indices(weights.size(), epoch)[0]];
  for (std::size_t i = 0; i < weights.size(); ++i) expect_frequency(counts[i], weights[i] / 10, kEpochs);
}

TEST(WeightedRandomSamplerTest, WithoutReplacementDrawsEachIndexAtMostOnce) {
  const std::vector<double> weights = ramp_weights(50);
  EXPECT_EQ(sorted(WeightedRandomSampler(weights, 50, false).indices(50, 0)), identity(50));
  const Indices some = WeightedRandomSampler(weights, 20, false).indices(50, 0);
  EXPECT_EQ(std::set<std::size_t>(some.begin(), some.end()).size(), 20u);
}

TEST(WeightedRandomSamplerTest, MatchesTheGoldenOrderOnEveryMachine) {
  // Pinned once from this implementation: weighted draws use only IEEE-754 + and <, so they must
  // be the same on every compiler, standard library and CPU.
  EXPECT_EQ(WeightedRandomSampler({1, 2, 3, 4}, 6, true, 7).indices(4, 0), (Indices{0, 3, 0, 3, 2, 1}));
  EXPECT_EQ(WeightedRandomSampler({1, 2, 3, 4}, 4, false, 7).indices(4, 0), (Indices{0, 3, 1, 2}));
}

TEST(WeightedRandomSamplerTest, DatasetSmallerThanTheWeightsThrowsInvalidArgument) {
  const WeightedRandomSampler sampler({1, 1, 1, 1, 1}, 2);
  expect_throw_naming<std::invalid_argument>([&] { sampler.indices(4, 0); }, {"5", "4"});
  expect_throw_naming<std::invalid_argument>([&] { sampler.num_samples(4); }, {"5", "4"});
}

struct BadWeights {
  const char* name;
  std::vector<double> weights;
  std::size_t num_samples;
  bool replacement;
};

class WeightedRandomSamplerRejectsTest : public ::testing::TestWithParam<BadWeights> {};

TEST_P(WeightedRandomSamplerRejectsTest, ConstructorThrowsInvalidArgument) {
  const BadWeights& bad = GetParam();
  expect_throw_naming<std::invalid_argument>(
      [&] { WeightedRandomSampler(bad.weights, bad.num_samples, bad.replacement); }, {"WeightedRandomSampler"});
}

INSTANTIATE_TEST_SUITE_P(
    BadArguments, WeightedRandomSamplerRejectsTest,
    ::testing::Values(BadWeights{"NoWeights", {}, 1, true}, BadWeights{"NegativeWeight", {1, -0.5}, 1, true},
                      BadWeights{"NaNWeight", {1, std::nan("")}, 1, true},
                      BadWeights{"InfiniteWeight", {std::numeric_limits<double>::infinity(), 1}, 1, true},
                      BadWeights{"AllZeroWeights", {0, 0, 0}, 1, true},
                      BadWeights{"WeightsSummingToInfinity", {1e308, 1e308}, 1, true},
                      BadWeights{"MoreSamplesThanNonZeroWeights", {1, 0, 2}, 3, false}),
    [](const ::testing::TestParamInfo<BadWeights>& info) { return info.param.name; });

TEST(WeightedRandomSamplerTest, TooManySamplesWithoutReplacementNamesBothCounts) {
  expect_throw_naming<std::invalid_argument>([] { WeightedRandomSampler({1, 0, 2}, 3, false); }, {"3", "2"});
}

TEST(WeightedRandomSamplerTest, MoreSamplesThanWeightsAreFineWithReplacement) {
  EXPECT_EQ(WeightedRandomSampler({1, 0, 2}, 30, true).indices(3, 0).size(), 30u);
}

// ---------------------------------------------------------------------------------------------
// UserSampler

TEST(UserSamplerTest, ReturnsTheFunctionsIndicesForEachEpoch) {
  const UserSampler sampler([](std::size_t n, std::uint64_t epoch) { return Indices{epoch % n, n - 1}; });
  EXPECT_EQ(sampler.indices(10, 3), (Indices{3, 9}));
  EXPECT_EQ(sampler.indices(10, 14), (Indices{4, 9}));
}

TEST(UserSamplerTest, NumSamplesCallsTheFunctionForEpochZero) {
  const UserSampler sampler([](std::size_t n, std::uint64_t epoch) { return Indices(epoch == 0 ? n / 2 : n, 0); });
  EXPECT_EQ(sampler.num_samples(10), 5u);
}

TEST(UserSamplerTest, IndexOutOfRangeThrowsNamingIndexPositionAndDatasetSize) {
  const UserSampler sampler([](std::size_t, std::uint64_t) { return Indices{0, 1, 15, 2}; });
  expect_throw_naming<std::out_of_range>([&] { sampler.indices(10, 0); }, {"15", "position 2", "10"});
  expect_throw_naming<std::out_of_range>([&] { sampler.num_samples(10); }, {"15", "position 2", "10"});
}

TEST(UserSamplerTest, EmptyFunctionThrowsInvalidArgument) {
  expect_throw_naming<std::invalid_argument>([] { UserSampler(UserSampler::Function{}); }, {"function"});
}

}  // namespace
}  // namespace conveyor
