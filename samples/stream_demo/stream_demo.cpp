// stream_demo: streams a generated dataset of small images through conveyor (shuffle, a
// normalising map, batch with drop_remainder) and prints samples/s and each stage's load.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdint>

#include <CLI/CLI.hpp>
#include <conveyor/conveyor.hpp>

namespace {

// Row i: a 3×32×32 uint8 image whose pixels derive from i, and the label i % 10.
struct SyntheticImages {
  std::size_t rows;
  std::size_t size() const { return rows; }
  conveyor::Row get(std::size_t i) const {
    auto image = conveyor::Tensor::empty(conveyor::DType::u8, {3, 32, 32});
    auto* pixels = reinterpret_cast<std::uint8_t*>(image.data());
    for (std::size_t p = 0; p < image.nbytes(); ++p) pixels[p] = static_cast<std::uint8_t>(i * 31 + p);
    return {image, conveyor::Tensor::scalar<std::int32_t>(static_cast<std::int32_t>(i % 10))};
  }
};

// uint8 HWC-agnostic scaling to float32 in [0, 1].
conveyor::Row to_float(conveyor::Row row) {
  const conveyor::Tensor& in = row[0];
  auto out = conveyor::Tensor::empty(conveyor::DType::f32, in.shape());
  auto src = in.view<std::uint8_t>();
  auto dst = out.view<float>();
  std::transform(src.begin(), src.end(), dst.begin(), [](std::uint8_t v) { return v / 255.0f; });
  return {out};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Streams a generated image dataset through conveyor and reports throughput."};
  std::size_t rows = 100000, epochs = 2, workers = 2, batch = 256;
  app.add_option("--rows", rows, "rows per epoch")->capture_default_str();
  app.add_option("--epochs", epochs, "epochs to read")->capture_default_str();
  app.add_option("--workers", workers, "workers per parallel stage")->capture_default_str();
  app.add_option("--batch", batch, "batch size")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  auto dataset = conveyor::GeneratorDataset(SyntheticImages{rows}, {"image", "label"},
                                            {.shuffle = true, .seed = 1, .num_parallel_workers = workers})
                     .map(to_float, {"image"}, {}, workers)
                     .batch(batch, /*drop_remainder=*/true);

  using Clock = std::chrono::steady_clock;
  auto start = Clock::now();
  double first_batch_ms = 0;
  std::size_t samples = 0, bytes = 0;
  auto it = dataset.iterate(static_cast<std::int64_t>(epochs));
  for (const conveyor::Batch& b : it) {
    if (samples == 0) first_batch_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    samples += static_cast<std::size_t>(b["image"].shape()[0]);
    bytes += b["image"].nbytes() + b["label"].nbytes();
  }
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();

  std::printf("conveyor stream demo: %zu epochs x %zu rows, 3x32x32 images, batch %zu, %zu workers\n", epochs, rows,
              batch, workers);
  std::printf("  %.0f samples/s, %.1f MB/s, first batch after %.1f ms, %.2f s in all\n", samples / seconds,
              bytes / seconds / 1e6, first_batch_ms, seconds);
  std::printf("  %-10s %8s %10s %10s %12s %12s\n", "stage", "workers", "rows", "busy s", "wait in s", "wait out s");
  for (const auto& s : it.stats())
    std::printf("  %-10s %8zu %10llu %10.2f %12.2f %12.2f\n", s.name.c_str(), s.workers,
                static_cast<unsigned long long>(s.rows), s.busy.count() / 1e9, s.wait_input.count() / 1e9,
                s.wait_output.count() / 1e9);
  return samples == epochs * (rows / batch) * batch ? 0 : 1;
}
