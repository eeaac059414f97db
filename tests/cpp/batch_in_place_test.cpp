// Batches taken as their rows lie: rows back to back in memory that only they hold (as a source
// that lays a chunk's rows out makes, and SourceHints::rows_laid_out has it read a batch per
// call) are the batch; the rows of other sources are placed in the batch by a fetch stage of
// several workers as they are read, and never alias memory the source keeps.
#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <map>
#include <mutex>
#include <stdexcept>
#include <tuple>

#include "common/pipelines.hpp"

namespace conveyor {
namespace {

using testing::read_all;

// Lays each chunk's rows out back to back in one buffer, as worker processes do: an int64 "index"
// column and an f32 {2} "pair" column, each column's rows contiguous. Row `apart`, when set, gets
// a buffer of its own. Records each chunk's size and the buffer its first row lies in.
class Chunks final : public RandomAccessSource {
 public:
  Chunks(std::size_t n, std::size_t block, bool in_place, std::optional<std::uint64_t> apart = std::nullopt)
      : n_(n), block_(block), in_place_(in_place), apart_(apart) {}
  std::size_t size() const override { return n_; }
  Row read(std::size_t, std::uint64_t) const override { throw std::logic_error("the engine calls read_many()"); }
  void read_many(std::span<const std::uint64_t> indices, std::uint64_t, std::span<Row> rows,
                 std::span<std::exception_ptr>, std::stop_token) const override {
    const auto n = static_cast<std::int64_t>(indices.size());
    Tensor index = Tensor::empty(DType::i64, {n});
    Tensor pair = Tensor::empty(DType::f32, {n, 2});
    for (std::int64_t i = 0; i < n; ++i) {
      const auto value = static_cast<std::int64_t>(indices[static_cast<std::size_t>(i)]);
      index.view<std::int64_t>()(i) = value;
      pair.view<float>()(i, 0) = static_cast<float>(value);
      pair.view<float>()(i, 1) = static_cast<float>(-value);
      rows[static_cast<std::size_t>(i)] = {index[i], pair[i]};
      if (indices[static_cast<std::size_t>(i)] == apart_) {
        for (Tensor& column : rows[static_cast<std::size_t>(i)]) column = column.clone();
      }
    }
    std::lock_guard lock(mutex_);
    sizes_.push_back(indices.size());
    buffers_[indices[0]] = index.data();
  }
  SourceHints hints() const noexcept override { return {.block = block_, .rows_laid_out = in_place_}; }

  std::vector<std::size_t> chunk_sizes() const {
    std::lock_guard lock(mutex_);
    auto sorted = sizes_;
    std::sort(sorted.begin(), sorted.end());
    return sorted;
  }
  // The buffer of the chunk that starts at `index`, or null.
  const std::byte* buffer(std::uint64_t index) const {
    std::lock_guard lock(mutex_);
    auto it = buffers_.find(index);
    return it == buffers_.end() ? nullptr : it->second;
  }

 private:
  std::size_t n_, block_;
  bool in_place_;
  std::optional<std::uint64_t> apart_;
  mutable std::mutex mutex_;
  mutable std::vector<std::size_t> sizes_;
  mutable std::map<std::uint64_t, const std::byte*> buffers_;
};

// Whether each batch's "index" column is the buffer of the chunk its first row starts, and
// every value read, in order.
struct Read {
  std::vector<bool> in_place;
  std::vector<std::int64_t> values;
};

Read read(const Chunks& source, Iterator it) {
  Read out;
  while (auto batch = it.next()) {
    const Tensor& index = (*batch)["index"];
    const Tensor& pair = (*batch)["pair"];
    const auto first = index.view<std::int64_t>()(0);
    out.in_place.push_back(index.data() == source.buffer(static_cast<std::uint64_t>(first)));
    for (std::int64_t i = 0; i < index.shape()[0]; ++i) {
      const auto value = index.view<std::int64_t>()(i);
      EXPECT_EQ(pair.view<float>()(i, 1), static_cast<float>(-value)) << "row " << value;
      out.values.push_back(value);
    }
  }
  return out;
}

Dataset over(std::shared_ptr<Chunks> source, std::size_t workers = 2) {
  return GeneratorDataset(std::move(source), {"index", "pair"}, {.shuffle = false, .num_parallel_workers = workers});
}

std::vector<std::int64_t> first(std::int64_t n) {
  std::vector<std::int64_t> values(static_cast<std::size_t>(n));
  std::iota(values.begin(), values.end(), 0);
  return values;
}

TEST(BatchInPlaceTest, ABatchOfRowsLyingBackToBackIsTheirBufferReadABatchAtATime) {
  for (std::size_t workers : {1u, 3u}) {
    auto source = std::make_shared<Chunks>(40, 4, true);
    const Read got = read(*source, over(source, workers).batch(8).iterate());
    EXPECT_EQ(got.values, first(40));
    EXPECT_EQ(got.in_place, std::vector<bool>(5, true)) << workers << " workers";
    EXPECT_EQ(source->chunk_sizes(), std::vector<std::size_t>(5, 8));
  }
}

TEST(BatchInPlaceTest, RowsOfASourceThatDoesNotLayThemOutArePlacedByTheFetchStage) {
  auto source = std::make_shared<Chunks>(16, 8, false);
  const Read got = read(*source, over(source).batch(8).iterate());
  EXPECT_EQ(got.values, first(16));
  EXPECT_EQ(got.in_place, std::vector<bool>(2, false));
}

TEST(BatchInPlaceTest, RowsOfASourceThatDoesNotSayItLaysThemOutAreCopiedByOneWorker) {
  auto source = std::make_shared<Chunks>(16, 8, false);  // a read of 8 rows lays them out
  const Read got = read(*source, over(source, 1).batch(8).iterate());
  EXPECT_EQ(got.values, first(16));
  EXPECT_EQ(got.in_place, std::vector<bool>(2, false));
}

// Row i: a view of element i of an array the source keeps, under an owner that does not keep it
// alive (as memory a source maps, or a Python array does): nothing in the owner says it is shared.
struct Borrowed {
  std::shared_ptr<std::vector<float>> data = std::make_shared<std::vector<float>>(33, 1.0f);
  std::size_t size() const { return data->size(); }
  Row get(std::size_t i) const {
    return {Tensor::from_memory(data->data() + i, DType::f32, {}, {}, std::shared_ptr<void>(data->data() + i, [](void*) {}))};
  }
  bool aliased_by(const Tensor& batch) const {
    const auto* begin = reinterpret_cast<const std::byte*>(data->data());
    return batch.data() >= begin && batch.data() < begin + data->size() * sizeof(float);
  }
};

TEST(BatchInPlaceTest, ABatchNeverAliasesMemoryTheSourceKeepsWhateverItsOwner) {
  const Borrowed source;
  for (std::size_t workers : {1u, 2u})
    for (std::size_t batch : {1u, 32u}) {  // 32: a last batch of one row
      auto it = GeneratorDataset(source, {"x"}, {.shuffle = false, .num_parallel_workers = workers})
                    .batch(batch)
                    .iterate();
      while (auto b = it.next())
        EXPECT_FALSE(source.aliased_by((*b)["x"])) << workers << " workers, batch " << batch;
    }
}

TEST(BatchInPlaceTest, RowsThatDoNotLieBackToBackAreCopied) {
  auto source = std::make_shared<Chunks>(24, 4, true, 11);  // row 11 lies apart: batch 1 is copied
  const Read got = read(*source, over(source).batch(8).iterate());
  EXPECT_EQ(got.values, first(24));
  EXPECT_EQ(got.in_place, (std::vector<bool>{true, false, true}));
}

TEST(BatchInPlaceTest, ABatchSizeThatIsNotAMultipleOfTheBlockKeepsTheBlockAndCopies) {
  auto source = std::make_shared<Chunks>(12, 4, true);
  const Read got = read(*source, over(source).batch(6).iterate());
  EXPECT_EQ(got.values, first(12));
  EXPECT_EQ(got.in_place, (std::vector<bool>{false, false}));  // each spans two chunks
  EXPECT_EQ(source->chunk_sizes(), std::vector<std::size_t>(3, 4));
}

TEST(BatchInPlaceTest, AShortLastBatchIsInPlaceAndADroppedOneIsNotRead) {
  auto source = std::make_shared<Chunks>(20, 4, true);
  Read got = read(*source, over(source).batch(8).iterate());
  EXPECT_EQ(got.values, first(20));
  EXPECT_EQ(got.in_place, std::vector<bool>(3, true));
  auto dropped = std::make_shared<Chunks>(20, 4, true);
  got = read(*dropped, over(dropped).batch(8, true).iterate());
  EXPECT_EQ(got.values, first(16));
  EXPECT_EQ(dropped->chunk_sizes(), std::vector<std::size_t>(2, 8));
}

TEST(BatchInPlaceTest, AMapBetweenTheSourceAndTheBatchCopiesEvenRowsItPassesOnUnchanged) {
  auto mapped = std::make_shared<Chunks>(16, 4, true);
  RowOp same = [](Row row) { return row; };  // passes the source's tensors on unchanged
  Read got = read(*mapped, over(mapped).map(same, {"index"}).batch(8).iterate());
  EXPECT_EQ(got.values, first(16));
  EXPECT_EQ(got.in_place, std::vector<bool>(2, false));
  EXPECT_EQ(mapped->chunk_sizes(), std::vector<std::size_t>(4, 4));
}

TEST(BatchInPlaceTest, APaddedColumnIsCopiedAndTheOthersAreNot) {
  auto source = std::make_shared<Chunks>(8, 4, true);
  auto it = over(source).batch(8, false, {.pad_info = {{"pair", PadInfo{{3}, 7}}}}).iterate();
  auto batch = it.next();
  ASSERT_TRUE(batch);
  EXPECT_EQ((*batch)["index"].data(), source->buffer(0));
  const Tensor& pair = (*batch)["pair"];
  EXPECT_EQ(pair.shape(), (Shape{8, 3}));
  EXPECT_EQ(pair.view<float>()(5, 1), -5.0f);
  EXPECT_EQ(pair.view<float>()(5, 2), 7.0f);
}

TEST(BatchInPlaceTest, AProjectionOrRenameKeepsTheBatchInPlace) {
  auto source = std::make_shared<Chunks>(16, 4, true);
  auto it = over(source).rename({"index", "pair"}, {"index", "twin"}).project({"twin", "index"}).batch(8).iterate();
  auto batch = it.next();
  ASSERT_TRUE(batch);
  EXPECT_EQ((*batch)["index"].data(), source->buffer(0));
  while (it.next()) {
  }
  EXPECT_EQ(source->chunk_sizes(), std::vector<std::size_t>(2, 8));  // once the epoch is read
}

TEST(BatchInPlaceTest, SeveralFetchWorkersLayOutTheBatchesOfASourceThatDoesNotNeverAliasingIt) {
  auto source = std::make_shared<Chunks>(72, 0, false);
  const Read got = read(*source, over(source, 2).batch(32).iterate());
  EXPECT_EQ(got.values, first(72));
  EXPECT_EQ(got.in_place, std::vector<bool>(3, false));  // copies, never the source's own memory
  // Read 16 rows at a time at most, so that each piece is placed while in cache.
  for (std::size_t size : source->chunk_sizes()) EXPECT_LE(size, 16u);
}

// Row i: a 4x4 f32 "image" of i (of shape {3} for row `odd`, when set) and the int64 "index" i.
struct Filled {
  std::size_t n;
  std::optional<std::size_t> odd;
  std::size_t size() const { return n; }
  Row get(std::size_t i) const {
    Tensor image = Tensor::empty(DType::f32, i == odd ? Shape{3} : Shape{4, 4});
    for (std::int64_t k = 0; k < image.numel(); ++k) reinterpret_cast<float*>(image.data())[k] = static_cast<float>(i);
    return {std::move(image), Tensor::scalar<std::int64_t>(static_cast<std::int64_t>(i))};
  }
};

TEST(BatchInPlaceTest, BatchesLaidOutByTheFetchStageAreThoseOfOneWorkerAndStayWhileHeld) {
  auto batches = [](std::size_t workers) {
    auto it = GeneratorDataset(Filled{200, std::nullopt}, {"image", "index"},
                               {.shuffle = true, .seed = 3, .num_parallel_workers = workers})
                  .batch(32)
                  .iterate();
    std::vector<Batch> kept;  // all held at once: no buffer may be reused under a live batch
    while (auto batch = it.next()) kept.push_back(std::move(*batch));
    return kept;
  };
  const std::vector<Batch> one = batches(1), two = batches(2);
  ASSERT_EQ(two.size(), 7u);
  std::vector<std::int64_t> seen;
  for (std::size_t b = 0; b < two.size(); ++b) {
    const Tensor& image = two[b]["image"];
    const Tensor& index = two[b]["index"];
    ASSERT_EQ(image.shape(), (Shape{index.shape()[0], 4, 4}));
    for (std::int64_t i = 0; i < index.shape()[0]; ++i) {
      const auto value = index.view<std::int64_t>()(i);
      EXPECT_EQ(index.view<std::int64_t>()(i), one[b]["index"].view<std::int64_t>()(i)) << "batch " << b;
      EXPECT_EQ(image.view<float>()(i, 3, 3), static_cast<float>(value)) << "batch " << b << " row " << i;
      seen.push_back(value);
    }
  }
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, first(200));
}

TEST(BatchInPlaceTest, ARowOfAnotherShapeInALaidOutChunkIsTheBatchStagesErrorNamingIt) {
  auto it = GeneratorDataset(Filled{64, 37}, {"image", "index"}, {.shuffle = false, .num_parallel_workers = 2})
                .batch(32)
                .iterate();
  ASSERT_TRUE(it.next());
  try {
    it.next();
    FAIL() << "a batch of rows of two shapes";
  } catch (const Error& e) {
    EXPECT_EQ(e.stage(), "batch");
    const std::string what = e.what();
    EXPECT_NE(what.find("column 'image' has shape (4, 4) in sample 32 but (3,) in sample 37"), std::string::npos)
        << what;
  }
}

// Lays out each read's rows in one buffer for both columns, as a worker process's slot holds
// them: {n} int64 indices, then {n} int64 negated indices.
class OneBuffer final : public RandomAccessSource {
 public:
  std::size_t size() const override { return 16; }
  Row read(std::size_t, std::uint64_t) const override { throw std::logic_error("the engine calls read_many()"); }
  void read_many(std::span<const std::uint64_t> indices, std::uint64_t, std::span<Row> rows,
                 std::span<std::exception_ptr>, std::stop_token) const override {
    const auto n = static_cast<std::int64_t>(indices.size());
    Tensor both = Tensor::empty(DType::i64, {2, n});
    for (std::int64_t i = 0; i < n; ++i) {
      const auto value = static_cast<std::int64_t>(indices[static_cast<std::size_t>(i)]);
      both.view<std::int64_t>()(0, i) = value;
      both.view<std::int64_t>()(1, i) = -value;
      rows[static_cast<std::size_t>(i)] = {both[0][i], both[1][i]};
    }
  }
  SourceHints hints() const noexcept override { return {.block = 8, .rows_laid_out = true}; }
};

TEST(BatchInPlaceTest, ColumnsLaidOutInOneBufferAreAllTheBatch) {
  auto it = GeneratorDataset(std::make_shared<OneBuffer>(), {"index", "negated"},
                             {.shuffle = false, .num_parallel_workers = 2})
                .batch(8)
                .iterate();
  while (auto batch = it.next()) {
    const Tensor& index = (*batch)["index"];
    const Tensor& negated = (*batch)["negated"];
    EXPECT_EQ(index.owner(), negated.owner()) << "both columns are views of the source's buffer";
    EXPECT_EQ(negated.data(), index.data() + 8 * sizeof(std::int64_t));
    for (std::int64_t i = 0; i < 8; ++i) EXPECT_EQ(negated.view<std::int64_t>()(i), -index.view<std::int64_t>()(i));
  }
}

// Row i: row i of one {n, 4} f32 tensor, a view of the source's own data (which a batch must
// never alias).
struct Slices {
  Tensor data;
  explicit Slices(std::int64_t n) : data(Tensor::zeros(DType::f32, {n, 4})) {}
  std::size_t size() const { return static_cast<std::size_t>(data.shape()[0]); }
  Row get(std::size_t i) const { return {data[static_cast<std::int64_t>(i)]}; }
  bool aliased_by(const Tensor& batch) const {
    return batch.data() >= data.data() && batch.data() < data.data() + data.nbytes();
  }
};

TEST(BatchInPlaceTest, RowsThatAreViewsOfTheSourcesOwnDataAreNeverTheBatchEvenLyingBackToBack) {
  const Slices source(1024);
  const Config saved = config();
  for (const auto& [batch, mode, workers] : {std::tuple{32ul, ErrorSamplesMode::raise, 2ul},  // placed
                                             std::tuple{512ul, ErrorSamplesMode::raise, 2ul},  // placed
                                             std::tuple{32ul, ErrorSamplesMode::raise, 1ul},  // copied
                                             std::tuple{32ul, ErrorSamplesMode::replace, 2ul}}) {  // copied
    Config c = saved;
    c.error_samples_mode = mode;
    set_config(c);
    auto it = GeneratorDataset(source, {"x"}, {.shuffle = false, .num_parallel_workers = workers})
                  .batch(batch)
                  .iterate();
    std::size_t batches = 0;
    while (auto b = it.next()) {
      EXPECT_FALSE(source.aliased_by((*b)["x"])) << "batch " << batches << " of " << batch;
      ++batches;
    }
    EXPECT_EQ(batches, 1024 / batch);
  }
  set_config(saved);
}

// Chunks whose read_many throws for the piece holding row `bad`.
class ThrowsForAPiece final : public RandomAccessSource {
 public:
  explicit ThrowsForAPiece(std::uint64_t bad) : bad_(bad) {}
  std::size_t size() const override { return 64; }
  Row read(std::size_t, std::uint64_t) const override { throw std::logic_error("the engine calls read_many()"); }
  void read_many(std::span<const std::uint64_t> indices, std::uint64_t, std::span<Row> rows,
                 std::span<std::exception_ptr>, std::stop_token) const override {
    for (std::size_t i = 0; i < indices.size(); ++i) {
      if (indices[i] == bad_) throw std::runtime_error("the store is down");
      rows[i] = {Tensor::scalar<std::int64_t>(static_cast<std::int64_t>(indices[i]))};
    }
  }

 private:
  std::uint64_t bad_;
};

TEST(BatchInPlaceTest, AFetchThatThrowsFailsOnlyItsPieceOfALaidOutChunk) {
  const Config saved = config();
  Config c = saved;
  c.error_samples_mode = ErrorSamplesMode::skip;
  set_config(c);
  auto values = read_all(GeneratorDataset(std::make_shared<ThrowsForAPiece>(20), {"index"},
                                          {.shuffle = false, .num_parallel_workers = 2})
                             .batch(32)
                             .iterate());
  set_config(saved);
  // The rows of the piece holding row 20 fail (at most 16, and only around it); all others are read.
  const std::vector<std::int64_t> all = first(64);
  std::vector<std::int64_t> missing;
  std::set_difference(all.begin(), all.end(), values.begin(), values.end(), std::back_inserter(missing));
  ASSERT_FALSE(missing.empty());
  EXPECT_LE(missing.size(), 16u);
  EXPECT_TRUE(std::find(missing.begin(), missing.end(), 20) != missing.end());
  EXPECT_EQ(missing.back() - missing.front() + 1, static_cast<std::int64_t>(missing.size())) << "one run of rows";
  EXPECT_TRUE(std::is_sorted(values.begin(), values.end()));
}

}  // namespace
}  // namespace conveyor
