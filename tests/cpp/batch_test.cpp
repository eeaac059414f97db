// The batch stage: sizes at epoch ends, collation contents, padding and shape errors.
#include <gtest/gtest.h>

#include <numeric>
#include <set>
#include <tuple>

#include "common/pipelines.hpp"

namespace conveyor {
namespace {

using testing::batch_sizes;
using testing::RangeSource;
using testing::read_all;

class BatchTest : public ::testing::TestWithParam<std::tuple<std::size_t, std::size_t, bool>> {};

TEST_P(BatchTest, EmitsFullBatchesAndTheRemainderUnlessDropped) {
  auto [workers, batch, drop] = GetParam();
  const std::size_t n = 103;
  auto ds = GeneratorDataset(RangeSource{n}, {"index"}, {.shuffle = false, .num_parallel_workers = workers})
                .batch(batch, drop);
  auto sizes = batch_sizes(ds.iterate(2));
  std::vector<std::int64_t> epoch(n / batch, static_cast<std::int64_t>(batch));
  if (!drop && n % batch) epoch.push_back(static_cast<std::int64_t>(n % batch));
  std::vector<std::int64_t> expected = epoch;
  expected.insert(expected.end(), epoch.begin(), epoch.end());
  EXPECT_EQ(sizes, expected);
  EXPECT_EQ(ds.get_dataset_size(), epoch.size());
}

TEST_P(BatchTest, KeepsTheSamplersOrderInsideBatches) {
  auto [workers, batch, drop] = GetParam();
  auto ds = GeneratorDataset(RangeSource{50}, {"index"}, {.shuffle = false, .num_parallel_workers = workers})
                .batch(batch, drop);
  auto values = read_all(ds.iterate());
  std::vector<std::int64_t> expected(drop ? 50 / batch * batch : 50);
  std::iota(expected.begin(), expected.end(), 0);
  EXPECT_EQ(values, expected);
}

INSTANTIATE_TEST_SUITE_P(WorkersBatchSizesDrop, BatchTest,
                         ::testing::Combine(::testing::Values(1u, 2u, 8u), ::testing::Values(1u, 7u, 64u, 200u),
                                            ::testing::Bool()));

TEST(BatchCollationTest, StacksEachColumnIntoOneContiguousTensor) {
  auto source = function_source(10, [](std::size_t i) {
    auto image = Tensor::empty(DType::f32, {2, 3});
    image.view<float>().fill(static_cast<float>(i));
    return Row{image, Tensor::scalar<std::int32_t>(static_cast<std::int32_t>(i))};
  });
  auto it = GeneratorDataset(source, {"image", "label"}, {.shuffle = false}).batch(4).iterate();
  auto b = it.next();
  ASSERT_TRUE(b);
  const Tensor& images = (*b)["image"];
  EXPECT_EQ(images.shape(), (Shape{4, 2, 3}));
  EXPECT_EQ(images.dtype(), DType::f32);
  EXPECT_TRUE(images.is_contiguous());
  auto v = images.view<float>();
  for (std::size_t i = 0; i < 4; ++i)
    for (std::size_t j = 0; j < 6; ++j) EXPECT_EQ(v.flat(i * 6 + j), static_cast<float>(i));
  EXPECT_EQ((*b)["label"].shape(), (Shape{4}));
}

TEST(BatchCollationTest, CopiesNonContiguousRowsInCOrder) {
  auto source = function_source(2, [](std::size_t) {
    auto m = Tensor::empty(DType::i64, {2, 3});
    auto v = m.view<std::int64_t>();
    std::iota(v.begin(), v.end(), 0);
    return Row{m.transpose()};  // {3, 2}: 0 3 / 1 4 / 2 5
  });
  auto b = GeneratorDataset(source, {"m"}, {.shuffle = false}).batch(2).iterate().next();
  auto v = (*b)["m"].view<std::int64_t>();
  std::vector<std::int64_t> first(v.begin(), v.begin() + 6);
  EXPECT_EQ(first, (std::vector<std::int64_t>{0, 3, 1, 4, 2, 5}));
}

TEST(BatchCollationTest, ReusesBufferOnceTheConsumerLetsGo) {
  for (std::size_t workers : {1u, 2u}) {
    auto it = GeneratorDataset(RangeSource{4096}, {"index"}, {.shuffle = false, .num_parallel_workers = workers})
                  .batch(64)
                  .iterate();
    std::set<const std::byte*> buffers;
    while (auto b = it.next()) buffers.insert((*b)["index"].data());
    // 64 batches went through, but only a prefetch's worth of buffers ever existed; with several
    // fetch workers, each chunk in flight (2 x workers + 2 of them) is laid out in its own, and
    // a buffer freed past the pool's idle limit may come back at another address.
    const std::size_t in_flight = workers > 1 ? 2 * workers + 2 : 0;
    EXPECT_LE(buffers.size(), config().prefetch_size + 2 * in_flight + 4) << workers << " workers";
  }
}

TEST(BatchCollationTest, MismatchedShapesNameColumnBatchAndBothShapes) {
  auto source = function_source(8, [](std::size_t i) { return Row{Tensor::zeros(DType::u8, {i == 5 ? 3 : 2})}; });
  auto it = GeneratorDataset(source, {"pixels"}, {.shuffle = false}).batch(4).iterate();
  ASSERT_TRUE(it.next());
  try {
    it.next();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.stage(), "batch");
    EXPECT_EQ(e.batch(), 1u);
    EXPECT_EQ(e.sample(), std::nullopt);
    std::string what = e.what();
    EXPECT_NE(what.find("batch failed on batch 1: "), std::string::npos) << what;
    EXPECT_NE(what.find("'pixels'"), std::string::npos) << what;
    EXPECT_NE(what.find("(2,)"), std::string::npos) << what;
    EXPECT_NE(what.find("(3,)"), std::string::npos) << what;
    EXPECT_NE(what.find("sample 5"), std::string::npos) << what;
  }
}

// Rows of `extent` uint8 that take one byte of memory: views of a single zero, every stride 0.
std::shared_ptr<RandomAccessSource> broadcast_rows(std::int64_t extent) {
  return function_source(4, [extent](std::size_t) {
    auto zero = Tensor::zeros(DType::u8, {1});
    return Row{Tensor::from_memory(zero.data(), DType::u8, {extent}, {0}, zero.owner())};
  });
}

class BatchTooLargeTest : public ::testing::TestWithParam<std::tuple<std::int64_t, std::int64_t, std::string>> {};

TEST_P(BatchTooLargeTest, IsABadAllocNamingTheBatchAndWhatItNeeded) {
  auto [row_extent, pad_extent, says] = GetParam();
  BatchOptions options;
  if (pad_extent) options.pad_info["x"] = PadInfo{{pad_extent}, 0};
  auto it = GeneratorDataset(broadcast_rows(row_extent), {"x"}, {.shuffle = false}).batch(4, false, options).iterate();
  try {
    it.next();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.stage(), "batch");
    EXPECT_EQ(e.batch(), 0u);
    std::string what = e.what();
    EXPECT_NE(what.find("a batch of 4 rows of uint8"), std::string::npos) << what;
    EXPECT_NE(what.find(says), std::string::npos) << what;
    EXPECT_THROW(std::rethrow_exception(e.cause()), std::bad_alloc);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Sizes, BatchTooLargeTest,
    ::testing::Values(std::make_tuple(std::int64_t{1} << 61, 0, "needs 9223372036854775808 bytes, more than"),
                      std::make_tuple(std::int64_t{1} << 62, 0, "needs more bytes than memory can address"),
                      std::make_tuple(1, std::int64_t{1} << 62, "needs more bytes than memory can address")));

TEST(BatchCollationTest, PadsColumnsGivenPadInfoToTheLargestRow) {
  auto source = function_source(3, [](std::size_t i) {
    auto t = Tensor::empty(DType::i32, {static_cast<std::int64_t>(i + 1)});
    t.view<std::int32_t>().fill(7);
    return Row{t};
  });
  BatchOptions options;
  options.pad_info["tokens"] = PadInfo{{-1}, -1};
  auto b = GeneratorDataset(source, {"tokens"}, {.shuffle = false}).batch(3, false, options).iterate().next();
  const Tensor& t = (*b)["tokens"];
  ASSERT_EQ(t.shape(), (Shape{3, 3}));
  auto v = t.view<std::int32_t>();
  std::vector<std::int32_t> values(v.begin(), v.end());
  EXPECT_EQ(values, (std::vector<std::int32_t>{7, -1, -1, 7, 7, -1, 7, 7, 7}));
}

TEST(BatchCollationTest, PerBatchMapTransformsTheRowsBeforeCollation) {
  BatchOptions options;
  options.per_batch_map = [](std::vector<Row> rows, const BatchInfo& info) {
    // Rows of different lengths are padded here, as MindSpore users do, then tagged.
    std::vector<Row> out;
    for (const Row& r : rows) {
      auto padded = Tensor::zeros(DType::i64, {3});
      auto v = padded.view<std::int64_t>();
      for (std::int64_t i = 0; i < r[0].shape()[0]; ++i) v(i) = r[0].view<std::int64_t>()(i);
      out.push_back({padded, Tensor::scalar<std::int64_t>(static_cast<std::int64_t>(info.batch_num * 10 + info.epoch_num))});
    }
    return out;
  };
  options.output_columns = {"padded", "tag"};
  auto source = function_source(4, [](std::size_t i) {
    auto t = Tensor::empty(DType::i64, {static_cast<std::int64_t>(i % 3 + 1)});
    t.view<std::int64_t>().fill(static_cast<std::int64_t>(i + 1));
    return Row{t};
  });
  auto ds = GeneratorDataset(source, {"seq"}, {.shuffle = false}).batch(2, false, options);
  EXPECT_EQ(ds.column_names(), (std::vector<std::string>{"padded", "tag"}));
  EXPECT_EQ(read_all(ds.iterate(2), "padded"),
            (std::vector<std::int64_t>{1, 0, 0, 2, 2, 0, 3, 3, 3, 4, 0, 0, 1, 0, 0, 2, 2, 0, 3, 3, 3, 4, 0, 0}));
  EXPECT_EQ(read_all(ds.iterate(2), "tag"), (std::vector<std::int64_t>{0, 0, 10, 10, 1, 1, 11, 11}));
}

TEST(BatchCollationTest, BytesColumnsOfEqualLengthStack) {
  auto source = function_source(4, [](std::size_t i) { return Row{Tensor::bytes(std::string(3, char('a' + i)))}; });
  auto b = GeneratorDataset(source, {"blob"}, {.shuffle = false}).batch(4).iterate().next();
  EXPECT_EQ((*b)["blob"].shape(), (Shape{4, 3}));
  EXPECT_EQ((*b)["blob"][2].text(), "ccc");
}

}  // namespace
}  // namespace conveyor
