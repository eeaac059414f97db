// Failures anywhere in a pipeline reach the consumer in order, naming stage and sample.
#include <gtest/gtest.h>

#include "common/pipelines.hpp"

namespace conveyor {
namespace {

using testing::RangeSource;

struct Failure {
  std::size_t outputs_before = 0;
  std::string stage;
  std::optional<std::uint64_t> sample;
  std::optional<std::uint64_t> batch;
  std::string what;
};

// Reads until the pipeline throws; records what came before and what was thrown.
Failure read_until_error(Iterator it) {
  Failure f;
  try {
    while (it.next()) ++f.outputs_before;
  } catch (const Error& e) {
    f.stage = e.stage();
    f.sample = e.sample();
    f.batch = e.batch();
    f.what = e.what();
    EXPECT_FALSE(it.next()) << "an iterator that failed must be over";
    return f;
  }
  ADD_FAILURE() << "the pipeline did not fail";
  return f;
}

Row fail_on_7(Row r) {
  if (r[0].item<std::int64_t>() == 7) throw std::runtime_error("seven is bad");
  return r;
}

class ErrorTest : public ::testing::TestWithParam<std::size_t> {};

TEST_P(ErrorTest, SourceErrorNamesTheSampleAndArrivesInOrder) {
  auto source = function_source(20, [](std::size_t i) {
    if (i == 7) throw std::runtime_error("cannot read 7");
    return Row{Tensor::scalar<std::int64_t>(static_cast<std::int64_t>(i))};
  });
  auto f = read_until_error(GeneratorDataset(source, {"index"}, {.shuffle = false, .num_parallel_workers = GetParam()}).iterate());
  EXPECT_EQ(f.outputs_before, 7u);
  EXPECT_EQ(f.stage, "source");
  EXPECT_EQ(f.sample, 7u);
  EXPECT_NE(f.what.find("cannot read 7"), std::string::npos) << f.what;
}

TEST_P(ErrorTest, MapErrorNamesTheMapAndSample) {
  auto ds = GeneratorDataset(RangeSource{20}, {"index"}, {.shuffle = false}).map(fail_on_7, {}, {}, GetParam()).batch(2);
  auto f = read_until_error(ds.iterate());
  EXPECT_EQ(f.outputs_before, 3u);
  EXPECT_EQ(f.stage, "map[0]");
  EXPECT_EQ(f.sample, 7u);
  EXPECT_NE(f.what.find("seven is bad"), std::string::npos);
}

TEST_P(ErrorTest, FilterErrorNamesTheFilter) {
  auto ds = GeneratorDataset(RangeSource{20}, {"index"}, {.shuffle = false})
                .filter([](const Row& r) { return !fail_on_7(r).empty(); }, {}, GetParam());
  auto f = read_until_error(ds.iterate());
  EXPECT_EQ(f.outputs_before, 7u);
  EXPECT_EQ(f.stage, "filter[0]");
  EXPECT_EQ(f.sample, 7u);
}

INSTANTIATE_TEST_SUITE_P(Workers, ErrorTest, ::testing::Values(1u, 2u, 8u));

TEST(StageErrorTest, WrongColumnCountFromSourceIsAnError) {
  auto source = function_source(4, [](std::size_t i) {
    Row r{Tensor::scalar<std::int64_t>(0)};
    if (i == 2) r.push_back(Tensor::scalar<std::int64_t>(1));
    return r;
  });
  auto f = read_until_error(GeneratorDataset(source, {"index"}, {.shuffle = false}).iterate());
  EXPECT_EQ(f.stage, "source");
  EXPECT_EQ(f.sample, 2u);
  EXPECT_NE(f.what.find("2 columns"), std::string::npos) << f.what;
}

TEST(StageErrorTest, MapReturningTheWrongColumnCountIsAnError) {
  auto ds = GeneratorDataset(RangeSource{4}, {"index"}).map([](Row) { return Row{}; });
  auto f = read_until_error(ds.iterate());
  EXPECT_EQ(f.stage, "map[0]");
  EXPECT_NE(f.what.find("returned 0 columns; expected 1"), std::string::npos) << f.what;
}

TEST(StageErrorTest, IterableSourceErrorNamesTheRow) {
  struct Broken {
    int i = 0;
    std::optional<Row> next() {
      if (i == 3) throw std::runtime_error("stream broke");
      return Row{Tensor::scalar<std::int64_t>(i++)};
    }
  };
  auto f = read_until_error(GeneratorDataset(Broken{}, {"index"}).map([](Row r) { return r; }, {}, {}, 2).iterate());
  EXPECT_EQ(f.outputs_before, 3u);
  EXPECT_EQ(f.stage, "source");
  EXPECT_EQ(f.sample, 3u);
}

TEST(StageErrorTest, SamplerErrorIsReported) {
  auto sampler = std::make_shared<UserSampler>([](std::size_t, std::uint64_t) { return std::vector<std::size_t>{0, 99}; });
  auto f = read_until_error(GeneratorDataset(RangeSource{5}, {"index"}, {.sampler = sampler}).iterate());
  EXPECT_EQ(f.stage, "sampler");
  EXPECT_NE(f.what.find("99"), std::string::npos) << f.what;
}

TEST(StageErrorTest, PerBatchMapErrorNamesTheBatch) {
  BatchOptions options;
  options.per_batch_map = [](std::vector<Row> rows, const BatchInfo&) {
    if (rows[0][0].item<std::int64_t>() == 4) throw std::runtime_error("bad batch");
    return rows;
  };
  auto f = read_until_error(GeneratorDataset(RangeSource{12}, {"index"}, {.shuffle = false}).batch(2, false, options).iterate());
  EXPECT_EQ(f.outputs_before, 2u);
  EXPECT_EQ(f.stage, "per_batch_map");
  EXPECT_EQ(f.batch, 2u);
  EXPECT_EQ(f.sample, std::nullopt);
  EXPECT_NE(f.what.find("failed on batch 2: bad batch"), std::string::npos) << f.what;
}

TEST(StageErrorTest, AnotherPipelineWorksAfterAFailure) {
  auto bad = GeneratorDataset(RangeSource{20}, {"index"}).map(fail_on_7, {}, {}, 2);
  read_until_error(bad.iterate());
  EXPECT_EQ(testing::read_all(GeneratorDataset(RangeSource{20}, {"index"}).iterate()).size(), 20u);
}

}  // namespace
}  // namespace conveyor
