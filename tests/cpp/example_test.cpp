// The C++ API example from the engine's issue, compiled and run as written.
#include <gtest/gtest.h>

#include <conveyor/conveyor.hpp>

namespace {

struct Squares {  // any type with size() and get(i)
  std::size_t size() const { return 1000; }
  conveyor::Row get(std::size_t i) const {
    return {conveyor::Tensor::scalar<std::int64_t>(i), conveyor::Tensor::scalar<float>(float(i) * i)};
  }
};

int example_main() {
  auto ds = conveyor::GeneratorDataset(Squares{}, {"index", "square"},
                                       {.shuffle = true, .seed = 7, .num_parallel_workers = 2})
                .map([](conveyor::Row row) { return row; }, {"square"})
                .batch(64, /*drop_remainder=*/true);
  std::size_t n = 0;
  for (const conveyor::Batch& b : ds.iterate(/*num_epochs=*/2)) {
    auto idx = b["index"].view<std::int64_t>();  // shape {64}, no copy
    n += idx.size();
  }
  return n == 2 * 15 * 64 ? 0 : 1;
}

TEST(ExampleTest, IssueExampleRunsAsWritten) { EXPECT_EQ(example_main(), 0); }

}  // namespace
