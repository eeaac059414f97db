// conveyor._core.bench: the `native` workload of conveyor-bench, a source with no Python in it,
// and the two floors it is judged against. Each sample is an image column (3x32x32 float32,
// every element float(index)) and a label column (int64 index): the rows of the py-small
// workload, made in C++.
#include <pybind11/stl.h>

#include <chrono>
#include <cstring>
#include <numeric>
#include <vector>

#include <conveyor/dataset.hpp>

#include "core/registry.hpp"

namespace conveyor::python {
namespace {

constexpr std::int64_t kChannels = 3, kSide = 32;
constexpr std::size_t kImageBytes = kChannels * kSide * kSide * sizeof(float);

// Row i: a freshly allocated image filled with float(i), and the label i. Thread-safe (const).
struct FilledRows {
  std::size_t n;
  std::size_t size() const { return n; }
  Row get(std::size_t i) const {
    Tensor image = Tensor::empty(DType::f32, {kChannels, kSide, kSide});
    float* values = reinterpret_cast<float*>(image.data());
    std::fill(values, values + kChannels * kSide * kSide, static_cast<float>(i));
    return {std::move(image), Tensor::scalar<std::int64_t>(static_cast<std::int64_t>(i))};
  }
};

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The hand-written floor: the same get() for indices 0..size-1, each row copied into its slot
// of one of two reused batch buffers (as a consumer would alternate them). Returns seconds.
double hand_loop(std::size_t size, std::size_t batch) {
  const FilledRows rows{size};
  std::vector<std::byte> images(2 * batch * kImageBytes);
  std::vector<std::int64_t> labels(2 * batch);
  volatile std::byte sink{};
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < size; ++i) {
    const std::size_t slot = i % (2 * batch);
    Row row = rows.get(i);
    row[0].copy_to(images.data() + slot * kImageBytes);
    row[1].copy_to(reinterpret_cast<std::byte*>(labels.data() + slot));
    if (i % batch == batch - 1) sink = images[slot * kImageBytes];
  }
  static_cast<void>(sink);
  return seconds_since(start);
}

// The memory-bandwidth bound for the same bytes: memcpy of `size` prepared rows (512 distinct
// ones, cycled, so that they are not all in cache) into two reused batch buffers. Returns seconds.
double memcpy_bound(std::size_t size, std::size_t batch) {
  constexpr std::size_t kPrepared = 512;
  std::vector<std::byte> prepared(kPrepared * kImageBytes, std::byte{1});
  std::vector<std::byte> images(2 * batch * kImageBytes);
  volatile std::byte sink{};
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < size; ++i) {
    const std::size_t slot = i % (2 * batch);
    std::memcpy(images.data() + slot * kImageBytes, prepared.data() + (i % kPrepared) * kImageBytes, kImageBytes);
    if (i % batch == batch - 1) sink = images[slot * kImageBytes];
  }
  static_cast<void>(sink);
  return seconds_since(start);
}

}  // namespace

void register_bench(py::module_& m) {
  py::module_ bench = m.def_submodule("bench", "The native workload of conveyor-bench and its floors.");
  bench.attr("IMAGE_SHAPE") = py::make_tuple(kChannels, kSide, kSide);
  bench.def(
      "native_dataset",
      [](std::size_t size, bool shuffle, std::size_t num_parallel_workers) {
        return GeneratorDataset(FilledRows{size}, {"image", "label"},
                                {.shuffle = shuffle, .num_parallel_workers = num_parallel_workers});
      },
      py::arg("size"), py::kw_only(), py::arg("shuffle"), py::arg("num_parallel_workers"),
      "A dataset of `size` rows made in C++ (no Python): image 3x32x32 float32 filled with "
      "float(index), label int64 index.");
  bench.def("hand_loop", &hand_loop, py::call_guard<py::gil_scoped_release>(), py::arg("size"), py::arg("batch"),
      "Seconds for a plain loop making the same rows as native_dataset and copying them into "
      "reused batch buffers, on the calling thread (GIL released).");
  bench.def("memcpy_bound", &memcpy_bound, py::call_guard<py::gil_scoped_release>(), py::arg("size"), py::arg("batch"),
      "Seconds for memcpy of `size` prepared 3x32x32 float32 rows into reused batch buffers, on "
      "the calling thread (GIL released).");
}

}  // namespace conveyor::python
