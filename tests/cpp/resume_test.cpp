// Resuming at a Position: the outputs after it are those of an uninterrupted run, whatever the
// stages (filter, shuffle buffer, take, skip, repeat, per_batch_map), the source (random access
// or iterable, read row by row or in chunks seeded per chunk) and the worker count; a
// random-access source is not read again before the position (but for whole chunks of a source
// with a SourceHints::block); pipelines that cannot resume mid-epoch say which stage stands in the way.
#include <gtest/gtest.h>

#include <functional>
#include <numeric>
#include <set>
#include <stdexcept>

#include <conveyor/detail/random.hpp>

#include "common/pipelines.hpp"

namespace conveyor {
namespace {

using testing::Blocks;
using testing::CountingStream;
using testing::RangeSource;
using testing::read_all;

constexpr std::int64_t kEpochs = 2;

// Adds a draw from a generator seeded by the op's context, as random augmentations do.
Row noisy(Row row, const OpContext& c) {
  detail::Rng rng(detail::mix({c.seed, c.epoch, c.sample, c.op}));
  return {Tensor::scalar<std::int64_t>(row[0].item<std::int64_t>() * 1000 + static_cast<std::int64_t>(rng.below(1000)))};
}

Dataset with_noise(const Dataset& ds, std::size_t workers) {
  return ds.map(std::vector<ContextOp>{noisy}, {}, {}, workers);
}

bool keeps(const Row& row) { return row[0].item<std::int64_t>() % 3 != 1; }

// Reads fixed chunks of 4 positions and seeds one generator per chunk from the epoch and the
// chunk's indices, drawing each row's noise from it in order, as worker processes do: a row
// read in another chunk (or alone) gets other noise. Row i is i * 1000 + its noise. Counts the
// rows it reads.
class ChunkSeeded final : public RandomAccessSource {
 public:
  static constexpr std::size_t kBlock = 4;
  explicit ChunkSeeded(std::size_t n) : n_(n) {}
  std::size_t size() const override { return n_; }
  Row read(std::size_t, std::uint64_t) const override { throw std::logic_error("the engine calls read_many()"); }
  void read_many(std::span<const std::uint64_t> indices, std::uint64_t epoch, std::span<Row> rows,
                 std::span<std::exception_ptr>, std::stop_token) const override {
    *reads_ += indices.size();
    std::uint64_t seed = detail::mix({epoch});
    for (std::uint64_t index : indices) seed = detail::mix({seed, index});
    detail::Rng rng(seed);
    for (std::size_t i = 0; i < indices.size(); ++i)
      rows[i] = {Tensor::scalar(static_cast<std::int64_t>(indices[i] * 1000 + rng.below(1000)))};
  }
  SourceHints hints() const noexcept override { return {.block = kBlock}; }
  std::size_t reads() const { return reads_->load(); }

 private:
  std::size_t n_;
  std::shared_ptr<std::atomic<std::size_t>> reads_ = std::make_shared<std::atomic<std::size_t>>(0);
};

// 38 shuffled rows read in chunks of 4 (the last of 2), through a shuffle buffer of 7.
Dataset chunk_seeded_shuffle(const std::shared_ptr<ChunkSeeded>& source, std::size_t workers) {
  GeneratorOptions options{.shuffle = true, .seed = 5, .num_parallel_workers = workers};
  return with_noise(GeneratorDataset(source, {"index"}, options), workers).shuffle(7).batch(4);
}

// 40 shuffled rows with noise, in batches of 4: 10 batches an epoch.
Dataset shuffled(std::size_t workers) {
  GeneratorOptions options{.shuffle = true, .seed = 7, .num_parallel_workers = workers};
  return with_noise(GeneratorDataset(RangeSource{40}, {"index"}, options), workers).batch(4);
}

std::vector<std::int64_t> values_of(const Batch& batch) {
  auto v = batch["index"].contiguous().view<std::int64_t>();
  return {v.begin(), v.end()};
}

// The outputs of a run stopped after `k` outputs (and, with `through_end`, after the end of the
// epoch when it is next), then of a new run started at its position.
std::vector<std::int64_t> interrupted(const Dataset& ds, std::size_t k, Position* saved = nullptr,
                                      bool through_end = false) {
  std::vector<std::int64_t> values;
  Iterator first = ds.iterate(kEpochs);
  for (std::size_t i = 0; i < k; ++i) {
    auto batch = first.next_in_epoch();
    if (!batch) batch = first.next_in_epoch();
    if (!batch) break;
    auto v = values_of(*batch);
    values.insert(values.end(), v.begin(), v.end());
  }
  if (through_end) {
    EXPECT_FALSE(first.next_in_epoch()) << "the epoch's end is next after " << k << " outputs";
  }
  Position position = first.position();
  if (saved) *saved = position;
  auto rest = read_all(ds.iterate(kEpochs, position));
  values.insert(values.end(), rest.begin(), rest.end());
  return values;
}

// Outputs per epoch of `ds`.
std::size_t outputs_per_epoch(const Dataset& ds) {
  Iterator it = ds.iterate(1);
  std::size_t n = 0;
  while (it.next()) ++n;
  return n;
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
    std::uint64_t epoch = k == 0 ? 0 : (k - 1) / 10;
    EXPECT_EQ(saved.epoch, epoch) << "after " << k << " outputs";
    EXPECT_EQ(saved.outputs, k - 10 * epoch) << "after " << k << " outputs";
    EXPECT_EQ(saved.cut.has_value(), k > 0) << "after " << k << " outputs";
  }
  Position saved;
  EXPECT_EQ(interrupted(shuffled(workers), 10, &saved, /*through_end=*/true), reference);
  EXPECT_EQ(saved, Position(1, 0));
}

TEST_P(ResumeTest, AnIterableSourceIsReadAgainUpToThePosition) {
  const std::size_t workers = GetParam();
  auto make = [workers] { return with_noise(GeneratorDataset(CountingStream{30}, {"index"}), workers).batch(4); };
  auto reference = read_all(make().iterate(kEpochs));
  for (std::size_t k : {0u, 5u, 8u, 11u}) EXPECT_EQ(interrupted(make(), k), reference) << "after " << k << " outputs";
}

INSTANTIATE_TEST_SUITE_P(Workers, ResumeTest, ::testing::Values(1u, 2u));

// A pipeline of stages that cannot be located from a number of outputs, built for a worker count.
struct Stateful {
  std::string name;
  std::function<Dataset(std::size_t workers)> make;
};
void PrintTo(const Stateful& pipeline, std::ostream* out) { *out << pipeline.name; }

// Keeps the even rows of a batch (at least one), marked with the batch's number.
std::vector<Row> per_batch(std::vector<Row> rows, const BatchInfo& info) {
  std::vector<Row> out;
  for (auto& row : rows)
    if (row[0].item<std::int64_t>() % 2 == 0)
      out.push_back({Tensor::scalar<std::int64_t>(row[0].item<std::int64_t>() + 1'000'000 * (info.batch_num + 1))});
  if (out.empty()) out.push_back(std::move(rows.front()));
  return out;
}

std::vector<Stateful> stateful_pipelines() {
  auto random_access = [](std::size_t workers, bool shuffle) {
    GeneratorOptions options{.shuffle = shuffle, .seed = 5, .num_parallel_workers = workers};
    return GeneratorDataset(RangeSource{40}, {"index"}, options);
  };
  return {
      {"Filter",
       [=](std::size_t w) { return with_noise(random_access(w, true), w).filter(keeps, {}, w).batch(3); }},
      {"ShuffleBufferOverRandomAccess",
       [=](std::size_t w) { return with_noise(random_access(w, false), w).shuffle(7).batch(4); }},
      {"ShuffleBufferOverChunkSeededSource",
       [=](std::size_t w) { return chunk_seeded_shuffle(std::make_shared<ChunkSeeded>(38), w); }},
      {"ShuffleBufferOverIterable",
       [=](std::size_t w) {
         return with_noise(GeneratorDataset(CountingStream{30}, {"index"}).shuffle(5), w).batch(4);
       }},
      {"ShuffleBufferThenFilter",
       [=](std::size_t w) {
         return with_noise(GeneratorDataset(CountingStream{30}, {"index"}).shuffle(6), w).filter(keeps, {}, w).batch(3);
       }},
      {"TakeAndSkip", [=](std::size_t w) { return with_noise(random_access(w, true), w).skip(3).take(30).batch(4); }},
      {"RepeatOverBatches", [=](std::size_t w) { return with_noise(random_access(w, true), w).batch(6).repeat(3); }},
      {"BatchesAcrossRepeats",
       [=](std::size_t w) {
         return with_noise(GeneratorDataset(CountingStream{10}, {"index"}).shuffle(4).repeat(3), w).batch(4);
       }},
      {"PerBatchMap",
       [=](std::size_t w) {
         return with_noise(random_access(w, true), w).batch(4, false, BatchOptions{.per_batch_map = per_batch});
       }},
      {"AllTogether",
       [=](std::size_t w) {
         return with_noise(random_access(w, false).shuffle(8), w)
             .filter(keeps, {}, w)
             .take(20)
             .batch(3, false, BatchOptions{.per_batch_map = per_batch})
             .repeat(2);
       }},
  };
}

class StatefulResumeTest : public ::testing::TestWithParam<std::tuple<Stateful, std::size_t>> {};

TEST_P(StatefulResumeTest, ContinuesBitIdenticallyAfterEveryOutput) {
  const auto& [pipeline, workers] = GetParam();
  const Dataset ds = pipeline.make(workers);
  const auto reference = read_all(ds.iterate(kEpochs));
  const std::size_t per_epoch = outputs_per_epoch(ds);
  ASSERT_GT(per_epoch, 2u);
  std::size_t total = 0;
  for (Iterator it = ds.iterate(kEpochs); it.next();) ++total;
  for (std::size_t k = 0; k <= total; ++k) {
    Position saved;
    EXPECT_EQ(interrupted(ds, k, &saved), reference) << pipeline.name << ": after " << k << " outputs";
    // Mid-epoch positions carry the stages' state; the start of an epoch needs none.
    EXPECT_EQ(saved.cut.has_value(), saved.outputs > 0) << pipeline.name << ": after " << k << " outputs";
    EXPECT_EQ(saved.outputs > 0, k > 0) << pipeline.name << ": after " << k << " outputs";
  }
  // Exactly at the end of the first epoch, with that end read.
  EXPECT_EQ(interrupted(ds, per_epoch, nullptr, /*through_end=*/true), reference) << pipeline.name;
}

TEST_P(StatefulResumeTest, ResumesAgainFromAResumedRun) {
  const auto& [pipeline, workers] = GetParam();
  const Dataset ds = pipeline.make(workers);
  const auto reference = read_all(ds.iterate(kEpochs));
  Iterator first = ds.iterate(kEpochs);
  std::vector<std::int64_t> values;
  auto take = [&](Iterator& it, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i)
      if (auto batch = it.next()) {
        auto v = values_of(*batch);
        values.insert(values.end(), v.begin(), v.end());
      }
  };
  take(first, 2);
  Iterator second = ds.iterate(kEpochs, first.position());
  take(second, 3);
  auto rest = read_all(ds.iterate(kEpochs, second.position()));
  values.insert(values.end(), rest.begin(), rest.end());
  EXPECT_EQ(values, reference) << pipeline.name;
}

INSTANTIATE_TEST_SUITE_P(Sweep, StatefulResumeTest,
                         ::testing::Combine(::testing::ValuesIn(stateful_pipelines()), ::testing::Values(1u, 2u)),
                         [](const auto& info) {
                           return std::get<0>(info.param).name + "_workers" + std::to_string(std::get<1>(info.param));
                         });

TEST(ResumeJumpTest, ARandomAccessSourceIsNotReadBeforeThePosition) {
  RangeSource source{40};
  auto ds = GeneratorDataset(source, {"index"}, {.shuffle = true, .seed = 3}).batch(4);
  auto rest = read_all(ds.iterate(1, Position{0, 7}));
  EXPECT_EQ(rest.size(), 12u);
  EXPECT_EQ(source.calls->load(), 12u);
}

TEST(ResumeJumpTest, BehindAFilterOnlyTheRowsAfterThePositionAreRead) {
  RangeSource source{40};
  auto ds = GeneratorDataset(source, {"index"}, {.shuffle = true, .seed = 3}).filter(keeps).batch(2);
  const Position position = [&] {
    Iterator first = ds.iterate(1);
    for (int i = 0; i < 4; ++i) EXPECT_TRUE(first.next());
    return first.position();
  }();  // the first run stopped, so that it reads no more
  ASSERT_TRUE(position.cut);
  source.calls->store(0);
  read_all(ds.iterate(1, position));
  EXPECT_EQ(source.calls->load(), 40 - position.cut->rows);
}

TEST(ResumeJumpTest, AShuffleBufferIsRefilledWithItsOwnRowsOnly) {
  RangeSource source{40};
  auto ds = GeneratorDataset(source, {"index"}, {.shuffle = false}).shuffle(5).batch(4);
  const Position position = [&] {
    Iterator first = ds.iterate(1);
    for (int i = 0; i < 3; ++i) EXPECT_TRUE(first.next());
    return first.position();
  }();
  ASSERT_TRUE(position.cut && position.cut->shuffle);
  // 12 rows out; 16 read (the buffer refilled before each pick); 4 held.
  EXPECT_EQ(position.cut->rows, 16u);
  EXPECT_EQ(position.cut->shuffle->rows.size(), 4u);
  source.calls->store(0);
  EXPECT_EQ(read_all(ds.iterate(1, position)).size(), 28u);
  EXPECT_EQ(source.calls->load(), 28u);  // the 4 it held and the 24 after them, each once
}

TEST(ResumeJumpTest, AShuffleBufferOverAChunkSeededSourceReadsEachChunkOfItsRowsOnce) {
  auto source = std::make_shared<ChunkSeeded>(38);
  const Dataset ds = chunk_seeded_shuffle(source, 2);
  std::size_t earlier_chunks = 0;
  for (std::size_t k : {1u, 4u, 7u, 9u}) {
    const Position position = [&] {
      Iterator first = ds.iterate(1);
      for (std::size_t i = 0; i < k; ++i) EXPECT_TRUE(first.next());
      return first.position();
    }();
    ASSERT_TRUE(position.cut && position.cut->shuffle) << "after " << k << " outputs";
    // The chunk the position is in is read from its start; each other chunk holding a buffered
    // row is read once, whole.
    const std::uint64_t head = position.cut->rows / ChunkSeeded::kBlock * ChunkSeeded::kBlock;
    std::set<std::uint64_t> chunks;
    for (std::uint64_t row : position.cut->shuffle->rows)
      if (row < head) chunks.insert(row / ChunkSeeded::kBlock);
    const std::size_t before = source->reads();
    EXPECT_EQ(read_all(ds.iterate(1, position)).size(), 38 - 4 * k);
    EXPECT_EQ(source->reads() - before, chunks.size() * ChunkSeeded::kBlock + (38 - head))
        << "after " << k << " outputs";
    earlier_chunks += chunks.size();
  }
  EXPECT_GT(earlier_chunks, 0u) << "no position held a row of a chunk before its own";
}

TEST(ResumeJumpTest, AStartAfterTheLastEpochGivesNothing) {
  EXPECT_TRUE(read_all(shuffled(1).iterate(kEpochs, Position{2, 0})).empty());
}

// The message of the std::invalid_argument that `f` throws ("" when it throws none).
std::string invalid_argument(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

// A position after the first output of a run of `ds`.
Position after_one_output(const Dataset& ds) {
  Iterator it = ds.iterate(kEpochs);
  EXPECT_TRUE(it.next());
  return it.position();
}

TEST(ResumeJumpTest, MidEpochBehindAFilterWithoutTheStagesStateIsAnErrorNamingIt) {
  auto ds = GeneratorDataset(RangeSource{40}, {"index"}, {.seed = 3}).filter(keeps).batch(4);
  EXPECT_NE(invalid_argument([&] { ds.iterate(kEpochs, Position{0, 1}); }).find("filter"), std::string::npos);
  auto reference = read_all(ds.iterate(kEpochs));
  auto second_epoch = read_all(ds.iterate(kEpochs, Position{1, 0}));
  const auto half = static_cast<std::ptrdiff_t>(reference.size() / 2);
  EXPECT_EQ(second_epoch, std::vector<std::int64_t>(reference.begin() + half, reference.end()));
}

TEST(ResumeJumpTest, StagesThatRecordNoStateAreNamedWhenResumingMidEpoch) {
  auto rows = [] { return GeneratorDataset(RangeSource{40}, {"index"}, {.seed = 3}); };
  struct Case {
    Dataset ds;
    std::string named;
  };
  const std::vector<Case> cases{
      {rows().zip({GeneratorDataset(RangeSource{40}, {"other"}, {.seed = 4})}).batch(4), "zip or concat"},
      {rows().concat({rows()}).batch(4), "zip or concat"},
      {rows().filter(keeps).shuffle(4).batch(4), "a shuffle buffer over a filter"},
      {rows().shuffle(4).shuffle(4).batch(4), "a shuffle buffer over another shuffle buffer"},
      {rows().batch(2).shuffle(4), "a shuffle buffer over a batch stage"},
      {rows().take(30).take(20).take(10).batch(2).repeat(2), "more than 4 take, batch, shuffle and repeat stages"},
  };
  for (const auto& c : cases) {
    const Position position = after_one_output(c.ds);
    EXPECT_FALSE(position.cut) << c.named;
    const std::string message = invalid_argument([&] { c.ds.iterate(kEpochs, position); });
    EXPECT_NE(message.find(c.named), std::string::npos) << message;
    EXPECT_NE(message.find("epoch's start"), std::string::npos) << message;
    EXPECT_EQ(read_all(c.ds.iterate(kEpochs, Position{1, 0})).size() * 2, read_all(c.ds.iterate(kEpochs)).size())
        << c.named << ": an epoch's start can still be resumed at";
  }
}

TEST(ResumeJumpTest, AStateThatDoesNotFitThePipelineIsAnError) {
  auto ds = GeneratorDataset(RangeSource{40}, {"index"}, {.shuffle = false}).shuffle(5).batch(4);
  const Position position = after_one_output(ds);
  ASSERT_TRUE(position.cut);
  Position fewer = position;
  fewer.cut->counts.pop_back();
  EXPECT_NE(invalid_argument([&] { ds.iterate(kEpochs, fewer); }).find("another pipeline"), std::string::npos);
  Position unread = position;
  unread.cut->shuffle->rows.back() = position.cut->rows;
  EXPECT_NE(invalid_argument([&] { ds.iterate(kEpochs, unread); }).find("not read by then"), std::string::npos);
  Position twice = position;
  twice.cut->shuffle->rows.back() = twice.cut->shuffle->rows.front();
  EXPECT_NE(invalid_argument([&] { ds.iterate(kEpochs, twice); }).find("twice"), std::string::npos);
  Position stuck = position;  // the generator's fixed point: every pick would spin
  stuck.cut->shuffle->rng = {};
  EXPECT_NE(invalid_argument([&] { ds.iterate(kEpochs, stuck); }).find("all zeros"), std::string::npos);
  auto unshuffled = GeneratorDataset(RangeSource{40}, {"index"}, {.shuffle = false}).take(40).batch(4);
  EXPECT_NE(invalid_argument([&] { unshuffled.iterate(kEpochs, position); }).find("another pipeline"),
            std::string::npos);
}

TEST(ResumeJumpTest, MidEpochWithReplacedSamplesIsAnError) {
  const Config saved = config();
  Config c = saved;
  c.error_samples_mode = ErrorSamplesMode::replace;
  set_config(c);
  auto ds = GeneratorDataset(RangeSource{40}, {"index"}, {.shuffle = false}).batch(4);
  const std::string message = invalid_argument([&] { ds.iterate(kEpochs, Position{0, 1}); });
  EXPECT_EQ(read_all(ds.iterate(kEpochs, Position{1, 0})).size(), 40u);  // an epoch's start still works
  set_config(saved);
  EXPECT_NE(message.find("replace"), std::string::npos) << message;
}

// Rows by fixed chunks of 16, as a source of worker processes reads them.
class Chunked final : public RandomAccessSource {
 public:
  explicit Chunked(std::size_t n) : n_(n) {}
  std::size_t size() const override { return n_; }
  Row read(std::size_t index, std::uint64_t) const override { return {Tensor::scalar(static_cast<std::int64_t>(index))}; }
  SourceHints hints() const noexcept override { return {.block = 16}; }

 private:
  std::size_t n_;
};

TEST(ResumeJumpTest, APositionAfterAShortLastBatchStartsTheNextEpochWhole) {
  // 95 rows in batches of 10: after the 10th (short) batch the position's row count, 100, lies
  // past the epoch, and not on a chunk's start.
  auto ds = GeneratorDataset(std::make_shared<Chunked>(95), {"index"}, {.shuffle = false}).batch(10);
  std::vector<std::int64_t> epoch(95);
  std::iota(epoch.begin(), epoch.end(), 0);
  EXPECT_EQ(read_all(ds.iterate(2, Position{0, 10})), epoch);
}

TEST(ResumeJumpTest, AnEpochsStartIgnoresAStaleStagesState) {
  auto ds = GeneratorDataset(RangeSource{40}, {"index"}, {.shuffle = false}).shuffle(5).batch(4);
  Position position = after_one_output(ds);
  ASSERT_TRUE(position.cut);
  position.epoch = 1;
  position.outputs = 0;
  auto reference = read_all(ds.iterate(kEpochs));
  EXPECT_EQ(read_all(ds.iterate(kEpochs, position)),
            std::vector<std::int64_t>(reference.begin() + 40, reference.end()));
}

TEST(ResumeSignatureTest, NamesTheStagesAndTellsPipelinesApart) {
  auto base = GeneratorDataset(RangeSource{40}, {"index"}, {.seed = 3});
  EXPECT_EQ(base.batch(4).signature(), GeneratorDataset(RangeSource{40}, {"index"}, {.seed = 3}).batch(4).signature());
  EXPECT_NE(base.batch(4).signature(), base.batch(5).signature());
  EXPECT_NE(base.batch(4).signature(), GeneratorDataset(RangeSource{41}, {"index"}, {.seed = 3}).batch(4).signature());
  EXPECT_NE(base.batch(4).signature().find("batch(4)"), std::string::npos) << base.batch(4).signature();
}

TEST(ResumeJumpTest, ReadsStayOnTheSourcesBlocksWhenABatchOfABlocksSizeResumesAfterASkippedRow) {
  // A skipped row puts the position after the first batch at 17 rows, inside a block: the
  // resumed pipeline reads that block whole and drops its first row, and every later read must
  // still start on a block, however the batch stage above places its rows.
  const Config saved = config();
  Config skipping = saved;
  skipping.error_samples_mode = ErrorSamplesMode::skip;
  set_config(skipping);
  auto over = [](std::shared_ptr<Blocks> source) {
    return GeneratorDataset(std::move(source), {"index"}, {.shuffle = false, .num_parallel_workers = 2}).batch(16);
  };
  const Position position = after_one_output(over(std::make_shared<Blocks>(96, 16, 3)));
  ASSERT_TRUE(position.cut);
  EXPECT_EQ(position.cut->rows, 17u);
  auto resumed = std::make_shared<Blocks>(96, 16, 3);
  const std::vector<std::int64_t> values = read_all(over(resumed).iterate(1, position));
  set_config(saved);
  std::vector<std::int64_t> expected(96 - 17);
  std::iota(expected.begin(), expected.end(), 17);
  EXPECT_EQ(values, expected);
  // The sampler's order is the index order here.
  for (const auto& call : resumed->calls()) {
    EXPECT_EQ(call.front() % 16, 0u) << "a read starting at " << call.front();
    EXPECT_EQ(call.size(), 16u) << "a read starting at " << call.front();
  }
}

}  // namespace
}  // namespace conveyor
