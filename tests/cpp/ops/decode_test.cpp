#include "conveyor/ops/decode.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <zlib.h>

#include "conveyor/ops/geometry.hpp"
#include "errors.hpp"
#include "images.hpp"
#include "printers.hpp"

namespace conveyor::ops {
namespace {

using testing::bytes_tensor;
using testing::encode;
using testing::expect_invalid_argument;
using testing::identical;
using testing::mean_abs_diff;
using testing::noise_image;
using testing::smooth_image;
using testing::tensor_of;

using Bytes = std::vector<unsigned char>;

const std::string kDecode = "conveyor: decode: ";

Tensor decode_bytes(const Bytes& data, DecodeOptions options = {}) { return decode(bytes_tensor(data), options); }

// The offset of the first `a b` byte pair at or after `from`.
std::size_t find_pair(const Bytes& data, unsigned char a, unsigned char b, std::size_t from = 0) {
  for (std::size_t i = from; i + 1 < data.size(); ++i)
    if (data[i] == a && data[i + 1] == b) return i;
  throw std::runtime_error("test: marker not found");
}

void put_big_endian(Bytes& data, std::size_t at, std::uint32_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) data[at + i] = static_cast<unsigned char>(value >> (8 * (bytes - 1 - i)));
}

void put_little_endian(Bytes& data, std::size_t at, std::uint32_t value) {
  for (int i = 0; i < 4; ++i) data[at + i] = static_cast<unsigned char>(value >> (8 * i));
}

// A JPEG whose SOF0 header claims height x width (each at most 65535).
Bytes jpeg_claiming(std::uint32_t height, std::uint32_t width) {
  Bytes data = encode(smooth_image(16, 16, 3), ".jpg");
  const std::size_t sof = find_pair(data, 0xFF, 0xC0);  // marker, length (2), precision (1), height, width
  put_big_endian(data, sof + 5, height, 2);
  put_big_endian(data, sof + 7, width, 2);
  return data;
}

// A PNG whose IHDR claims height x width, with its CRC recomputed so that only the size is wrong.
Bytes png_claiming(std::uint32_t height, std::uint32_t width) {
  Bytes data = encode(noise_image(16, 16, 3), ".png");
  put_big_endian(data, 16, width, 4);
  put_big_endian(data, 20, height, 4);
  put_big_endian(data, 29, static_cast<std::uint32_t>(crc32(0, data.data() + 12, 17)), 4);  // over type + data
  return data;
}

// ---------------------------------------------------------------------------------------------
// Lossless formats decode exactly; JPEG within its loss

class LosslessDecodeTest : public ::testing::TestWithParam<std::tuple<std::string, std::int64_t>> {};

TEST_P(LosslessDecodeTest, DecodesColourExactly) {
  const auto [extension, size] = GetParam();
  const Tensor img = noise_image(size, size + 3, 3, 21);
  const Tensor out = decode_bytes(encode(img, extension));
  EXPECT_EQ(out.shape(), (Shape{size, size + 3, 3}));
  EXPECT_EQ(out.dtype(), DType::u8);
  EXPECT_TRUE(identical(out, img));
}

TEST_P(LosslessDecodeTest, DecodesAGreyFileAsEqualRgbChannelsOrOneChannel) {
  const auto [extension, size] = GetParam();
  const Tensor grey = noise_image(size, size, 1, 22);
  const Bytes data = encode(grey, extension);
  EXPECT_TRUE(identical(decode_bytes(data, {.grayscale = true}), grey));
  const Tensor rgb = decode_bytes(data);
  ASSERT_EQ(rgb.shape(), (Shape{size, size, 3}));
  for (std::int64_t c = 0; c < 3; ++c) EXPECT_TRUE(identical(rgb.slice(2, c, c + 1), grey));
}

INSTANTIATE_TEST_SUITE_P(PngAndBmp, LosslessDecodeTest,
                         ::testing::Combine(::testing::Values(".png", ".bmp"), ::testing::Values(1, 7, 64)));

TEST(DecodeTest, DropsThePngAlphaChannel) {
  const Tensor rgba = noise_image(9, 10, 4, 23);
  cv::Mat bgra;
  cv::cvtColor(testing::mat_of(rgba), bgra, cv::COLOR_RGBA2BGRA);
  Bytes data;
  ASSERT_TRUE(cv::imencode(".png", bgra, data));
  EXPECT_EQ(peek(bytes_tensor(data)).channels, 4);
  EXPECT_TRUE(identical(decode_bytes(data), rgba.slice(2, 0, 3)));
}

TEST(DecodeTest, ReducesA16BitPngTo8Bits) {
  cv::Mat deep(6, 7, CV_16UC3);
  cv::randu(deep, 0, 65536);
  Bytes data;
  ASSERT_TRUE(cv::imencode(".png", deep, data));
  cv::Mat expected;
  deep.convertTo(expected, CV_8U, 1.0 / 256);
  cv::cvtColor(expected, expected, cv::COLOR_BGR2RGB);
  EXPECT_LE(testing::max_abs_diff(decode_bytes(data), tensor_of(expected)), 1);
}

TEST(DecodeTest, DecodesJpegWithinItsLossAndAsOpenCvDoes) {
  const Tensor img = smooth_image(120, 160, 3);
  const Bytes data = encode(img, ".jpg", {cv::IMWRITE_JPEG_QUALITY, 95});
  const Tensor out = decode_bytes(data);
  ASSERT_EQ(out.shape(), (Shape{120, 160, 3}));
  EXPECT_LT(mean_abs_diff(out, img), 2.0);
  cv::Mat bgr = cv::imdecode(data, cv::IMREAD_COLOR);
  cv::cvtColor(bgr, bgr, cv::COLOR_BGR2RGB);
  EXPECT_LT(mean_abs_diff(out, tensor_of(bgr)), 0.5) << "both are libjpeg-turbo";
}

TEST(DecodeTest, DecodesJpegToItsLuma) {
  const Bytes data = encode(smooth_image(64, 48, 3), ".jpg");
  const Tensor out = decode_bytes(data, {.grayscale = true});
  ASSERT_EQ(out.shape(), (Shape{64, 48, 1}));
  EXPECT_LT(mean_abs_diff(out, tensor_of(cv::imdecode(data, cv::IMREAD_GRAYSCALE))), 0.5);
}

TEST(DecodeTest, DecodesAGreyJpegAsEqualRgbChannels) {
  const Tensor grey = smooth_image(32, 40, 1);
  const Tensor out = decode_bytes(encode(grey, ".jpg", {cv::IMWRITE_JPEG_QUALITY, 98}));
  ASSERT_EQ(out.shape(), (Shape{32, 40, 3}));
  EXPECT_TRUE(identical(out.slice(2, 0, 1), out.slice(2, 1, 2)));
  EXPECT_LT(mean_abs_diff(out.slice(2, 2, 3), grey), 2.0);
}

TEST(DecodeTest, AcceptsUint8TensorsAndBytesAfterTheEndOfAJpeg) {
  Bytes data = encode(smooth_image(16, 16, 3), ".jpg");
  const Tensor expected = decode_bytes(data);
  EXPECT_TRUE(identical(decode(Tensor::copy_of<unsigned char>(data)), expected));
  data.insert(data.end(), 100, 0);
  EXPECT_TRUE(identical(decode_bytes(data), expected));
}

TEST(PeekTest, ReadsSizeChannelsAndFormatFromTheHeader) {
  const auto info = [](const Bytes& data) { return peek(bytes_tensor(data)); };
  const ImageInfo jpeg = info(encode(smooth_image(30, 50, 3), ".jpg"));
  EXPECT_EQ(std::tie(jpeg.height, jpeg.width, jpeg.channels), std::make_tuple(30, 50, 3));
  EXPECT_EQ(jpeg.format, ImageFormat::jpeg);
  const ImageInfo grey_jpeg = info(encode(smooth_image(8, 9, 1), ".jpg"));
  EXPECT_EQ(grey_jpeg.channels, 1);
  const ImageInfo png = info(encode(noise_image(31, 17, 3), ".png"));
  EXPECT_EQ(std::tie(png.height, png.width, png.channels), std::make_tuple(31, 17, 3));
  EXPECT_EQ(png.format, ImageFormat::png);
  EXPECT_EQ(info(encode(noise_image(5, 6, 1), ".png")).channels, 1);
  const ImageInfo bmp = info(encode(noise_image(12, 13, 3), ".bmp"));
  EXPECT_EQ(std::tie(bmp.height, bmp.width, bmp.channels), std::make_tuple(12, 13, 3));
  EXPECT_EQ(bmp.format, ImageFormat::bmp);
  EXPECT_EQ(info(png_claiming(100000, 100000)).height, 100000) << "peek reads, it does not refuse";
}

// ---------------------------------------------------------------------------------------------
// Bad input is a clear std::invalid_argument, never a crash or a huge allocation

TEST(DecodeErrorTest, RejectsAnEmptyInput) {
  expect_invalid_argument([] { decode(Tensor::bytes("")); }, kDecode, "empty");
  expect_invalid_argument([] { decode(Tensor()); }, kDecode, "undefined");
  expect_invalid_argument([] { decode(Tensor::zeros(DType::f32, {10})); }, kDecode, "float32");
  expect_invalid_argument([] { decode(Tensor::zeros(DType::u8, {2, 5})); }, kDecode, "1-D");
}

TEST(DecodeErrorTest, RejectsRandomBytesAsAnUnknownFormat) {
  expect_invalid_argument([] { decode(bytes_tensor(testing::pixels(noise_image(1, 1000, 1, 3)))); }, kDecode,
                          "unknown image format");
  expect_invalid_argument([] { decode(Tensor::bytes("GIF89a......")); }, kDecode, "unknown image format");
}

TEST(DecodeErrorTest, RejectsRandomBytesAfterEachSignature) {
  const auto noise = testing::pixels(noise_image(1, 2000, 1, 4));
  for (const Bytes& signature : {Bytes{0xFF, 0xD8, 0xFF}, Bytes{0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'}, Bytes{'B', 'M'}}) {
    Bytes data = signature;
    data.insert(data.end(), noise.begin(), noise.end());
    EXPECT_THROW(decode_bytes(data), std::invalid_argument);
    EXPECT_THROW(peek(bytes_tensor(Bytes(signature))), std::invalid_argument) << "a bare signature";
  }
}

TEST(DecodeErrorTest, RejectsAJpegCutInHalf) {
  Bytes data = encode(noise_image(64, 64, 3), ".jpg");
  data.resize(data.size() / 2);
  expect_invalid_argument([&] { decode_bytes(data); }, kDecode, "truncated JPEG");
  Bytes header_only = encode(noise_image(64, 64, 3), ".jpg");
  header_only.resize(find_pair(header_only, 0xFF, 0xDA));  // cut before the scan
  expect_invalid_argument([&] { decode_bytes(header_only); }, kDecode, "truncated JPEG header");
  Bytes without_end = encode(noise_image(64, 64, 3), ".jpg");
  without_end.resize(without_end.size() - 2);  // every scan byte, but no end-of-image marker
  expect_invalid_argument([&] { decode_bytes(without_end); }, kDecode, "truncated JPEG");
}

TEST(DecodeErrorTest, RejectsATruncatedPngAndBmp) {
  for (const char* extension : {".png", ".bmp"}) {
    Bytes data = encode(noise_image(32, 32, 3), extension);
    data.resize(data.size() / 2);
    expect_invalid_argument([&] { decode_bytes(data); }, kDecode, "corrupt or truncated");
  }
}

TEST(DecodeErrorTest, RejectsAPngWithACorruptedDataChunk) {
  Bytes data = encode(noise_image(32, 32, 3), ".png");
  const std::size_t idat = find_pair(data, 'I', 'D');
  data[idat + 20] ^= 0x5A;  // inside IDAT's data: its CRC no longer matches
  expect_invalid_argument([&] { decode_bytes(data); }, kDecode, "png");
  Bytes bad_crc = encode(noise_image(32, 32, 3), ".png");
  bad_crc[30] ^= 0xFF;  // IHDR's CRC
  expect_invalid_argument([&] { decode_bytes(bad_crc); }, kDecode, "png");
}

TEST(DecodeErrorTest, RefusesHeadersClaimingTooManyPixelsBeforeAllocating) {
  expect_invalid_argument([] { decode_bytes(png_claiming(100000, 100000)); }, kDecode,
                          "png header claims 100000x100000 = 10000000000 pixels, more than max_pixels");
  expect_invalid_argument([] { decode_bytes(jpeg_claiming(65000, 65000)); }, kDecode, "jpeg header claims 65000x65000");
  Bytes bmp = encode(noise_image(8, 8, 3), ".bmp");
  put_little_endian(bmp, 18, 100000);
  put_little_endian(bmp, 22, 100000);
  expect_invalid_argument([&] { decode_bytes(bmp); }, kDecode, "bmp header claims 100000x100000");
  expect_invalid_argument([] { decode_bytes(encode(noise_image(20, 20, 3), ".png"), {.max_pixels = 399}); }, kDecode,
                          "more than max_pixels = 399");
  EXPECT_NO_THROW(decode_bytes(encode(noise_image(20, 20, 3), ".png"), {.max_pixels = 400}));
}

TEST(DecodeErrorTest, RejectsHeadersWithAZeroSize) {
  expect_invalid_argument([] { decode_bytes(png_claiming(0, 16)); }, kDecode, "PNG");
  expect_invalid_argument([] { decode_bytes(jpeg_claiming(0, 16)); }, kDecode, "JPEG");
}

class MutatedFileTest : public ::testing::TestWithParam<std::string> {};

TEST_P(MutatedFileTest, EitherDecodesOrThrowsInvalidArgument) {
  const Bytes original = encode(smooth_image(40, 48, 3), GetParam());
  detail::Rng rng(31337);
  int decoded = 0;
  for (int trial = 0; trial < 300; ++trial) {
    Bytes data = original;
    const auto flips = 1 + rng.below(4);
    for (std::uint64_t i = 0; i < flips; ++i) data[rng.below(data.size())] ^= static_cast<unsigned char>(1 + rng.below(255));
    if (rng.below(4) == 0) data.resize(rng.below(data.size()) + 1);
    try {
      const Tensor out = decode_bytes(data, {.max_pixels = 1 << 20});
      EXPECT_EQ(out.shape()[2], 3);
      ++decoded;
    } catch (const std::invalid_argument&) {
    }
  }
  RecordProperty("decoded", decoded);
}

INSTANTIATE_TEST_SUITE_P(Formats, MutatedFileTest, ::testing::Values(".jpg", ".png", ".bmp"));

// ---------------------------------------------------------------------------------------------
// decode_random_resized_crop: the same window as decode + random_resized_crop, close pixels

using FusedCase = std::tuple<Interpolation, std::array<std::int64_t, 2>>;

class FusedDecodeCropTest : public ::testing::TestWithParam<FusedCase> {};

TEST_P(FusedDecodeCropTest, MatchesDecodeThenCropOfTheSameWindowThenResize) {
  const auto [interpolation, size] = GetParam();
  const Bytes data = encode(smooth_image(480, 640, 3), ".jpg", {cv::IMWRITE_JPEG_QUALITY, 95});
  const Tensor full = decode_bytes(data);
  for (std::uint64_t seed = 0; seed < 10; ++seed) {
    detail::Rng rng(seed);
    detail::Rng replay(seed);
    const Tensor fused = decode_random_resized_crop(bytes_tensor(data), size[0], size[1], {}, interpolation, rng);
    const CropWindow w = choose_crop_window(480, 640, {}, replay);
    const Tensor expected = resize(crop(full, w.top, w.left, w.height, w.width), size[0], size[1], interpolation);
    ASSERT_EQ(fused.shape(), (Shape{size[0], size[1], 3}));
    EXPECT_LT(mean_abs_diff(fused, expected), 3.0) << "seed " << seed << ", window " << w.height << "x" << w.width;
    EXPECT_EQ(rng.next(), replay.next()) << "the fused op draws exactly what choose_crop_window draws";
  }
}

INSTANTIATE_TEST_SUITE_P(FiltersAndSizes, FusedDecodeCropTest,
                         ::testing::Combine(::testing::Values(Interpolation::nearest, Interpolation::linear,
                                                              Interpolation::cubic, Interpolation::area),
                                            ::testing::Values(std::array<std::int64_t, 2>{224, 224},
                                                              std::array<std::int64_t, 2>{64, 96},
                                                              std::array<std::int64_t, 2>{32, 48})));

TEST(FusedDecodeCropTest, IsExactlyDecodeThenRandomResizedCropForPng) {
  const Bytes data = encode(noise_image(60, 80, 3), ".png");
  for (std::uint64_t seed = 0; seed < 10; ++seed) {
    detail::Rng a(seed);
    detail::Rng b(seed);
    EXPECT_TRUE(identical(decode_random_resized_crop(bytes_tensor(data), 32, 32, {}, Interpolation::linear, a),
                          random_resized_crop(decode_bytes(data), 32, 32, {}, Interpolation::linear, b)));
  }
}

TEST(FusedDecodeCropTest, DecodesGreyWhenAsked) {
  const Bytes data = encode(smooth_image(100, 100, 3), ".jpg");
  detail::Rng rng(1);
  const Tensor out = decode_random_resized_crop(bytes_tensor(data), 20, 30, {}, Interpolation::linear, rng,
                                                {.grayscale = true});
  EXPECT_EQ(out.shape(), (Shape{20, 30, 1}));
}

TEST(FusedDecodeCropTest, SameSeedGivesIdenticalOutputs) {
  const Bytes data = encode(smooth_image(200, 300, 3), ".jpg");
  for (std::uint64_t seed = 0; seed < 10; ++seed) {
    detail::Rng a(seed);
    detail::Rng b(seed);
    EXPECT_TRUE(identical(decode_random_resized_crop(bytes_tensor(data), 50, 50, {}, Interpolation::linear, a),
                          decode_random_resized_crop(bytes_tensor(data), 50, 50, {}, Interpolation::linear, b)));
  }
}

TEST(FusedDecodeCropTest, RejectsWhatDecodeRejects) {
  const std::string prefix = "conveyor: decode_random_resized_crop: ";
  detail::Rng rng(1);
  expect_invalid_argument([&] { decode_random_resized_crop(Tensor::bytes(""), 8, 8, {}, Interpolation::linear, rng); },
                          prefix, "empty");
  expect_invalid_argument(
      [&] { decode_random_resized_crop(bytes_tensor(jpeg_claiming(65000, 65000)), 8, 8, {}, Interpolation::linear, rng); },
      prefix, "max_pixels");
  Bytes cut = encode(noise_image(64, 64, 3), ".jpg");
  cut.resize(cut.size() / 2);
  expect_invalid_argument([&] { decode_random_resized_crop(bytes_tensor(cut), 8, 8, {}, Interpolation::linear, rng); },
                          prefix, "truncated");
  expect_invalid_argument(
      [&] { decode_random_resized_crop(bytes_tensor(encode(smooth_image(8, 8, 3), ".jpg")), 0, 8, {}, Interpolation::linear, rng); },
      prefix, "positive");
}

}  // namespace
}  // namespace conveyor::ops
