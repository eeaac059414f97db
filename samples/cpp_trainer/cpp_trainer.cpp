// cpp_trainer: trains a logistic regression in plain C++ (xtensor for the arithmetic) on a
// synthetic dataset streamed through conveyor: a random-access source, a global shuffle, a map
// that standardises the features on the engine's workers, and batch(drop_remainder). Prints the
// mean loss and the accuracy of each epoch; exits with status 1 unless the loss falls.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <vector>

#include <CLI/CLI.hpp>
#include <conveyor/conveyor.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xtensor.hpp>
#include <xtensor/xview.hpp>

namespace {

constexpr std::size_t kFeatures = 8;
// Raw features come as offset + scale * x, x standard normal: the map undoes it.
constexpr float kOffset = 5.0f, kScale = 3.0f;

// Row i: (kFeatures raw float32 features, label 0 or 1 as float32); the label is the side of a
// fixed hyperplane the standardised features fall on, so the loss can fall every epoch. Pure in
// i, so thread-safe.
struct Synthetic {
  std::size_t rows;
  std::size_t size() const { return rows; }
  conveyor::Row get(std::size_t i) const {
    std::mt19937_64 rng(i * 0x9E3779B97F4A7C15ULL + 1);
    std::normal_distribution<float> normal;
    auto features = conveyor::Tensor::empty(conveyor::DType::f32, {kFeatures});
    auto x = features.view<float>();
    float side = 0.5f;
    for (std::size_t k = 0; k < kFeatures; ++k) {
      float value = normal(rng);
      side += value * (k % 2 == 0 ? 1.0f : -0.5f);
      x(k) = kOffset + kScale * value;
    }
    return {features, conveyor::Tensor::scalar<float>(side > 0 ? 1.0f : 0.0f)};
  }
};

// The map: raw features back to zero mean and unit variance (a new tensor; the row's is shared).
conveyor::Row standardise(conveyor::Row row) {
  auto out = conveyor::Tensor::empty(conveyor::DType::f32, row[0].shape());
  out.view<float>() = (row[0].view<float>() - kOffset) / kScale;
  return {out};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Trains a logistic regression on data streamed through conveyor."};
  std::size_t rows = 20000, epochs = 5, workers = 2, batch = 64;
  float learning_rate = 0.5f;
  app.add_option("--rows", rows, "rows per epoch")->capture_default_str();
  app.add_option("--epochs", epochs, "epochs to train")->capture_default_str();
  app.add_option("--workers", workers, "workers per parallel stage")->capture_default_str();
  app.add_option("--batch", batch, "batch size")->capture_default_str();
  app.add_option("--lr", learning_rate, "learning rate")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  auto dataset = conveyor::GeneratorDataset(Synthetic{rows}, {"features", "label"},
                                            {.shuffle = true, .seed = 7, .num_parallel_workers = workers})
                     .map(standardise, {"features"}, {}, workers)
                     .batch(batch, /*drop_remainder=*/true);

  xt::xtensor<float, 1> weights = xt::zeros<float>({kFeatures});
  float bias = 0;
  std::vector<double> losses;
  auto iterator = dataset.iterate(static_cast<std::int64_t>(epochs));
  for (std::size_t epoch = 0; epoch < epochs; ++epoch) {
    double loss_sum = 0;
    std::size_t seen = 0, correct = 0;
    while (auto b = iterator.next_in_epoch()) {
      // Views over the batch buffer: no copy until the arithmetic below.
      auto x = (*b)["features"].view<float>();
      auto y = (*b)["label"].view<float>();
      xt::xtensor<float, 1> p = 1.0f / (1.0f + xt::exp(-(xt::sum(x * weights, {1}) + bias)));
      xt::xtensor<float, 1> error = p - y;
      auto n = static_cast<float>(p.size());
      weights -= learning_rate * xt::sum(x * xt::view(error, xt::all(), xt::newaxis()), {0}) / n;
      bias -= learning_rate * xt::sum(error)() / n;
      auto clipped = xt::clip(p, 1e-6f, 1.0f - 1e-6f);
      loss_sum -= xt::sum(y * xt::log(clipped) + (1.0f - y) * xt::log(1.0f - clipped))();
      correct += static_cast<std::size_t>(xt::sum(xt::cast<int>(xt::equal(p > 0.5f, y > 0.5f)))());
      seen += p.size();
    }
    if (seen == 0) {
      std::fprintf(stderr, "epoch %zu: no batch (fewer rows than one batch?)\n", epoch);
      return 1;
    }
    losses.push_back(loss_sum / static_cast<double>(seen));
    std::printf("epoch %zu: loss %.4f, accuracy %.3f over %zu samples\n", epoch, losses.back(),
                static_cast<double>(correct) / static_cast<double>(seen), seen);
  }

  std::printf("%-10s %8s %10s %10s %12s %12s\n", "stage", "workers", "rows", "busy s", "wait in s", "wait out s");
  for (const auto& s : iterator.stats())
    std::printf("%-10s %8zu %10llu %10.3f %12.3f %12.3f\n", s.name.c_str(), s.workers,
                static_cast<unsigned long long>(s.rows), s.busy.count() / 1e9, s.wait_input.count() / 1e9,
                s.wait_output.count() / 1e9);
  bool fell = losses.size() >= 2 && losses.back() < 0.8 * losses.front();
  std::printf("loss %.4f -> %.4f: %s\n", losses.front(), losses.back(), fell ? "fell" : "DID NOT FALL");
  return fell ? 0 : 1;
}
