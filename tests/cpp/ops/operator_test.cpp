// Native operators as a pipeline uses them: declarations, argument checking, fusion, and an
// image pipeline whose random augmentations do not depend on the worker count.
#include <gtest/gtest.h>

#include <set>

#include "conveyor/conveyor.hpp"
#include "conveyor/ops/color.hpp"
#include "conveyor/ops/layout.hpp"
#include "conveyor/ops/operator.hpp"
#include "images.hpp"

namespace conveyor::ops {
namespace {

using testing::bytes_tensor;
using testing::encode;
using testing::smooth_image;

TEST(OperatorTest, EveryOperatorHasAUniqueNameAModuleAndDocumentedParams) {
  std::set<std::string> names;
  for (const Operator& op : operators()) {
    EXPECT_TRUE(names.insert(op.name).second) << op.name;
    EXPECT_TRUE(op.module == "vision" || op.module == "transforms") << op.name;
    EXPECT_FALSE(op.doc.empty()) << op.name;
    for (const Param& p : op.params) EXPECT_FALSE(p.doc.empty()) << op.name << "." << p.name;
  }
  for (const char* expected : {"Decode", "Resize", "CenterCrop", "RandomCrop", "RandomResizedCrop",
                               "RandomCropDecodeResize", "RandomHorizontalFlip", "RandomVerticalFlip", "Normalize",
                               "HWC2CHW", "Rescale", "RandomColorAdjust", "Pad", "TypeCast", "OneHot", "Fill"})
    EXPECT_TRUE(names.count(expected)) << expected;
}

TEST(OperatorTest, BadArgumentsAreRejectedWhenTheOpIsMade) {
  EXPECT_THROW(make_ops({{"NoSuchOp", {}}}), std::invalid_argument);
  EXPECT_THROW(make_ops({{"Resize", {}}}), std::invalid_argument);                               // size missing
  EXPECT_THROW(make_ops({{"Resize", {{"size", std::string("big")}}}}), std::invalid_argument);   // wrong kind
  EXPECT_THROW(make_ops({{"Resize", {{"size", std::vector<double>{1, 2, 3}}}}}), std::invalid_argument);
  EXPECT_THROW(make_ops({{"Resize", {{"size", std::vector<double>{8}}, {"colour", true}}}}), std::invalid_argument);
  EXPECT_THROW(make_ops({{"Resize", {{"size", std::vector<double>{8}}, {"interpolation", std::string("x")}}}}),
               std::invalid_argument);
  EXPECT_THROW(make_ops({{"Decode", {{"to_pil", true}}}}), std::invalid_argument);
  EXPECT_THROW(make_ops({{"RandomColorAdjust", {{"hue", std::vector<double>{-0.1, 0.1}}}}}), std::invalid_argument);
  EXPECT_THROW(make_ops({{"Pad", {{"padding", std::vector<double>{1, 1, 1, 1}}, {"padding_mode", std::string("edge")}}}}),
               std::invalid_argument);
  EXPECT_THROW(make_ops({{"TypeCast", {{"data_type", std::string("float128")}}}}), std::invalid_argument);
}

TEST(OperatorTest, NormalizeThenHwc2chwIsFusedIntoOnePass) {
  std::vector<double> mean{120, 110, 100}, std{50, 60, 70};
  auto fused = make_ops({{"Normalize", {{"mean", mean}, {"std", std}}}, {"HWC2CHW", {}}});
  ASSERT_EQ(fused.size(), 1u);
  EXPECT_TRUE(fused[0].target<SlotOp>()) << "a batch right after it could not write it in place";
  Tensor image = smooth_image(6, 5, 3);
  Tensor out = fused[0]({image}, {})[0];
  Tensor expected = hwc2chw(normalize(image, {120, 110, 100}, {50, 60, 70}));
  ASSERT_EQ(out.shape(), expected.shape());
  auto a = out.view<float>();
  auto b = expected.view<float>();
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_FLOAT_EQ(a.flat(i), b.flat(i));
}

TEST(OperatorTest, RandomOpsDependOnlyOnTheirContext) {
  auto flip = make_ops({{"RandomResizedCrop", {{"size", std::vector<double>{8}}}}}).front();
  Tensor image = smooth_image(40, 30, 3);
  auto run = [&](OpContext c) { return testing::pixels(flip({image}, c)[0]); };
  EXPECT_EQ(run({1, 0, 5, 0}), run({1, 0, 5, 0}));
  std::set<std::vector<std::uint8_t>> distinct;
  for (std::uint64_t sample = 0; sample < 8; ++sample) distinct.insert(run({1, 0, sample, 0}));
  EXPECT_GT(distinct.size(), 4u) << "different samples should get different crops";
}

// JPEG files of a generated image per index, as an image folder would hold.
struct Jpegs {
  std::size_t n;
  std::size_t size() const { return n; }
  Row get(std::size_t i) const {
    Tensor image = testing::noise_image(48, 64, 3, i + 1);
    return {bytes_tensor(encode(image, ".jpg")), Tensor::scalar<std::int64_t>(static_cast<std::int64_t>(i % 10))};
  }
};

class ImagePipelineTest : public ::testing::TestWithParam<std::size_t> {};

TEST_P(ImagePipelineTest, AugmentationsAreIdenticalWhateverTheWorkerCount) {
  auto run = [](std::size_t workers) {
    auto ops = make_ops({{"RandomCropDecodeResize", {{"size", std::vector<double>{24}}}},
                         {"RandomHorizontalFlip", {}},
                         {"Normalize", {{"mean", std::vector<double>{127, 127, 127}}, {"std", std::vector<double>{60, 60, 60}}}},
                         {"HWC2CHW", {}}});
    auto ds = GeneratorDataset(Jpegs{40}, {"image", "label"}, {.seed = 3, .num_parallel_workers = workers})
                  .map(ops, {"image"}, {}, workers)
                  .batch(8, true);
    std::vector<float> values;
    for (const Batch& b : ds.iterate(2)) {
      EXPECT_EQ(b["image"].shape(), (Shape{8, 3, 24, 24}));
      auto v = b["image"].view<float>();
      values.insert(values.end(), v.begin(), v.end());
    }
    return values;
  };
  EXPECT_EQ(run(GetParam()), run(1));
}

INSTANTIATE_TEST_SUITE_P(Workers, ImagePipelineTest, ::testing::Values(2u, 4u));

TEST(ImagePipelineTest, NormalizingStraightIntoTheBatchGivesTheSameBatches) {
  auto ops = make_ops({{"RandomCropDecodeResize", {{"size", std::vector<double>{24}}}},
                       {"Normalize", {{"mean", std::vector<double>{127, 120, 110}}, {"std", std::vector<double>{60, 61, 62}}}},
                       {"HWC2CHW", {}}});
  auto images = GeneratorDataset(Jpegs{40}, {"image", "label"}, {.seed = 3, .num_parallel_workers = 2}).map(ops, {"image"});
  auto read = [](Dataset ds) {
    std::vector<float> values;
    for (const Batch& b : ds.iterate()) {
      EXPECT_EQ(b["image"].shape(), (Shape{8, 3, 24, 24}));
      auto v = b["image"].view<float>();
      values.insert(values.end(), v.begin(), v.end());
    }
    return values;
  };
  // take() between the map and the batch makes the map normalise into tensors of its own.
  EXPECT_EQ(read(images.batch(8)), read(images.take(40).batch(8)));
}

TEST(ImagePipelineTest, EachEpochDrawsNewAugmentationsOfTheSameImages) {
  auto ops = make_ops({{"RandomCropDecodeResize", {{"size", std::vector<double>{24}}}}, {"RandomHorizontalFlip", {}}});
  auto ds = GeneratorDataset(Jpegs{16}, {"image", "label"}, {.shuffle = false, .seed = 3}).map(ops, {"image"});
  std::vector<std::vector<std::uint8_t>> epochs(2);
  auto it = ds.iterate(2);
  for (auto& pixels : epochs)
    for (std::size_t i = 0; i < 16; ++i) {
      auto row = it.next();
      ASSERT_TRUE(row);
      const auto p = testing::pixels((*row)[0]);
      pixels.insert(pixels.end(), p.begin(), p.end());
    }
  EXPECT_FALSE(it.next());
  EXPECT_NE(epochs[0], epochs[1]);
}

TEST(ImagePipelineTest, ACorruptImageNamesTheMapAndTheSample) {
  auto source = function_source(10, [](std::size_t i) {
    auto encoded = encode(smooth_image(16, 16, 3), ".jpg");
    if (i == 6) encoded.resize(encoded.size() / 2);  // a truncated file
    return Row{bytes_tensor(encoded)};
  });
  auto ds = GeneratorDataset(source, {"image"}, {.shuffle = false}).map(make_ops({{"Decode", {}}}), {"image"}, {}, 2);
  auto it = ds.iterate();
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(it.next());
  try {
    it.next();
    FAIL() << "the truncated JPEG decoded";
  } catch (const Error& e) {
    EXPECT_EQ(e.stage(), "map[0]");
    EXPECT_EQ(e.sample(), 6u);
  }
}

}  // namespace
}  // namespace conveyor::ops
