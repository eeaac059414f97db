// Every Dataset operation: what rows and columns come out, and the sizes it reports.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "common/pipelines.hpp"

namespace conveyor {
namespace {

using testing::Blocks;
using testing::CountingStream;
using testing::RangeSource;
using testing::read_all;

Dataset ordered(std::size_t n) { return GeneratorDataset(RangeSource{n}, {"index"}, {.shuffle = false}); }

// Row i is {index i, square i*i}.
Dataset squares(std::size_t n) {
  return GeneratorDataset(function_source(n,
                                          [](std::size_t i) {
                                            auto v = static_cast<std::int64_t>(i);
                                            return Row{Tensor::scalar(v), Tensor::scalar(v * v)};
                                          }),
                          {"index", "square"}, {.shuffle = false});
}

// Row i of epoch e is 10 i + e: the source reads the epoch the engine passes to read().
class EpochEcho final : public RandomAccessSource {
 public:
  std::size_t size() const override { return 4; }
  Row read(std::size_t index, std::uint64_t epoch) const override {
    return {Tensor::scalar(static_cast<std::int64_t>(10 * index + epoch))};
  }
};

TEST(SourceTest, ReadIsToldTheIteratorsEpoch) {
  auto ds = GeneratorDataset(std::make_shared<EpochEcho>(), {"v"}, {.shuffle = false, .num_parallel_workers = 2});
  EXPECT_EQ(read_all(ds.iterate(3), "v"), (std::vector<std::int64_t>{0, 10, 20, 30, 1, 11, 21, 31, 2, 12, 22, 32}));
}

// A stream of n rows 0, 1, ... that only has next(): no reset, size or fork.
class Counter final : public IterableSource {
 public:
  explicit Counter(std::int64_t n) : n_(n) {}
  std::optional<Row> next() override {
    if (next_ == n_) return std::nullopt;
    return Row{Tensor::scalar(next_++)};
  }

 private:
  std::int64_t n_;
  std::int64_t next_ = 0;
};

TEST(SourceTest, AnIterableSourceWithOnlyNextContinuesItsStreamEachEpochAndIsShared) {
  auto source = std::make_shared<Counter>(5);
  auto ds = GeneratorDataset(source, {"v"});
  EXPECT_EQ(ds.get_dataset_size(), std::nullopt) << "no size() means an unknown length";
  // Without reset() every epoch continues the same stream, and without fork() a second
  // pipeline reads on where the first stopped.
  EXPECT_EQ(read_all(ds.take(2).iterate(1), "v"), (std::vector<std::int64_t>{0, 1}));
  EXPECT_EQ(read_all(ds.iterate(2), "v"), (std::vector<std::int64_t>{2, 3, 4}));
}

TEST(SourceTest, ARandomAccessSourceWithOnlySizeAndReadIsReadByIndexInAnyChunks) {
  auto ds = GeneratorDataset(std::make_shared<EpochEcho>(), {"v"}, {.shuffle = false, .num_parallel_workers = 2});
  const SourceHints none = EpochEcho{}.hints();
  EXPECT_EQ(none.block, 0u);
  EXPECT_FALSE(none.rows_laid_out);
  EXPECT_EQ(read_all(ds.batch(3).iterate(1), "v"), (std::vector<std::int64_t>{0, 10, 20, 30}));
}

TEST(SourceTest, ANullSourceIsRefused) {
  EXPECT_THROW(GeneratorDataset(std::shared_ptr<RandomAccessSource>(), {"v"}), std::invalid_argument);
  EXPECT_THROW(GeneratorDataset(std::shared_ptr<IterableSource>(), {"v"}), std::invalid_argument);
}

TEST(SourceTest, ASourceWithAFetchBlockGetsFixedChunksOfTheSamplersOrder) {
  for (std::size_t workers : {1u, 3u}) {
    auto source = std::make_shared<Blocks>(10, 4, 99);
    auto ds = GeneratorDataset(source, {"v"}, {.shuffle = true, .seed = 4, .num_parallel_workers = workers});
    const auto order = RandomSampler(4).indices(10, 0);
    auto values = read_all(ds.iterate(1), "v");
    EXPECT_EQ(values, std::vector<std::int64_t>(order.begin(), order.end()));
    std::vector<std::vector<std::uint64_t>> expected;
    for (std::size_t at = 0; at < order.size(); at += 4)
      expected.emplace_back(order.begin() + at, order.begin() + std::min<std::size_t>(at + 4, order.size()));
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(source->chunks(), expected) << workers << " workers";
  }
}

TEST(SourceTest, ARowThatFailsInAChunkIsAnErrorInItsPlaceAfterTheRowsBeforeIt) {
  auto ds = GeneratorDataset(std::make_shared<Blocks>(8, 4, 5), {"v"}, {.shuffle = false, .num_parallel_workers = 2});
  auto it = ds.iterate();
  for (std::int64_t i = 0; i < 5; ++i) EXPECT_EQ(it.next()->columns()[0].item<std::int64_t>(), i);
  try {
    it.next();
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.stage(), "source");
    EXPECT_EQ(e.sample(), 5u);
    EXPECT_NE(std::string(e.what()).find("bad row"), std::string::npos);
  }
}

// The indices `source` was asked for, sorted.
std::vector<std::uint64_t> read_indices(const Blocks& source) {
  std::vector<std::uint64_t> read;
  for (const auto& chunk : source.chunks()) read.insert(read.end(), chunk.begin(), chunk.end());
  std::sort(read.begin(), read.end());
  return read;
}

std::vector<std::uint64_t> sorted(std::vector<std::size_t> order, std::size_t count) {
  std::vector<std::uint64_t> head(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(count));
  std::sort(head.begin(), head.end());
  return head;
}

TEST(DropRemainderTest, RowsPastTheLastWholeBatchAreNotRead) {
  auto source = std::make_shared<Blocks>(10, 0, 99);
  auto ds = GeneratorDataset(source, {"v"}, {.shuffle = true, .seed = 4, .num_parallel_workers = 2})
                .map([](Row row) { return row; })
                .project({"v"})
                .batch(4, true);
  const auto order = RandomSampler(4).indices(10, 0);
  EXPECT_EQ(read_all(ds.iterate(1), "v"), std::vector<std::int64_t>(order.begin(), order.begin() + 8));
  EXPECT_EQ(read_indices(*source), sorted(order, 8));
}

TEST(DropRemainderTest, ASourceReadInFixedChunksReadsTheLastOneWhole) {
  // Its rows may depend on the whole chunk (a worker process seeds from it): the cut must not
  // change the rows kept.
  auto source = std::make_shared<Blocks>(10, 3, 99);
  auto ds = GeneratorDataset(source, {"v"}, {.shuffle = false}).batch(4, true);
  EXPECT_EQ(read_all(ds.iterate(1), "v"), (std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(source->chunks(), (std::vector<std::vector<std::uint64_t>>{{0, 1, 2}, {3, 4, 5}, {6, 7, 8}}));
}

TEST(DropRemainderTest, EveryRowIsReadWhenTheStagesBelowMayDropOrMoveRows) {
  const std::vector<std::uint64_t> all{0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  auto read_through = [](auto&& make) {
    auto source = std::make_shared<Blocks>(10, 0, 99);
    read_all(make(GeneratorDataset(source, {"v"}, {.shuffle = false})).iterate(1), "v");
    return read_indices(*source);
  };
  EXPECT_EQ(read_through([](Dataset ds) { return ds.batch(4); }), all) << "no drop_remainder";
  EXPECT_EQ(read_through([](Dataset ds) { return ds.filter([](const Row&) { return true; }).batch(4, true); }), all)
      << "a filter";
  EXPECT_EQ(read_through([](Dataset ds) { return ds.shuffle(4).batch(4, true); }), all) << "a shuffle buffer";
  const Config saved = config();
  Config skipping = saved;
  skipping.error_samples_mode = ErrorSamplesMode::skip;
  set_config(skipping);
  EXPECT_EQ(read_through([](Dataset ds) { return ds.batch(4, true); }), all) << "failed rows skipped";
  set_config(saved);
}

TEST(TakeSkipTest, TakeKeepsTheFirstRowsOfEachEpoch) {
  auto ds = ordered(10).take(3);
  EXPECT_EQ(read_all(ds.iterate(2)), (std::vector<std::int64_t>{0, 1, 2, 0, 1, 2}));
  EXPECT_EQ(ds.get_dataset_size(), 3u);
}

TEST(TakeSkipTest, SkipDropsTheFirstRowsOfEachEpoch) {
  auto ds = ordered(5).skip(3);
  EXPECT_EQ(read_all(ds.iterate(2)), (std::vector<std::int64_t>{3, 4, 3, 4}));
  EXPECT_EQ(ds.get_dataset_size(), 2u);
  EXPECT_EQ(ordered(5).skip(9).get_dataset_size(), 0u);
}

TEST(FilterTest, KeepsRowsThatPassInOrder) {
  auto ds = ordered(20).filter([](const Row& r) { return r[0].item<std::int64_t>() % 3 == 0; }, {}, 2).batch(4);
  EXPECT_EQ(read_all(ds.iterate()), (std::vector<std::int64_t>{0, 3, 6, 9, 12, 15, 18}));
  EXPECT_EQ(ds.get_dataset_size(), std::nullopt);
}

TEST(MapTest, ReplacesInputColumnsInPlace) {
  auto ds = squares(4).map([](Row r) { return Row{Tensor::scalar<double>(r[0].item<std::int64_t>() + 0.5)}; }, {"square"});
  EXPECT_EQ(ds.column_names(), (std::vector<std::string>{"index", "square"}));
  auto b = ds.iterate().next();
  EXPECT_EQ((*b)["square"].dtype(), DType::f64);
  EXPECT_EQ((*b)["index"].item<std::int64_t>(), 0);
}

TEST(MapTest, DefaultsToTheFirstColumn) {
  auto ds = squares(3).map([](Row r) { return Row{Tensor::scalar<std::int64_t>(-r[0].item<std::int64_t>())}; });
  EXPECT_EQ(read_all(ds.iterate(), "index"), (std::vector<std::int64_t>{0, -1, -2}));
}

TEST(MapTest, OutputColumnsMayDifferInNumber) {
  auto split = [](Row r) {
    auto v = r[0].item<std::int64_t>();
    return Row{Tensor::scalar(v / 10), Tensor::scalar(v % 10)};
  };
  auto ds = squares(20).map(split, {"square"}, {"tens", "ones"});
  EXPECT_EQ(ds.column_names(), (std::vector<std::string>{"index", "tens", "ones"}));
  auto values = read_all(ds.take(5).iterate(), "ones");
  EXPECT_EQ(values, (std::vector<std::int64_t>{0, 1, 4, 9, 6}));
}

TEST(MapTest, AppliesAListOfOpsInOrder) {
  RowOp add_one = [](Row r) { return Row{Tensor::scalar(r[0].item<std::int64_t>() + 1)}; };
  RowOp times_ten = [](Row r) { return Row{Tensor::scalar(r[0].item<std::int64_t>() * 10)}; };
  EXPECT_EQ(read_all(ordered(3).map({add_one, times_ten}).iterate()), (std::vector<std::int64_t>{10, 20, 30}));
}

TEST(MapTest, ChainedMapsAfterABatchRunOnBatches) {
  RowOp sum = [](Row r) {
    auto v = r[0].view<std::int64_t>();
    return Row{Tensor::scalar<std::int64_t>(std::accumulate(v.begin(), v.end(), std::int64_t{0}))};
  };
  EXPECT_EQ(read_all(ordered(6).batch(3).map(sum, {}, {}, 2).iterate()), (std::vector<std::int64_t>{3, 12}));
}

TEST(MapTest, UnknownColumnIsRejectedWhenBuilt) {
  EXPECT_THROW(ordered(3).map([](Row r) { return r; }, {"nope"}), std::invalid_argument);
}

TEST(ProjectRenameTest, ProjectReordersAndDropsColumns) {
  auto ds = squares(3).project({"square"});
  EXPECT_EQ(ds.column_names(), (std::vector<std::string>{"square"}));
  EXPECT_EQ(read_all(ds.iterate(), "square"), (std::vector<std::int64_t>{0, 1, 4}));
  auto after_batch = squares(4).batch(2).project({"square", "index"});
  auto b = after_batch.iterate().next();
  EXPECT_EQ(b->column_names(), (std::vector<std::string>{"square", "index"}));
  EXPECT_EQ((*b)[0].view<std::int64_t>()(1), 1);
}

TEST(ProjectRenameTest, RenameChangesOnlyNames) {
  auto ds = squares(3).rename({"square"}, {"sq"});
  EXPECT_EQ(ds.column_names(), (std::vector<std::string>{"index", "sq"}));
  EXPECT_EQ(read_all(ds.iterate(), "sq"), (std::vector<std::int64_t>{0, 1, 4}));
  EXPECT_THROW(ds.rename({"index"}, {"sq"}), std::invalid_argument);
}

TEST(RepeatTest, RepeatsThePipelineAboveWithinAnEpoch) {
  auto ds = ordered(3).repeat(2);
  EXPECT_EQ(read_all(ds.iterate(2)), (std::vector<std::int64_t>{0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2}));
  EXPECT_EQ(ds.get_dataset_size(), 6u);
}

TEST(RepeatTest, BatchesSpanRepetitionsWhenRepeatComesFirst) {
  EXPECT_EQ(testing::batch_sizes(ordered(5).repeat(2).batch(4, true).iterate()), (std::vector<std::int64_t>{4, 4}));
  EXPECT_EQ(testing::batch_sizes(ordered(5).batch(4, true).repeat(2).iterate()), (std::vector<std::int64_t>{4, 4}));
  EXPECT_EQ(testing::batch_sizes(ordered(5).batch(4).repeat(2).iterate()), (std::vector<std::int64_t>{4, 1, 4, 1}));
}

TEST(RepeatTest, EndlessRepeatKeepsGoingAndEndsOnEmptyInput) {
  auto it = ordered(3).repeat().iterate();
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(it.next());
  EXPECT_EQ(ordered(3).repeat().get_dataset_size(), std::nullopt);
  EXPECT_TRUE(ordered(3).repeat().batch(2).endless());
  EXPECT_FALSE(ordered(0).repeat().endless());
  EXPECT_EQ(ordered(3).repeat().take(7).get_dataset_size(), 7u);
  EXPECT_FALSE(ordered(3).repeat(2).endless());
  EXPECT_TRUE(read_all(ordered(0).repeat().iterate()).empty());
}

TEST(RepeatTest, ReshufflesEachRepetition) {
  auto values = read_all(GeneratorDataset(RangeSource{50}, {"index"}, {.seed = 4}).repeat(2).iterate());
  EXPECT_NE(std::vector<std::int64_t>(values.begin(), values.begin() + 50),
            std::vector<std::int64_t>(values.begin() + 50, values.end()));
}

TEST(ZipTest, PutsRowsSideBySideAndEndsWithTheShortest) {
  auto ds = ordered(5).zip({squares(3).rename({"index", "square"}, {"i2", "sq"})});
  EXPECT_EQ(ds.column_names(), (std::vector<std::string>{"index", "i2", "sq"}));
  EXPECT_EQ(read_all(ds.iterate(2), "sq"), (std::vector<std::int64_t>{0, 1, 4, 0, 1, 4}));
  EXPECT_EQ(read_all(ds.iterate(2), "index"), (std::vector<std::int64_t>{0, 1, 2, 0, 1, 2}));
  EXPECT_EQ(ds.get_dataset_size(), 3u);
}

TEST(ZipTest, RejectsDuplicateColumnNames) { EXPECT_THROW(ordered(3).zip({ordered(3)}), std::invalid_argument); }

TEST(ConcatTest, ReadsOneDatasetAfterAnother) {
  auto ds = ordered(3).concat({ordered(2)});
  EXPECT_EQ(read_all(ds.iterate(2)), (std::vector<std::int64_t>{0, 1, 2, 0, 1, 0, 1, 2, 0, 1}));
  EXPECT_EQ(ds.get_dataset_size(), 5u);
  EXPECT_THROW(ordered(3).concat({squares(3)}), std::invalid_argument);
}

TEST(IterableSourceTest, ReadsEachPassAfterReset) {
  auto ds = GeneratorDataset(CountingStream{4}, {"index"}).map([](Row r) { return r; }, {}, {}, 2);
  EXPECT_EQ(read_all(ds.iterate(2)), (std::vector<std::int64_t>{0, 1, 2, 3, 0, 1, 2, 3}));
  EXPECT_EQ(ds.get_dataset_size(), std::nullopt);
  EXPECT_EQ(read_all(GeneratorDataset(CountingStream{9}, {"index"}, {.num_samples = 2}).iterate()),
            (std::vector<std::int64_t>{0, 1}));
}

TEST(IterableSourceTest, EachNewPipelineReadsFromTheStart) {
  auto ds = GeneratorDataset(CountingStream{3}, {"index"});
  EXPECT_EQ(read_all(ds.iterate()), (std::vector<std::int64_t>{0, 1, 2}));
  EXPECT_EQ(read_all(ds.iterate()), (std::vector<std::int64_t>{0, 1, 2}));
}

TEST(IterableSourceTest, EachBranchOfAConcatReadsItsOwnPass) {
  auto ds = GeneratorDataset(CountingStream{4}, {"index"}).map([](Row r) { return r; }, {}, {}, 2);
  EXPECT_EQ(read_all(ds.concat({ds}).iterate()), (std::vector<std::int64_t>{0, 1, 2, 3, 0, 1, 2, 3}));
}

TEST(IterableSourceTest, CannotBeShuffledOrSampled) {
  EXPECT_THROW(GeneratorDataset(CountingStream{4}, {"index"}, {.shuffle = true}), std::invalid_argument);
  EXPECT_THROW(GeneratorDataset(CountingStream{4}, {"index"}, {.num_shards = 2, .shard_id = 0}), std::invalid_argument);
}

TEST(DatasetSizeTest, FollowsSamplerOptions) {
  EXPECT_EQ(GeneratorDataset(RangeSource{10}, {"index"}, {.num_samples = 4}).get_dataset_size(), 4u);
  EXPECT_EQ(GeneratorDataset(RangeSource{10}, {"index"}, {.num_shards = 3, .shard_id = 0}).get_dataset_size(), 4u);
  EXPECT_EQ(ordered(10).batch(3).get_dataset_size(), 4u);
  EXPECT_EQ(ordered(10).batch(3, true).get_dataset_size(), 3u);
}

TEST(OutputSpecTest, ReportsShapesAndTypesOfTheFirstOutput) {
  auto ds = squares(10).map([](Row) { return Row{Tensor::zeros(DType::f32, {3, 2})}; }, {"square"}).batch(4);
  EXPECT_EQ(ds.output_shapes(), (std::vector<Shape>{{4}, {4, 3, 2}}));
  EXPECT_EQ(ds.output_types(), (std::vector<DType>{DType::i64, DType::f32}));
}

TEST(OptionsTest, ConflictingOptionsAreRejectedWhenBuilt) {
  auto sampler = std::make_shared<SequentialSampler>();
  EXPECT_THROW(GeneratorDataset(RangeSource{3}, {"index"}, {.shuffle = true, .sampler = sampler}), std::invalid_argument);
  EXPECT_THROW(GeneratorDataset(RangeSource{3}, {"index"}, {.num_shards = 2}), std::invalid_argument);
  EXPECT_THROW(GeneratorDataset(RangeSource{3}, {"index"}, {.num_shards = 2, .shard_id = 2}), std::invalid_argument);
  EXPECT_THROW(ordered(3).batch(0), std::invalid_argument);
  EXPECT_THROW(ordered(3).shuffle(1), std::invalid_argument);
}

}  // namespace
}  // namespace conveyor
