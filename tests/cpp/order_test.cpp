// Order and determinism: output follows the sampler whatever the workers do.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>

#include <conveyor/detail/random.hpp>

#include "common/pipelines.hpp"

namespace conveyor {
namespace {

using testing::RangeSource;
using testing::read_all;

// A map that sleeps a random 0-200 µs per row (random per call, not per index), so that
// workers finish out of order.
Row jittery(Row row) {
  thread_local std::minstd_rand rng(std::random_device{}());
  std::this_thread::sleep_for(std::chrono::microseconds(rng() % 200));
  return row;
}

class OrderTest : public ::testing::TestWithParam<std::size_t> {};

TEST_P(OrderTest, OutputFollowsTheSamplerUnderRandomDelays) {
  std::size_t workers = GetParam();
  auto ds = GeneratorDataset(RangeSource{300}, {"index"}, {.shuffle = false, .num_parallel_workers = workers})
                .map(jittery, {"index"}, {}, workers)
                .batch(16);
  std::vector<std::int64_t> expected(300);
  std::iota(expected.begin(), expected.end(), 0);
  EXPECT_EQ(read_all(ds.iterate()), expected);
}

TEST_P(OrderTest, SameSeedGivesTheSameShuffleWhateverTheWorkerCount) {
  std::size_t workers = GetParam();
  auto run = [](std::size_t w) {
    return read_all(GeneratorDataset(RangeSource{500}, {"index"}, {.shuffle = true, .seed = 11, .num_parallel_workers = w})
                        .map(jittery, {"index"}, {}, w)
                        .batch(32)
                        .iterate(3));
  };
  EXPECT_EQ(run(workers), run(1));
}

INSTANTIATE_TEST_SUITE_P(Workers, OrderTest, ::testing::Values(1u, 2u, 8u));

// An op that draws from a generator seeded by its context, as random augmentations do.
Row noisy(Row row, const OpContext& c) {
  detail::Rng rng(detail::mix({c.seed, c.epoch, c.sample, c.op}));
  return {Tensor::scalar<std::int64_t>(row[0].item<std::int64_t>() * 1000 + static_cast<std::int64_t>(rng.below(1000)))};
}

TEST_P(OrderTest, RandomOpsDrawTheSameNumbersWhateverTheWorkerCount) {
  std::size_t workers = GetParam();
  auto run = [](std::size_t w) {
    return read_all(GeneratorDataset(RangeSource{300}, {"index"}, {.seed = 5, .num_parallel_workers = w})
                        .map(jittery, {}, {}, w)
                        .map(std::vector<ContextOp>{noisy, noisy}, {}, {}, w)
                        .batch(16)
                        .iterate(2));
  };
  auto reference = run(1);
  EXPECT_EQ(run(workers), reference);
  // New draws each epoch: the same rows, different noise.
  std::vector<std::int64_t> first(reference.begin(), reference.begin() + 300), second(reference.begin() + 300, reference.end());
  std::sort(first.begin(), first.end());
  std::sort(second.begin(), second.end());
  EXPECT_NE(first, second);
}

TEST(ShuffleTest, ReshufflesEachEpochAndCoversEveryRow) {
  auto values = read_all(GeneratorDataset(RangeSource{100}, {"index"}, {.seed = 3}).iterate(2));
  ASSERT_EQ(values.size(), 200u);
  std::vector<std::int64_t> first(values.begin(), values.begin() + 100), second(values.begin() + 100, values.end());
  EXPECT_NE(first, second);
  std::sort(first.begin(), first.end());
  std::sort(second.begin(), second.end());
  EXPECT_EQ(first, second);
  EXPECT_EQ(std::adjacent_find(first.begin(), first.end()), first.end());
}

TEST(ShuffleTest, DifferentSeedsGiveDifferentOrders) {
  auto a = read_all(GeneratorDataset(RangeSource{100}, {"index"}, {.seed = 1}).iterate());
  auto b = read_all(GeneratorDataset(RangeSource{100}, {"index"}, {.seed = 2}).iterate());
  EXPECT_NE(a, b);
}

TEST(ShuffleTest, UnseededShuffleUsesTheConfiguredSeed) {
  Config saved = config();
  Config c = saved;
  c.seed = 99;
  set_config(c);
  auto a = read_all(GeneratorDataset(RangeSource{50}, {"index"}).iterate());
  auto b = read_all(GeneratorDataset(RangeSource{50}, {"index"}, {.seed = 99}).iterate());
  set_config(saved);
  EXPECT_EQ(a, b);
}

TEST(ShuffleBufferTest, PermutesAStreamDeterministically) {
  auto make = [] {
    return GeneratorDataset(testing::CountingStream{200}, {"index"}).shuffle(16);
  };
  auto a = read_all(make().iterate(2));
  auto b = read_all(make().iterate(2));
  EXPECT_EQ(a, b);
  std::vector<std::int64_t> epoch0(a.begin(), a.begin() + 200), epoch1(a.begin() + 200, a.end());
  EXPECT_NE(epoch0, epoch1);
  std::vector<std::int64_t> sorted = epoch0;
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::int64_t> expected(200);
  std::iota(expected.begin(), expected.end(), 0);
  EXPECT_EQ(sorted, expected);
  std::vector<std::int64_t> identity(expected);
  EXPECT_NE(epoch0, identity);
}

TEST(ShuffleBufferTest, ARowMovesAtMostBufferSizePositionsEarly) {
  // A buffer of k rows can emit row i no earlier than position i - (k - 1).
  auto values = read_all(GeneratorDataset(testing::CountingStream{500}, {"index"}).shuffle(8).iterate());
  for (std::size_t pos = 0; pos < values.size(); ++pos) EXPECT_GE(static_cast<std::int64_t>(pos), values[pos] - 7);
}

TEST(SamplerOptionTest, ShardsOfAPipelineAreDisjointAndCoverTheEpoch) {
  std::vector<std::int64_t> all;
  for (std::size_t shard = 0; shard < 3; ++shard) {
    auto part = read_all(
        GeneratorDataset(RangeSource{30}, {"index"}, {.seed = 5, .num_shards = 3, .shard_id = shard}).iterate());
    EXPECT_EQ(part.size(), 10u);
    all.insert(all.end(), part.begin(), part.end());
  }
  std::sort(all.begin(), all.end());
  std::vector<std::int64_t> expected(30);
  std::iota(expected.begin(), expected.end(), 0);
  EXPECT_EQ(all, expected);
}

TEST(SamplerOptionTest, AnExplicitSamplerDecidesTheOrder) {
  auto sampler = std::make_shared<UserSampler>([](std::size_t, std::uint64_t) {
    return std::vector<std::size_t>{4, 2, 0};
  });
  auto ds = GeneratorDataset(RangeSource{5}, {"index"}, {.sampler = sampler});
  EXPECT_EQ(read_all(ds.iterate()), (std::vector<std::int64_t>{4, 2, 0}));
  EXPECT_EQ(ds.get_dataset_size(), 3u);
}

TEST(SamplerOptionTest, SetEpochShiftsTheEpochsAPipelineReads) {
  auto shifted = std::make_shared<RandomSampler>(7);
  shifted->set_epoch(1);
  auto from_one = read_all(GeneratorDataset(RangeSource{40}, {"index"}, {.sampler = shifted}).iterate(1));
  auto both = read_all(GeneratorDataset(RangeSource{40}, {"index"}, {.sampler = std::make_shared<RandomSampler>(7)}).iterate(2));
  EXPECT_EQ(from_one, std::vector<std::int64_t>(both.begin() + 40, both.end()));
}

}  // namespace
}  // namespace conveyor
