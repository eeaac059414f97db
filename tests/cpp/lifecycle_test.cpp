// A running pipeline's life: backpressure, running ahead across epochs, stats, and teardown.
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "common/pipelines.hpp"

namespace conveyor {
namespace {

using namespace std::chrono_literals;
using testing::RangeSource;
using testing::settled;
using testing::thread_count;

Dataset counted(RangeSource source, std::size_t workers) {
  return GeneratorDataset(source, {"index"}, {.shuffle = false, .num_parallel_workers = workers})
      .map([](Row r) { return r; }, {}, {}, workers)
      .batch(8);
}

TEST(BackpressureTest, AStalledConsumerHoldsTheReadRowsBounded) {
  RangeSource source{100000};
  auto it = counted(source, 2).iterate();
  ASSERT_TRUE(it.next());
  auto calls = [&] { return source.calls->load(); };
  // Prefetched batches plus chunks in flight, with room to spare: far below the dataset.
  // (Chunks in flight: 2 × 3 arena slots + 2, one more in the reader's hands, at most 256 rows each.)
  const std::size_t bound = (config().prefetch_size + 2) * 8 + (2 * 3 + 2 + 1) * 256;
  for (int i = 0; i < 10; ++i) {
    std::this_thread::sleep_for(100ms);
    ASSERT_LE(calls(), bound) << "the pipeline kept reading while nobody consumed";
  }
  const std::size_t stalled = calls();
  // One batch more than the rows read so far fill (8 rows each): the reader must go on for
  // them, and a reader that stayed stalled hangs here until ctest's timeout fails the test.
  // (A fixed number of batches could all come from what was read ahead.)
  for (std::size_t i = 0; i <= stalled / 8; ++i) ASSERT_TRUE(it.next());
  EXPECT_GT(calls(), stalled) << "reading resumes with the consumer";
}

TEST(BackpressureTest, APipelineGivenItsOwnConfigPrefetchesAsThatSays) {
  RangeSource source{100000};
  auto ds = GeneratorDataset(source, {"index"}, {.shuffle = false, .num_parallel_workers = 2}).batch(256);
  Config deep = config();
  deep.prefetch_size = 64;
  auto it = ds.iterate(1, Position{}, deep);
  ASSERT_TRUE(it.next());
  // The default depth (8 batches) and the chunks in flight hold at most (8 + 2) * 256 +
  // (2 * 3 + 2 + 1) * 256 rows: a pipeline that reads on past that filled its own deeper queue.
  EXPECT_GE(settled([&] { return source.calls->load(); }), 64u * 256) << "the pipeline's prefetch_size was not used";
  EXPECT_EQ(config().prefetch_size, Config{}.prefetch_size) << "the process-wide defaults changed";
  deep.prefetch_size = 0;
  EXPECT_THROW(ds.iterate(1, Position{}, deep), std::invalid_argument);
}

TEST(EpochTest, TheNextEpochStartsBeforeTheLastBatchIsConsumed) {
  RangeSource source{40};
  auto it = counted(source, 2).iterate(2);
  ASSERT_TRUE(it.next());
  // 40 rows per epoch: once the pipeline has settled with only one batch consumed, the reader
  // has gone on into the second epoch rather than waiting at the boundary.
  EXPECT_GT(settled([&] { return source.calls->load(); }), 40u);
}

TEST(TeardownTest, DestroyingMidEpochReturnsPromptlyAThousandTimes) {
  auto ds = counted(RangeSource{1000000}, 2);
  for (int i = 0; i < 1000; ++i) {
    auto it = ds.iterate(-1);
    ASSERT_TRUE(it.next());
    auto start = std::chrono::steady_clock::now();
    { auto doomed = std::move(it); }
    ASSERT_LT(std::chrono::steady_clock::now() - start, 1s) << "teardown " << i << " was slow";
  }
}

TEST(TeardownTest, DestroyingWhileAMapIsBusyWaitsOnlyForThatCall) {
  auto ds = GeneratorDataset(RangeSource{1000}, {"index"}).map([](Row r) {
    std::this_thread::sleep_for(50ms);
    return r;
  }, {}, {}, 2);
  auto it = ds.iterate();
  ASSERT_TRUE(it.next());
  auto start = std::chrono::steady_clock::now();
  { auto doomed = std::move(it); }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
}

TEST(TeardownTest, DestroyingBeforeReadingAnythingIsFine) {
  for (int i = 0; i < 100; ++i) auto it = counted(RangeSource{1000}, 2).iterate(3);
}

TEST(TeardownTest, NoThreadsAccumulateAcrossPipelines) {
  auto run = [] {
    auto it = counted(RangeSource{1000}, 2).iterate(-1);
    it.next();
  };
  auto failing = [] {
    auto it = GeneratorDataset(RangeSource{100}, {"index"})
                  .map([](Row) -> Row { throw std::runtime_error("x"); }, {}, {}, 2)
                  .iterate();
    EXPECT_THROW(it.next(), Error);
  };
  run();
  failing();
  int after_first = thread_count();
  for (int i = 0; i < 200; ++i) {
    run();
    failing();
  }
  EXPECT_LE(thread_count(), after_first);
}

TEST(IteratorTest, ReportsTheEpochOfEachOutput) {
  auto it = GeneratorDataset(RangeSource{10}, {"index"}).batch(4).iterate(2);
  std::vector<std::uint64_t> epochs;
  while (it.next()) epochs.push_back(it.epoch());
  EXPECT_EQ(epochs, (std::vector<std::uint64_t>{0, 0, 0, 1, 1, 1}));
}

TEST(IteratorTest, WaitTellsWhenNextWillNotBlock) {
  auto slow = GeneratorDataset(RangeSource{10}, {"index"}).map([](Row r) {
    std::this_thread::sleep_for(300ms);
    return r;
  }, {}, {}, 1);
  auto it = slow.iterate();
  EXPECT_FALSE(it.wait(10ms));
  EXPECT_TRUE(it.wait(5s));
  EXPECT_TRUE(it.next());
}

TEST(IteratorTest, NextInEpochEndsEachEpochEvenAnEmptyOne) {
  auto it = GeneratorDataset(RangeSource{3}, {"index"}).batch(4, /*drop_remainder=*/true).iterate(3);
  for (int epoch = 0; epoch < 3; ++epoch) {
    EXPECT_FALSE(it.next_in_epoch()) << "epoch " << epoch << " has no full batch";
    EXPECT_EQ(it.epoch(), static_cast<std::uint64_t>(epoch));
  }
  EXPECT_FALSE(it.next_in_epoch());
  EXPECT_TRUE(it.done());
}

TEST(IteratorTest, CancelFromAnotherThreadWakesAWaitingReader) {
  auto it = GeneratorDataset(RangeSource{100}, {"index"}).map([](Row r) {
    std::this_thread::sleep_for(2s);
    return r;
  }, {}, {}, 1).iterate();
  std::thread canceller([&] {
    std::this_thread::sleep_for(100ms);
    it.cancel();
  });
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(it.next());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1500ms);
  canceller.join();
}

TEST(TeardownTest, DroppingAnIteratorFromInsideItsOwnPipelineDoesNotDeadlock) {
  // As Python's garbage collector may do inside a map function. The consumer does not touch the
  // iterator (it reads ahead by itself): a call on it while it is dropped would be a use after
  // destruction, which ThreadSanitizer caught in an earlier version of this test.
  auto holder = std::make_shared<std::optional<Iterator>>();
  auto dropped = std::make_shared<std::atomic<bool>>(false);
  auto held = std::make_shared<std::atomic<bool>>(false);
  {
    auto ds = GeneratorDataset(RangeSource{1000}, {"index"}).map([holder, dropped, held](Row r) {
      if (!dropped->exchange(true)) {  // the first row mapped
        // The pipeline starts inside iterate(): wait until the iterator is in the holder.
        while (!held->load()) std::this_thread::sleep_for(1ms);
        holder->reset();
      }
      return r;
    }, {}, {}, 2);
    holder->emplace(ds.iterate());
    held->store(true);
  }
  auto start = std::chrono::steady_clock::now();
  while (!dropped->load() && std::chrono::steady_clock::now() - start < 5s) std::this_thread::sleep_for(1ms);
  EXPECT_TRUE(dropped->load());
  // The pipeline is torn down in the background; it holds the map function, so `dropped` has one
  // owner left once it is gone. Returning earlier would let the process exit under a teardown
  // still running (which AddressSanitizer caught touching freed statics).
  while (dropped.use_count() > 1 && std::chrono::steady_clock::now() - start < 10s) std::this_thread::sleep_for(1ms);
  EXPECT_EQ(dropped.use_count(), 1) << "the pipeline dropped from inside was never torn down";
}

TEST(EpochTest, TakeAboveAParallelStageStopsTheRestOfTheEpoch) {
  RangeSource source{100000};
  auto it = GeneratorDataset(source, {"index"}, {.shuffle = false})
                .map([](Row r) { return r; }, {}, {}, 2)
                .take(5)
                .iterate(3);
  std::size_t rows = 0;
  while (it.next()) ++rows;
  EXPECT_EQ(rows, 15u);
  EXPECT_LT(source.calls->load(), 20000u) << "whole epochs were read for five rows each";
}

TEST(EpochTest, AFailingEpochLeftByTakeDoesNotStopTheNextOne) {
  auto source = function_source(64, [](std::size_t i) {
    if (i == 40) throw std::runtime_error("bad row");
    return Row{Tensor::scalar<std::int64_t>(static_cast<std::int64_t>(i))};
  });
  auto ds = GeneratorDataset(source, {"index"}, {.shuffle = false}).batch(2).map([](Row r) { return r; }).take(2);
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(testing::read_all(ds.iterate(2)).size(), 8u);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST(StatsTest, CountsRowsAndTimePerStage) {
  auto ds = GeneratorDataset(RangeSource{256}, {"index"}, {.num_parallel_workers = 2})
                .map([](Row r) {
                  std::this_thread::sleep_for(100us);
                  return r;
                }, {}, {}, 2)
                .batch(32);
  auto it = ds.iterate();
  while (it.next()) {
  }
  auto stats = it.stats();
  std::vector<std::string> names;
  for (const auto& s : stats) names.push_back(s.name);
  EXPECT_EQ(names, (std::vector<std::string>{"source", "map[0]", "batch", "output"}));
  EXPECT_EQ(stats[0].rows, 256u);
  EXPECT_EQ(stats[0].workers, 2u);
  EXPECT_EQ(stats[1].rows, 256u);
  EXPECT_GE(stats[1].busy, 256 * 100us);
  EXPECT_EQ(stats[2].rows, 8u);
  EXPECT_EQ(stats[3].rows, 8u);
  // The map is the bottleneck: the batch stage spends its time waiting for it.
  EXPECT_GT(stats[2].wait_input, stats[2].busy);
}

TEST(StatsTest, CountsTheReadersWaitInWaitAsTheOutputStagesWaitForInput) {
  auto ds = GeneratorDataset(function_source(20,
                                             [](std::size_t i) {
                                               std::this_thread::sleep_for(1ms);
                                               return Row{Tensor::scalar<std::int64_t>(static_cast<std::int64_t>(i))};
                                             }),
                             {"index"}, {.num_parallel_workers = 1});
  auto it = ds.iterate();
  std::size_t rows = 0;
  for (;;) {  // the way the Python binding reads: wait() in slices, then a next() that does not block
    while (!it.wait(5ms)) {
    }
    if (!it.next()) break;
    ++rows;
  }
  EXPECT_EQ(rows, 20u);
  auto output = it.stats().back();
  ASSERT_EQ(output.name, "output");
  // The source sleeps 20 ms in all on its one worker; the reader, faster, waits for most of it.
  EXPECT_GE(output.wait_input, 10ms);
}

TEST(SourceTest, ConcurrentGetsFromTheEngineSeeEveryIndexOnce) {
  struct Recording {
    std::shared_ptr<std::mutex> mutex = std::make_shared<std::mutex>();
    std::shared_ptr<std::multiset<std::size_t>> seen = std::make_shared<std::multiset<std::size_t>>();
    std::shared_ptr<std::set<std::thread::id>> threads = std::make_shared<std::set<std::thread::id>>();
    std::size_t size() const { return 2000; }
    Row get(std::size_t i) const {
      std::this_thread::sleep_for(20us);
      std::lock_guard lock(*mutex);
      seen->insert(i);
      threads->insert(std::this_thread::get_id());
      return {Tensor::scalar<std::int64_t>(static_cast<std::int64_t>(i))};
    }
  };
  Recording source;
  auto values = testing::read_all(GeneratorDataset(source, {"index"}, {.num_parallel_workers = 4}).batch(50).iterate());
  EXPECT_EQ(values.size(), 2000u);
  EXPECT_EQ(source.seen->size(), 2000u);
  EXPECT_EQ(std::set<std::size_t>(source.seen->begin(), source.seen->end()).size(), 2000u);
  EXPECT_GT(source.threads->size(), 1u) << "get() was never called concurrently";
}

}  // namespace
}  // namespace conveyor
