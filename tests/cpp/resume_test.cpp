// Resuming at a Position: the outputs after it are those of an uninterrupted run, a random-access
// source jumps there without reading earlier rows, and stages that cannot jump are named.
#include <gtest/gtest.h>

#include <conveyor/detail/random.hpp>

#include "common/pipelines.hpp"

namespace conveyor {
namespace {

using testing::CountingStream;
using testing::RangeSource;
using testing::read_all;

constexpr std::int64_t kEpochs = 2;

// Adds a draw from a generator seeded by the op's context, as random augmentations do.
Row noisy(Row row, const OpContext& c) {
  detail::Rng rng(detail::mix({c.seed, c.epoch, c.sample, c.op}));
  return {Tensor::scalar<std::int64_t>(row[0].item<std::int64_t>() * 1000 + static_cast<std::int64_t>(rng.below(1000)))};
}

// 40 shuffled rows with noise, in batches of 4: 10 batches an epoch.
Dataset shuffled(std::size_t workers) {
  return GeneratorDataset(RangeSource{40}, {"index"}, {.shuffle = true, .seed = 7, .num_parallel_workers = workers})
      .map(std::vector<ContextOp>{noisy}, {}, {}, workers)
      .batch(4);
}

// The outputs of a run stopped after `k` outputs, then of a new run started at its position.
std::vector<std::int64_t> interrupted(const Dataset& ds, std::size_t k, Position* saved = nullptr) {
  std::vector<std::int64_t> values;
  Iterator first = ds.iterate(kEpochs);
  for (std::size_t i = 0; i < k; ++i) {
    auto batch = first.next();
    if (!batch) break;
    auto v = (*batch)["index"].contiguous().view<std::int64_t>();
    values.insert(values.end(), v.begin(), v.end());
  }
  Position position = first.position();
  if (saved) *saved = position;
  auto rest = read_all(ds.iterate(kEpochs, position));
  values.insert(values.end(), rest.begin(), rest.end());
  return values;
}

class ResumeTest : public ::testing::TestWithParam<std::size_t> {};

TEST_P(ResumeTest, ContinuesBitIdenticallyFromAnyNumberOfOutputs) {
  const std::size_t workers = GetParam();
  auto reference = read_all(shuffled(workers).iterate(kEpochs));
  ASSERT_EQ(reference.size(), 80u);
  for (std::size_t k : {0u, 3u, 10u, 13u, 19u}) {
    Position saved;
    EXPECT_EQ(interrupted(shuffled(workers), k, &saved), reference) << "after " << k << " outputs";
    // Outputs read so far, in the epoch of the last one (the end of an epoch is not read yet).
    Position expected = k == 0 ? Position{0, 0} : Position{(k - 1) / 10, k - 10 * ((k - 1) / 10)};
    EXPECT_EQ(saved, expected) << "after " << k << " outputs";
  }
}

TEST_P(ResumeTest, AnIterableSourceIsReadAgainUpToThePosition) {
  const std::size_t workers = GetParam();
  auto make = [workers] {
    return GeneratorDataset(CountingStream{30}, {"index"}).map(std::vector<ContextOp>{noisy}, {}, {}, workers).batch(4);
  };
  auto reference = read_all(make().iterate(kEpochs));
  for (std::size_t k : {0u, 5u, 8u, 11u}) EXPECT_EQ(interrupted(make(), k), reference) << "after " << k << " outputs";
}

INSTANTIATE_TEST_SUITE_P(Workers, ResumeTest, ::testing::Values(1u, 2u));

TEST(ResumeJumpTest, ARandomAccessSourceIsNotReadBeforeThePosition) {
  RangeSource source{40};
  auto ds = GeneratorDataset(source, {"index"}, {.shuffle = true, .seed = 3}).batch(4);
  auto rest = read_all(ds.iterate(1, Position{0, 7}));
  EXPECT_EQ(rest.size(), 12u);
  EXPECT_EQ(source.calls->load(), 12u);
}

TEST(ResumeJumpTest, AStartAfterTheLastEpochGivesNothing) {
  EXPECT_TRUE(read_all(shuffled(1).iterate(kEpochs, Position{2, 0})).empty());
}

TEST(ResumeJumpTest, MidEpochBehindAFilterIsAnErrorNamingIt) {
  auto ds = GeneratorDataset(RangeSource{40}, {"index"}, {.seed = 3})
                .filter([](const Row& row) { return row[0].item<std::int64_t>() % 2 == 0; })
                .batch(4);
  try {
    ds.iterate(kEpochs, Position{0, 1});
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("filter"), std::string::npos) << e.what();
  }
  auto reference = read_all(ds.iterate(kEpochs));
  auto second_epoch = read_all(ds.iterate(kEpochs, Position{1, 0}));
  EXPECT_EQ(second_epoch, std::vector<std::int64_t>(reference.begin() + 20, reference.end()));
}

TEST(ResumeSignatureTest, NamesTheStagesAndTellsPipelinesApart) {
  auto base = GeneratorDataset(RangeSource{40}, {"index"}, {.seed = 3});
  EXPECT_EQ(base.batch(4).signature(), GeneratorDataset(RangeSource{40}, {"index"}, {.seed = 3}).batch(4).signature());
  EXPECT_NE(base.batch(4).signature(), base.batch(5).signature());
  EXPECT_NE(base.batch(4).signature(), GeneratorDataset(RangeSource{41}, {"index"}, {.seed = 3}).batch(4).signature());
  EXPECT_NE(base.batch(4).signature().find("batch(4)"), std::string::npos) << base.batch(4).signature();
}

}  // namespace
}  // namespace conveyor
