// SlotOp: a map's last op that writes each row's output straight into its place in the batch
// when the map's rows go into a batch one for one; elsewhere an ordinary op with the same output.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <optional>
#include <set>

#include "common/pipelines.hpp"

namespace conveyor {
namespace {

using testing::RangeSource;

/// Maps int64 i to float64 {i, 2i}; counts layout() calls, remembers where each output was
/// written, and can refuse a sample in layout() or in write().
struct Pairs {
  std::optional<std::int64_t> bad_layout{};
  std::optional<std::int64_t> bad_write{};
  std::shared_ptr<std::mutex> mutex = std::make_shared<std::mutex>();
  std::shared_ptr<std::set<const std::byte*>> written = std::make_shared<std::set<const std::byte*>>();
  std::shared_ptr<std::atomic<int>> layouts = std::make_shared<std::atomic<int>>(0);

  SlotOp op() const {
    auto self = *this;
    return {[self](const Tensor& in) {
              ++*self.layouts;
              if (in.dtype() != DType::i64 || in.ndim() != 0) throw std::invalid_argument("wants an int64 scalar");
              if (in.item<std::int64_t>() == self.bad_layout) throw std::invalid_argument("refused in layout");
              return SlotLayout{DType::f64, {2}};
            },
            [self](const Tensor& in, std::byte* slot) {
              const auto i = in.item<std::int64_t>();
              if (i == self.bad_write) throw std::runtime_error("refused in write");
              auto* out = reinterpret_cast<double*>(slot);
              out[0] = static_cast<double>(i);
              out[1] = 2.0 * static_cast<double>(i);
              std::lock_guard lock(*self.mutex);
              self.written->insert(slot);
            }};
  }
};

Dataset pairs_of(std::size_t n, const Pairs& pairs, std::size_t workers = 2) {
  return GeneratorDataset(RangeSource{n}, {"index"}, {.shuffle = false, .num_parallel_workers = workers})
      .map(std::vector<ContextOp>{pairs.op()}, {"index"}, {"pair"});
}

std::vector<double> expected_pairs(std::size_t n) {
  std::vector<double> out;
  for (std::size_t i = 0; i < n; ++i) out.insert(out.end(), {double(i), 2.0 * double(i)});
  return out;
}

TEST(SlotOpTest, ABatchRightAfterTheMapHasEachRowWrittenIntoItsSlot) {
  Pairs pairs;
  auto it = pairs_of(10, pairs).batch(4).iterate();
  std::vector<Batch> batches;
  while (auto b = it.next()) batches.push_back(*b);  // held, so that no buffer is reused
  ASSERT_EQ(batches.size(), 3u);
  std::vector<double> got;
  std::set<const std::byte*> slots;
  for (const Batch& b : batches) {
    const Tensor& t = b["pair"];
    EXPECT_EQ(t.dtype(), DType::f64);
    EXPECT_EQ(t.shape()[1], 2);
    auto v = t.view<double>();
    got.insert(got.end(), v.begin(), v.end());
    for (std::int64_t row = 0; row < t.shape()[0]; ++row) slots.insert(t.data() + row * 2 * sizeof(double));
  }
  EXPECT_EQ(got, expected_pairs(10));
  EXPECT_EQ(*pairs.written, slots);  // every output went straight into the batch, nowhere else
  EXPECT_EQ(*pairs.layouts, 10);     // once per row, before its write
}

TEST(SlotOpTest, RunsAsAnOrdinaryOpWhereTheBatchCannotRunIt) {
  const auto reference = expected_pairs(30);
  std::vector<std::function<Dataset(const Pairs&)>> pipelines = {
      [](const Pairs& p) { return pairs_of(30, p); },                          // no batch
      [](const Pairs& p) { return pairs_of(30, p, 1).batch(4); },              // one worker
      [](const Pairs& p) { return pairs_of(30, p).take(30).batch(4); },        // a stage in between
      [](const Pairs& p) { return pairs_of(30, p).batch(4, false, {.pad_info = {{"pair", {}}}}); },
      [](const Pairs& p) {
        return pairs_of(30, p).batch(4, false, {.per_batch_map = [](std::vector<Row> rows, const BatchInfo&) {
                                                  return rows;
                                                }});
      }};
  for (const auto& make : pipelines) {
    Pairs pairs;
    auto it = make(pairs).iterate();
    std::vector<double> got;
    while (auto b = it.next()) {
      Tensor t = (*b)["pair"].contiguous();
      auto v = t.view<double>();
      got.insert(got.end(), v.begin(), v.end());
    }
    EXPECT_EQ(got, reference);
    EXPECT_EQ(*pairs.layouts, 30);  // once per row, by the map stage alone
  }
}

TEST(SlotOpTest, AnInputItRefusesFailsInTheMapStageNamingTheSample) {
  Pairs pairs{.bad_layout = 5};
  auto it = pairs_of(10, pairs).batch(4).iterate();
  try {
    while (it.next()) {
    }
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.stage(), "map[0]");
    EXPECT_EQ(e.sample(), 5u);
    EXPECT_NE(std::string(e.what()).find("refused in layout"), std::string::npos) << e.what();
  }
}

TEST(SlotOpTest, AWriteThatFailsNamesTheMapAndTheSample) {
  for (std::size_t workers : {1u, 2u}) {
    Pairs pairs{.bad_write = 6};
    auto it = pairs_of(10, pairs, workers).batch(4).iterate();
    try {
      while (it.next()) {
      }
      FAIL() << "no error";
    } catch (const Error& e) {
      EXPECT_EQ(e.stage(), "map[0]");
      EXPECT_EQ(e.sample(), 6u);
      EXPECT_NE(std::string(e.what()).find("refused in write"), std::string::npos) << e.what();
    }
  }
}

TEST(SlotOpTest, RowsOfDifferentLayoutsInOneBatchAreABatchError) {
  SlotOp growing{[](const Tensor& in) { return SlotLayout{DType::f32, {1 + in.item<std::int64_t>() / 3}}; },
                 [](const Tensor& in, std::byte* slot) {
                   std::fill_n(reinterpret_cast<float*>(slot), 1 + in.item<std::int64_t>() / 3, 1.0f);
                 }};
  auto it = GeneratorDataset(RangeSource{10}, {"index"}, {.shuffle = false})
                .map(std::vector<ContextOp>{growing}, {"index"})
                .batch(4)
                .iterate();
  try {
    while (it.next()) {
    }
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.stage(), "batch");
    EXPECT_EQ(e.batch(), 0u);
    EXPECT_NE(std::string(e.what()).find("column 'index' has shape (1,) in sample 0 but (2,) in sample 3"),
              std::string::npos)
        << e.what();
  }
}

TEST(SlotOpTest, TheOrdinaryPathRefusesARowOfSeveralColumns) {
  Pairs pairs;
  auto it = GeneratorDataset(function_source(4, [](std::size_t i) {
                               return Row{Tensor::scalar<std::int64_t>(std::int64_t(i)),
                                          Tensor::scalar<std::int64_t>(std::int64_t(i))};
                             }),
                             {"a", "b"}, {.shuffle = false})
                .map(std::vector<ContextOp>{pairs.op()}, {"a", "b"}, {"pair"})
                .iterate();
  EXPECT_THROW(it.next(), Error);
}

}  // namespace
}  // namespace conveyor
