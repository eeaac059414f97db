// Config::error_samples_mode: failed samples raised, skipped or replaced, and counted.
#include <gtest/gtest.h>

#include "common/pipelines.hpp"

namespace conveyor {
namespace {

using testing::read_all;

/// Sets the error mode for one test and puts the defaults back.
class ErrorPolicyTest : public ::testing::TestWithParam<std::size_t> {
 protected:
  void use(ErrorSamplesMode mode) {
    Config c = saved_;
    c.error_samples_mode = mode;
    set_config(c);
  }
  void TearDown() override { set_config(saved_); }

 private:
  Config saved_ = config();
};

/// Rows 0..n-1 whose get() fails for the indices in `bad`.
Dataset failing_source(std::size_t n, std::vector<std::int64_t> bad, std::size_t workers) {
  auto source = function_source(n, [bad](std::size_t i) {
    if (std::find(bad.begin(), bad.end(), std::int64_t(i)) != bad.end())
      throw std::runtime_error("cannot read " + std::to_string(i));
    return Row{Tensor::scalar<std::int64_t>(static_cast<std::int64_t>(i))};
  });
  return GeneratorDataset(source, {"index"}, {.shuffle = false, .num_parallel_workers = workers});
}

std::uint64_t errors_of(const Iterator& it, const std::string& stage) {
  for (const StageStats& s : it.stats())
    if (s.name == stage) return s.errors;
  ADD_FAILURE() << "no stage " << stage;
  return 0;
}

TEST_P(ErrorPolicyTest, SkipDropsTheFailedSamplesAndCountsThem) {
  use(ErrorSamplesMode::skip);
  auto it = failing_source(12, {3, 7}, GetParam()).iterate(2);
  std::vector<std::int64_t> values;
  while (auto b = it.next()) values.push_back(b->columns()[0].item<std::int64_t>());
  const std::vector<std::int64_t> epoch{0, 1, 2, 4, 5, 6, 8, 9, 10, 11};
  std::vector<std::int64_t> expected = epoch;
  expected.insert(expected.end(), epoch.begin(), epoch.end());
  EXPECT_EQ(values, expected);
  EXPECT_EQ(errors_of(it, "source"), 4u);
}

TEST_P(ErrorPolicyTest, ReplaceUsesTheGoodSampleBeforeOrAtTheStartTheOneAfter) {
  use(ErrorSamplesMode::replace);
  auto it = failing_source(10, {0, 1, 5, 9}, GetParam()).iterate(1);
  EXPECT_EQ(read_all(std::move(it)), (std::vector<std::int64_t>{2, 2, 2, 3, 4, 4, 6, 7, 8, 8}));
}

TEST_P(ErrorPolicyTest, MapAndFilterFailuresAreSkippedAndCountedInTheirStage) {
  use(ErrorSamplesMode::skip);
  auto ds = failing_source(20, {}, GetParam())
                .map([](Row r) {
                  if (r[0].item<std::int64_t>() % 5 == 0) throw std::runtime_error("multiple of five");
                  return r;
                })
                .filter([](const Row& r) {
                  if (r[0].item<std::int64_t>() == 13) throw std::runtime_error("thirteen");
                  return true;
                })
                .batch(4);
  auto it = ds.iterate();
  std::vector<std::int64_t> values;
  while (auto b = it.next()) {
    auto v = b->columns()[0].view<std::int64_t>();
    values.insert(values.end(), v.begin(), v.end());
  }
  EXPECT_EQ(values, (std::vector<std::int64_t>{1, 2, 3, 4, 6, 7, 8, 9, 11, 12, 14, 16, 17, 18, 19}));
  EXPECT_EQ(errors_of(it, "map[0]"), 4u);
  EXPECT_EQ(errors_of(it, "filter[0]"), 1u);
}

TEST_P(ErrorPolicyTest, AnEpochWithNothingToReplaceWithRaisesItsFirstFailure) {
  use(ErrorSamplesMode::replace);
  auto it = failing_source(3, {0, 1, 2}, GetParam()).iterate(1);
  try {
    it.next();
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.stage(), "source");
    EXPECT_EQ(e.sample(), 0u);
  }
}

TEST_P(ErrorPolicyTest, RaiseIsTheDefault) {
  auto it = failing_source(10, {4}, GetParam()).iterate(1);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(it.next());
  EXPECT_THROW(it.next(), Error);
}

INSTANTIATE_TEST_SUITE_P(Workers, ErrorPolicyTest, ::testing::Values(1u, 3u));

TEST(ErrorPolicyWholeBatchTest, BatchAndSamplerFailuresAreRaisedWhateverTheMode) {
  const Config saved = config();
  Config c = saved;
  c.error_samples_mode = ErrorSamplesMode::skip;
  set_config(c);
  auto mixed = function_source(6, [](std::size_t i) {
    return Row{Tensor::zeros(DType::f32, {static_cast<std::int64_t>(i < 3 ? 2 : 3)})};
  });
  auto collation = GeneratorDataset(mixed, {"x"}, {.shuffle = false}).batch(6).iterate();
  EXPECT_THROW(collation.next(), Error);
  auto sampler = std::make_shared<UserSampler>([](std::size_t, std::uint64_t) { return std::vector<std::size_t>{0, 99}; });
  auto sampled = GeneratorDataset(function_source(5, [](std::size_t) { return Row{Tensor::scalar<std::int64_t>(0)}; }),
                                  {"x"}, {.sampler = sampler})
                     .iterate();
  EXPECT_THROW(sampled.next(), Error);
  set_config(saved);
}

}  // namespace
}  // namespace conveyor
