// libFuzzer target for the cropped, DCT-scaled JPEG decoder (ops/src/codecs/jpeg_window.cpp) called
// directly, with the scale, window and colour mode taken from the input, so that every window
// position and scale is reached, not only those choose_crop_window() picks (decode_fuzz covers
// that path). The last six bytes choose the parameters (FuzzedDataProvider takes integers from
// the end); the bytes before them are the JPEG.
//
// The caller's side of decode_jpeg_window()'s contract is kept (a JPEG TurboJPEG reads the header
// of, not CMYK, a window inside the scaled image); within it, corrupt data must be a
// std::invalid_argument, never a crash, and a result must have the window's shape. Anything else
// is a finding.
//
// Build and run: scripts/fuzz.sh [seconds]. Reproduce a saved input: <build>/jpeg_window_fuzz <file>.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <vector>

#include <fuzzer/FuzzedDataProvider.h>

#include "codecs/jpeg_turbo.hpp"
#include "codecs/jpeg_window.hpp"

namespace {

/// Scaled images larger than this are not decoded: the window's size is what is fuzzed, not the
/// time it takes to decode a claimed 2^28 grey pixels.
constexpr std::int64_t kMaxPixels = std::int64_t{1} << 20;

/// [begin, begin + size) inside [0, extent), from two fuzzer bytes; extent >= 1.
std::pair<std::int64_t, std::int64_t> span_within(std::int64_t extent, std::uint8_t a, std::uint8_t b) {
  const std::int64_t begin = extent * a / 256;
  const std::int64_t size = 1 + (extent - begin - 1) * b / 255;
  return {begin, size};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider input(data, size);
  const auto scale_choice = input.ConsumeIntegral<std::uint8_t>();
  const auto top_byte = input.ConsumeIntegral<std::uint8_t>();
  const auto height_byte = input.ConsumeIntegral<std::uint8_t>();
  const auto left_byte = input.ConsumeIntegral<std::uint8_t>();
  const auto width_byte = input.ConsumeIntegral<std::uint8_t>();
  const bool grayscale = input.ConsumeBool();
  // What is left, copied into a buffer of exactly its size: a read past its end is an
  // AddressSanitizer report (in the fuzzer's buffer it would land on the parameter bytes).
  const std::vector<unsigned char> bytes(data, data + input.remaining_bytes());
  const std::span<const unsigned char> jpeg(bytes);

  constexpr tjscalingfactor kScales[] = {{1, 8}, {1, 4}, {1, 2}, {1, 1}};
  const tjscalingfactor scale = kScales[scale_choice % 4];
  conveyor::ops::ImageInfo info{};
  try {
    conveyor::ops::internal::JpegDecoder decoder("fuzz");
    info = decoder.header(jpeg);
  } catch (const std::invalid_argument&) {
    return 0;  // not a JPEG header: decode_jpeg_window() is never called on one
  }
  if (info.channels == 4) return 0;
  const std::int64_t height = conveyor::ops::internal::scaled_extent(info.height, scale);
  const std::int64_t width = conveyor::ops::internal::scaled_extent(info.width, scale);
  if (height < 1 || width < 1 || height * width > kMaxPixels) return 0;

  const auto [top, window_height] = span_within(height, top_byte, height_byte);
  const auto [left, window_width] = span_within(width, left_byte, width_byte);
  try {
    const conveyor::Tensor out = conveyor::ops::internal::decode_jpeg_window(
        "fuzz", jpeg, scale, {top, left, window_height, window_width}, grayscale);
    if (out.ndim() != 3 || out.shape()[0] != window_height || out.shape()[1] != window_width ||
        out.shape()[2] != (grayscale ? 1 : 3) || out.dtype() != conveyor::DType::u8)
      __builtin_trap();
    // Every pixel of the result is readable (ASan checks the reads).
    volatile std::uint8_t sink = 0;
    const conveyor::Tensor dense = out.contiguous();
    const auto* pixels = reinterpret_cast<const std::uint8_t*>(dense.data());
    for (std::size_t i = 0; i < dense.nbytes(); ++i) sink = sink ^ pixels[i];
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
