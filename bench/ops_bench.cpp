// Native image-op benchmarks, each beside the floor it is judged against (bench/RESULTS.md, "Native image ops").
// At start-up, 1,000 photo-like 500x375 JPEGs (smooth gradients, soft blobs, a little texture
// and sensor-like noise, ~60 KiB each; quality 90, 4:2:0, as PIL and cv::imencode write them)
// are encoded in memory with TurboJPEG. Every benchmark reports images/s (items_per_second):
//   BM_Decode                    - conveyor::ops::decode, one thread;
//   BM_PlainTurboDecode/threads:N - the limit: a bare TurboJPEG loop (header + tjDecompress2 to
//                                  RGB into one reused buffer) on N threads, same files;
//   BM_DecodeRandomResizedCrop   - the fused kernel alone (decode_random_resized_crop to 224x224),
//                                  one thread: what the fused pipeline's decode stage costs;
//   BM_PipelineFused/N           - the engine: GeneratorDataset over the files (bytes + label) ->
//                                  map(RandomCropDecodeResize(224), RandomHorizontalFlip,
//                                  Normalize, HWC2CHW) -> batch(64, drop_remainder), N workers;
//   BM_PipelineUnfused/N         - the same with Decode -> RandomResizedCrop(224) instead of the
//                                  fused RandomCropDecodeResize;
//   BM_PipelineCopied/N          - BM_PipelineFused with its last op (Normalize + HWC2CHW) hidden
//                                  in a plain op, so that batch() copies each normalised image
//                                  instead of having it written straight into the batch.
// One pipeline iteration is one epoch (15 batches of 64, from a fresh iterator: start-up
// included). Iteration counts are fixed so that the whole binary runs in about a minute.
#include <benchmark/benchmark.h>
#include <turbojpeg.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <conveyor/conveyor.hpp>
#include <conveyor/ops/decode.hpp>
#include <conveyor/ops/operator.hpp>

namespace {

using conveyor::Row;
using conveyor::Tensor;

constexpr int kImages = 1000;
constexpr int kWidth = 500;
constexpr int kHeight = 375;
constexpr int kQuality = 90;
constexpr std::size_t kBatch = 64;
constexpr double kMinTime = 3.0;  // seconds, single-image benchmarks
constexpr int kEpochs = 3;        // iterations of each pipeline benchmark

/// A tiny deterministic generator for the synthetic content (splitmix64).
struct Mix {
  std::uint64_t s;
  std::uint64_t next() {
    std::uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  double uniform(double lo, double hi) { return lo + (hi - lo) * static_cast<double>(next() >> 11) * 0x1.0p-53; }
};

/// One photo-like RGB image: per channel, a linear gradient, three soft Gaussian blobs and a
/// gentle sinusoidal texture (all separable, so cheap to make), plus sensor-like noise: +-14
/// shared by the three channels (luma) and +-3 per channel. About 60 KiB at quality 90, a little
/// under a typical ImageNet file of this size (conveyor-bench's jpeg-aug workload,
/// bindings/python/conveyor/bench/images.py, makes the same content).
std::vector<unsigned char> synthetic_image(int index) {
  Mix rng{static_cast<std::uint64_t>(index) * 7919 + 1};
  std::vector<unsigned char> rgb(static_cast<std::size_t>(kWidth) * kHeight * 3);
  std::vector<double> col(static_cast<std::size_t>(kWidth) * 3 * 5), row(static_cast<std::size_t>(kHeight) * 3 * 5);
  double base[3];
  for (int c = 0; c < 3; ++c) {
    base[c] = rng.uniform(40, 200);
    const double gx = rng.uniform(-0.2, 0.2), gy = rng.uniform(-0.2, 0.2);
    const double fx = rng.uniform(0.01, 0.08), fy = rng.uniform(0.01, 0.08), amp = rng.uniform(4, 14);
    double bx[3], by[3], br[3], bamp[3];
    for (int b = 0; b < 3; ++b) {
      bx[b] = rng.uniform(0, kWidth), by[b] = rng.uniform(0, kHeight), br[b] = rng.uniform(30, 120);
      bamp[b] = rng.uniform(-60, 60);
    }
    // Per column and per row factors: [gradient, texture, blob0, blob1, blob2].
    for (int x = 0; x < kWidth; ++x) {
      double* f = &col[(static_cast<std::size_t>(x) * 3 + c) * 5];
      f[0] = gx * x;
      f[1] = amp * std::sin(fx * x);
      for (int b = 0; b < 3; ++b) f[2 + b] = std::exp(-(x - bx[b]) * (x - bx[b]) / (2 * br[b] * br[b]));
    }
    for (int y = 0; y < kHeight; ++y) {
      double* f = &row[(static_cast<std::size_t>(y) * 3 + c) * 5];
      f[0] = gy * y;
      f[1] = std::sin(fy * y);
      for (int b = 0; b < 3; ++b) f[2 + b] = bamp[b] * std::exp(-(y - by[b]) * (y - by[b]) / (2 * br[b] * br[b]));
    }
  }
  std::uint64_t noise = rng.next() | 1;
  const auto draw = [&noise](std::uint64_t spread) {  // uniform integer in [-spread, spread]
    noise ^= noise << 13, noise ^= noise >> 7, noise ^= noise << 17;  // xorshift64
    return static_cast<double>((noise >> 32) % (2 * spread + 1)) - static_cast<double>(spread);
  };
  unsigned char* out = rgb.data();
  for (int y = 0; y < kHeight; ++y) {
    for (int x = 0; x < kWidth; ++x) {
      const double luma_noise = draw(14);
      for (int c = 0; c < 3; ++c) {
        const double* fc = &col[(static_cast<std::size_t>(x) * 3 + c) * 5];
        const double* fr = &row[(static_cast<std::size_t>(y) * 3 + c) * 5];
        const double v = base[c] + fc[0] + fr[0] + fc[1] * fr[1] + fc[2] * fr[2] + fc[3] * fr[3] + fc[4] * fr[4] +
                         luma_noise + draw(3);
        *out++ = static_cast<unsigned char>(std::clamp(v, 0.0, 255.0));
      }
    }
  }
  return rgb;
}

std::string encode_jpeg(const std::vector<unsigned char>& rgb) {
  std::unique_ptr<void, int (*)(tjhandle)> handle(tjInitCompress(), &tjDestroy);
  unsigned char* jpeg = nullptr;
  unsigned long size = 0;
  if (!handle ||
      tjCompress2(handle.get(), rgb.data(), kWidth, 0, kHeight, TJPF_RGB, &jpeg, &size, TJSAMP_420, kQuality, 0) != 0)
    throw std::runtime_error(std::string("ops_bench: JPEG encoding failed: ") + tjGetErrorStr2(handle.get()));
  std::string bytes(reinterpret_cast<const char*>(jpeg), size);
  tjFree(jpeg);
  return bytes;
}

/// The encoded files as bytes tensors, made once for the whole binary.
const std::vector<Tensor>& files() {
  static const std::vector<Tensor> encoded = [] {
    std::vector<Tensor> out;
    out.reserve(kImages);
    for (int i = 0; i < kImages; ++i) out.push_back(Tensor::bytes(encode_jpeg(synthetic_image(i))));
    return out;
  }();
  return encoded;
}

double mean_file_kb() {
  double total = 0;
  for (const Tensor& t : files()) total += static_cast<double>(t.nbytes());
  return total / static_cast<double>(files().size()) / 1024.0;
}

void report(benchmark::State& state, std::int64_t images) {
  state.SetItemsProcessed(images);
  state.counters["file_KiB"] = benchmark::Counter(mean_file_kb(), benchmark::Counter::kAvgThreads);
}

void BM_Decode(benchmark::State& state) {
  const auto& encoded = files();
  std::size_t i = 0;
  for (auto _ : state) {
    Tensor image = conveyor::ops::decode(encoded[i++ % encoded.size()]);
    benchmark::DoNotOptimize(image.data());
  }
  report(state, static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_Decode)->Unit(benchmark::kMicrosecond)->MinTime(kMinTime);

// The floor: what libjpeg-turbo itself does with the same files, with nothing around it.
void BM_PlainTurboDecode(benchmark::State& state) {
  const auto& encoded = files();
  std::unique_ptr<void, int (*)(tjhandle)> handle(tjInitDecompress(), &tjDestroy);
  std::vector<unsigned char> buffer;
  std::size_t i = 0;
  for (auto _ : state) {
    const Tensor& file = encoded[i++ % encoded.size()];
    const auto* jpeg = reinterpret_cast<const unsigned char*>(file.data());
    int width = 0, height = 0, subsampling = 0, colorspace = 0;
    if (tjDecompressHeader3(handle.get(), jpeg, file.nbytes(), &width, &height, &subsampling, &colorspace) != 0) {
      state.SkipWithError("tjDecompressHeader3 failed");
      break;
    }
    buffer.resize(static_cast<std::size_t>(width) * static_cast<std::size_t>(height) * 3);
    if (tjDecompress2(handle.get(), jpeg, file.nbytes(), buffer.data(), width, width * 3, height, TJPF_RGB, 0) != 0) {
      state.SkipWithError("tjDecompress2 failed");
      break;
    }
    benchmark::DoNotOptimize(buffer.data());
  }
  report(state, static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_PlainTurboDecode)->Unit(benchmark::kMicrosecond)->MinTime(kMinTime)->UseRealTime()->Threads(1)->Threads(2);

// The fused kernel alone, as RandomCropDecodeResize calls it (a fresh generator per image).
void BM_DecodeRandomResizedCrop(benchmark::State& state) {
  const auto& encoded = files();
  const conveyor::ops::CropParams params{};
  std::uint64_t i = 0;
  for (auto _ : state) {
    conveyor::detail::Rng rng(conveyor::detail::mix({5489, 0, i, 0}));
    Tensor image = conveyor::ops::decode_random_resized_crop(encoded[i++ % encoded.size()], 224, 224, params,
                                                             conveyor::ops::Interpolation::linear, rng);
    benchmark::DoNotOptimize(image.data());
  }
  report(state, static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_DecodeRandomResizedCrop)->Unit(benchmark::kMicrosecond)->MinTime(kMinTime);

/// The C++ random-access source: row i is (the encoded file, its label). Returning the prepared
/// bytes tensor shares its buffer, as a memory-mapped file would: no copy.
struct EncodedFiles {
  std::size_t size() const { return files().size(); }
  Row get(std::size_t i) const { return {files()[i], Tensor::scalar<std::int64_t>(static_cast<std::int64_t>(i))}; }
};

std::vector<conveyor::ops::OpSpec> tail_ops() {
  return {{"RandomHorizontalFlip", {}},
          {"Normalize", {{"mean", std::vector<double>{123.675, 116.28, 103.53}},
                         {"std", std::vector<double>{58.395, 57.12, 57.375}}}},
          {"HWC2CHW", {}}};
}

void run_pipeline(benchmark::State& state, std::vector<conveyor::ops::OpSpec> specs, bool hide_slot_op = false) {
  const auto workers = static_cast<std::size_t>(state.range(0));
  files();  // encode before anything is timed
  auto ops = conveyor::ops::make_ops(specs);
  if (hide_slot_op)
    ops.back() = [op = ops.back()](Row row, const conveyor::OpContext& context) { return op(std::move(row), context); };
  auto ds = conveyor::GeneratorDataset(EncodedFiles{}, {"image", "label"},
                                       {.shuffle = true, .num_parallel_workers = workers})
                .map(std::move(ops), {"image"}, {}, workers)
                .batch(kBatch, /*drop_remainder=*/true);
  std::int64_t images = 0;
  for (auto _ : state) {
    auto it = ds.iterate(1);
    while (auto batch = it.next()) {
      benchmark::DoNotOptimize((*batch)[0].data());
      images += (*batch)[0].shape()[0];
    }
  }
  report(state, images);
}

void BM_PipelineFused(benchmark::State& state) {
  std::vector<conveyor::ops::OpSpec> specs{{"RandomCropDecodeResize", {{"size", std::vector<double>{224}}}}};
  for (auto& op : tail_ops()) specs.push_back(op);
  run_pipeline(state, std::move(specs));
}
BENCHMARK(BM_PipelineFused)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(kEpochs);

void BM_PipelineCopied(benchmark::State& state) {
  std::vector<conveyor::ops::OpSpec> specs{{"RandomCropDecodeResize", {{"size", std::vector<double>{224}}}}};
  for (auto& op : tail_ops()) specs.push_back(op);
  run_pipeline(state, std::move(specs), /*hide_slot_op=*/true);
}
BENCHMARK(BM_PipelineCopied)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(kEpochs);

void BM_PipelineUnfused(benchmark::State& state) {
  std::vector<conveyor::ops::OpSpec> specs{{"Decode", {}}, {"RandomResizedCrop", {{"size", std::vector<double>{224}}}}};
  for (auto& op : tail_ops()) specs.push_back(op);
  run_pipeline(state, std::move(specs));
}
BENCHMARK(BM_PipelineUnfused)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(kEpochs);

}  // namespace
