// Engine micro-benchmarks, each beside the floor it is judged against (bench/RESULTS.md):
//   overhead   - 1,000,000 scalar rows, batch 256, vs the same loop written by hand;
//   collation  - 3x32x32 float32 rows, batch 256, in GB/s vs memcpy of the same bytes;
//   made rows  - the same rows made afresh by the source (conveyor-bench's `native` workload),
//                vs memcpy of the same bytes (CollationMemcpy);
//   scaling    - a map burning ~20 µs per row on 1 and 2 workers.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <vector>

#include <conveyor/conveyor.hpp>

namespace {

using conveyor::Row;
using conveyor::Tensor;

constexpr std::size_t kBatch = 256;

struct Scalars {
  std::size_t n;
  std::size_t size() const { return n; }
  Row get(std::size_t i) const { return {Tensor::scalar<std::int64_t>(static_cast<std::int64_t>(i))}; }
};

void consume(conveyor::Iterator it, std::size_t& rows) {
  while (auto b = it.next()) {
    benchmark::DoNotOptimize((*b)[0].data());
    rows += static_cast<std::size_t>((*b)[0].shape()[0]);
  }
}

void BM_EngineOverhead(benchmark::State& state) {
  const std::size_t n = 1'000'000;
  auto ds = conveyor::GeneratorDataset(Scalars{n}, {"index"},
                                       {.shuffle = false, .num_parallel_workers = static_cast<std::size_t>(state.range(0))})
                .batch(kBatch);
  std::size_t rows = 0;
  for (auto _ : state) consume(ds.iterate(), rows);
  state.SetItemsProcessed(static_cast<std::int64_t>(rows));
}
BENCHMARK(BM_EngineOverhead)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// The floor: the same rows made by the same get() and copied into a reused batch buffer.
void BM_EngineOverheadHandLoop(benchmark::State& state) {
  const std::size_t n = 1'000'000;
  Scalars source{n};
  auto buffer = Tensor::empty(conveyor::DType::i64, {static_cast<std::int64_t>(kBatch)});
  std::size_t rows = 0;
  for (auto _ : state) {
    for (std::size_t i = 0; i < n; ++i) {
      Row row = source.get(i);
      row[0].copy_to(buffer.data() + (i % kBatch) * sizeof(std::int64_t));
      if (i % kBatch == kBatch - 1) benchmark::DoNotOptimize(buffer.data());
    }
    rows += n;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(rows));
}
BENCHMARK(BM_EngineOverheadHandLoop)->Unit(benchmark::kMillisecond)->UseRealTime();

// Rows are prepared images (512 distinct ones, 6 MB, cycled), so the pipeline's cost is the
// collation itself and not making the rows.
constexpr std::size_t kImages = 512;
constexpr std::size_t kImageBytes = 3 * 32 * 32 * sizeof(float);

std::vector<Tensor> prepared_images() {
  std::vector<Tensor> images;
  for (std::size_t i = 0; i < kImages; ++i) images.push_back(Tensor::zeros(conveyor::DType::f32, {3, 32, 32}));
  return images;
}

struct Images {
  std::shared_ptr<const std::vector<Tensor>> images = std::make_shared<const std::vector<Tensor>>(prepared_images());
  std::size_t n;
  std::size_t size() const { return n; }
  Row get(std::size_t i) const { return {(*images)[i % kImages]}; }
};

void BM_Collation(benchmark::State& state) {
  const std::size_t n = 256 * 200;
  auto ds = conveyor::GeneratorDataset(Images{.n = n}, {"image"},
                                       {.shuffle = false, .num_parallel_workers = static_cast<std::size_t>(state.range(0))})
                .batch(kBatch);
  std::size_t rows = 0;
  for (auto _ : state) consume(ds.iterate(), rows);
  state.SetBytesProcessed(static_cast<std::int64_t>(rows * kImageBytes));
}
BENCHMARK(BM_Collation)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// Row i: a freshly allocated 3x32x32 float32 image filled with float(i), and the label i.
struct MadeImages {
  std::size_t n;
  std::size_t size() const { return n; }
  Row get(std::size_t i) const {
    Tensor image = Tensor::empty(conveyor::DType::f32, {3, 32, 32});
    float* values = reinterpret_cast<float*>(image.data());
    std::fill(values, values + 3 * 32 * 32, static_cast<float>(i));
    return {std::move(image), Tensor::scalar<std::int64_t>(static_cast<std::int64_t>(i))};
  }
};

void BM_MadeRows(benchmark::State& state) {
  const std::size_t n = 256 * 200;
  auto ds = conveyor::GeneratorDataset(MadeImages{n}, {"image", "label"},
                                       {.shuffle = true, .num_parallel_workers = static_cast<std::size_t>(state.range(0))})
                .batch(kBatch, true);
  std::size_t rows = 0;
  for (auto _ : state) consume(ds.iterate(), rows);
  state.SetBytesProcessed(static_cast<std::int64_t>(rows * kImageBytes));
}
BENCHMARK(BM_MadeRows)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// The physical limit: memcpy of the same rows into a warm batch-sized buffer.
void BM_CollationMemcpy(benchmark::State& state) {
  auto images = prepared_images();
  std::vector<std::byte> batch(kImageBytes * kBatch);
  std::size_t bytes = 0;
  for (auto _ : state) {
    for (std::size_t row = 0; row < 200 * kBatch; ++row) {
      std::memcpy(batch.data() + (row % kBatch) * kImageBytes, images[row % kImages].data(), kImageBytes);
      if (row % kBatch == kBatch - 1) benchmark::DoNotOptimize(batch.data());
    }
    bytes += 200 * kBatch * kImageBytes;
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}
BENCHMARK(BM_CollationMemcpy)->Unit(benchmark::kMillisecond)->UseRealTime();

Row burn_20us(Row row) {
  auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(20);
  while (std::chrono::steady_clock::now() < until) {
  }
  return row;
}

void BM_MapScaling(benchmark::State& state) {
  const std::size_t n = 20'000, workers = static_cast<std::size_t>(state.range(0));
  auto ds = conveyor::GeneratorDataset(Scalars{n}, {"index"}, {.shuffle = false, .num_parallel_workers = workers})
                .map(burn_20us, {}, {}, workers)
                .batch(kBatch);
  std::size_t rows = 0;
  for (auto _ : state) consume(ds.iterate(), rows);
  state.SetItemsProcessed(static_cast<std::int64_t>(rows));
}
BENCHMARK(BM_MapScaling)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
