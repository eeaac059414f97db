// The cropped JPEG decoder (ops/src/codecs/jpeg_window.hpp, internal): the window it decodes is the same
// window of a whole decode by TurboJPEG at the same scale, bit for bit, whatever the chroma
// subsampling, scale, window and encoding; and its bad input is an error.

#include "codecs/jpeg_window.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include <opencv2/imgcodecs.hpp>

#include "codecs/jpeg_turbo.hpp"
#include "conveyor/detail/random.hpp"
#include "errors.hpp"
#include "images.hpp"
#include "printers.hpp"

namespace conveyor::ops::internal {
namespace {

using testing::encode;
using testing::expect_invalid_argument;
using testing::identical;
using testing::noise_image;
using testing::smooth_image;

using Bytes = std::vector<unsigned char>;

// A textured image (smooth waves plus noise), so that every pixel of a window matters.
Tensor textured(std::int64_t h, std::int64_t w, std::int64_t c) {
  Tensor img = smooth_image(h, w, c);
  const Tensor noise = noise_image(h, w, c, 5);
  auto* p = reinterpret_cast<std::uint8_t*>(img.data());
  const auto* n = reinterpret_cast<const std::uint8_t*>(noise.data());
  for (std::int64_t i = 0; i < img.numel(); ++i) p[i] = static_cast<std::uint8_t>((p[i] * 3 + n[i]) / 4);
  return img;
}

Tensor whole(std::span<const unsigned char> jpeg, tjscalingfactor scale, bool grayscale) {
  JpegDecoder decoder("test");
  return decoder.decode(jpeg, decoder.header(jpeg), scale, grayscale);
}

// `img` (RGB or grey) encoded by TurboJPEG with `subsampling` (TJSAMP_*) and `flags`.
Bytes turbo_encode(const Tensor& img, int subsampling, int flags = 0) {
  std::unique_ptr<void, int (*)(tjhandle)> handle(tjInitCompress(), &tjDestroy);
  unsigned char* jpeg = nullptr;
  unsigned long size = 0;
  const int width = static_cast<int>(img.shape()[1]);
  const int format = img.shape()[2] == 1 ? TJPF_GRAY : TJPF_RGB;
  if (tjCompress2(handle.get(), reinterpret_cast<const unsigned char*>(img.data()), width, 0,
                  static_cast<int>(img.shape()[0]), format, &jpeg, &size, subsampling, 90, flags) != 0)
    throw std::runtime_error("test: tjCompress2 failed");
  Bytes out(jpeg, jpeg + size);
  tjFree(jpeg);
  return out;
}

struct Encoding {
  std::string name;
  std::function<Bytes(const Tensor&)> encode;
  std::int64_t channels;
};

std::vector<Encoding> encodings() {
  return {{"420", [](const Tensor& t) { return turbo_encode(t, TJSAMP_420); }, 3},
          {"422", [](const Tensor& t) { return turbo_encode(t, TJSAMP_422); }, 3},
          {"440", [](const Tensor& t) { return turbo_encode(t, TJSAMP_440); }, 3},
          {"444", [](const Tensor& t) { return turbo_encode(t, TJSAMP_444); }, 3},
          {"411", [](const Tensor& t) { return turbo_encode(t, TJSAMP_411); }, 3},
          {"progressive_420", [](const Tensor& t) { return turbo_encode(t, TJSAMP_420, TJFLAG_PROGRESSIVE); }, 3},
          {"restart_intervals", [](const Tensor& t) { return encode(t, ".jpg", {cv::IMWRITE_JPEG_RST_INTERVAL, 3}); }, 3},
          {"grey", [](const Tensor& t) { return turbo_encode(t, TJSAMP_GRAY); }, 1}};
}

class JpegWindowTest : public ::testing::TestWithParam<std::tuple<Encoding, int>> {};

TEST_P(JpegWindowTest, IsTheSameWindowOfAWholeDecodeBitForBit) {
  const auto& [encoding, scale_num] = GetParam();
  const tjscalingfactor scale{scale_num, 8};
  const Bytes jpeg = encoding.encode(textured(123, 157, encoding.channels));
  for (const bool grayscale : {false, true}) {
    const Tensor reference = whole(jpeg, scale, grayscale);
    const std::int64_t h = reference.shape()[0];
    const std::int64_t w = reference.shape()[1];
    detail::Rng rng(static_cast<std::uint64_t>(scale_num) * 31 + encoding.channels);
    std::vector<PixelWindow> windows = {{0, 0, h, w}, {0, 0, 1, 1}, {h - 1, w - 1, 1, 1}, {h / 3, w / 2, h - h / 3, w - w / 2}};
    for (int i = 0; i < 200; ++i) {
      const auto top = static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(h)));
      const auto left = static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(w)));
      windows.push_back({top, left, 1 + static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(h - top))),
                         1 + static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(w - left)))});
    }
    for (const PixelWindow& win : windows) {
      const Tensor got = decode_jpeg_window("test", jpeg, scale, win, grayscale);
      const Tensor want = reference.slice(0, win.top, win.top + win.height).slice(1, win.left, win.left + win.width);
      ASSERT_TRUE(identical(got, want)) << encoding.name << " scale " << scale_num << "/8 grayscale " << grayscale
                                        << " window top " << win.top << " left " << win.left << " " << win.height
                                        << "x" << win.width << " of " << h << "x" << w;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(EncodingsAndScales, JpegWindowTest,
                         ::testing::Combine(::testing::ValuesIn(encodings()), ::testing::Values(8, 7, 4, 3, 1)),
                         [](const auto& info) {
                           return std::get<0>(info.param).name + "_" + std::to_string(std::get<1>(info.param)) + "_8";
                         });

TEST(JpegWindowErrorTest, RejectsATruncatedJpegEvenWhenTheWindowEndsBeforeTheCut) {
  Bytes jpeg = encode(textured(64, 64, 3), ".jpg");
  jpeg.resize(jpeg.size() - jpeg.size() / 4);
  expect_invalid_argument([&] { decode_jpeg_window("op", jpeg, {1, 1}, {0, 0, 8, 8}, false); },
                          "conveyor: op: truncated JPEG");
}

// The offset of the first `a b` byte pair in `data`.
std::size_t find_pair(const Bytes& data, unsigned char a, unsigned char b) {
  for (std::size_t i = 0; i + 1 < data.size(); ++i)
    if (data[i] == a && data[i + 1] == b) return i;
  throw std::runtime_error("test: marker not found");
}

TEST(JpegWindowErrorTest, RejectsWhatLibjpegCannotDecode) {
  const Bytes jpeg = turbo_encode(textured(64, 64, 3), TJSAMP_420);
  Bytes precision = jpeg;
  precision[find_pair(precision, 0xFF, 0xC0) + 4] = 12;  // SOF0: 12-bit samples, which this build cannot read
  expect_invalid_argument([&] { decode_jpeg_window("op", precision, {1, 1}, {0, 0, 8, 8}, false); },
                          "conveyor: op: corrupt JPEG (header): ", "precision");
  Bytes table = jpeg;
  table[find_pair(table, 0xFF, 0xDA) + 6] = 0x33;  // SOS: the first component's Huffman tables become 3, never defined
  expect_invalid_argument([&] { decode_jpeg_window("op", table, {1, 1}, {0, 0, 8, 8}, false); },
                          "conveyor: op: corrupt JPEG (", "Huffman table");
}

}  // namespace
}  // namespace conveyor::ops::internal
