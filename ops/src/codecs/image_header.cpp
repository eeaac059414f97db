#include "codecs/image_header.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "kernels/image.hpp"

namespace conveyor::ops::internal {

namespace {

constexpr std::array<unsigned char, 3> kJpegSignature{0xFF, 0xD8, 0xFF};
constexpr std::array<unsigned char, 8> kPngSignature{0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
constexpr std::array<unsigned char, 2> kBmpSignature{'B', 'M'};

template <std::size_t N>
bool starts_with(std::span<const unsigned char> bytes, const std::array<unsigned char, N>& signature) {
  return bytes.size() >= N && std::equal(signature.begin(), signature.end(), bytes.begin());
}

std::uint32_t big_endian32(std::span<const unsigned char> bytes, std::size_t at) {
  return std::uint32_t{bytes[at]} << 24 | std::uint32_t{bytes[at + 1]} << 16 | std::uint32_t{bytes[at + 2]} << 8 |
         std::uint32_t{bytes[at + 3]};
}

std::uint32_t little_endian(std::span<const unsigned char> bytes, std::size_t at, std::size_t count) {
  std::uint32_t value = 0;
  for (std::size_t i = count; i-- > 0;) value = value << 8 | bytes[at + i];
  return value;
}

void require_size(std::string_view op, std::span<const unsigned char> bytes, std::size_t needed, const char* what) {
  if (bytes.size() < needed)
    fail(op, std::string("truncated ") + what + " header: " + std::to_string(bytes.size()) + " bytes, needs " +
                 std::to_string(needed));
}

}  // namespace

std::span<const unsigned char> encoded_bytes(std::string_view op, const Tensor& encoded, Tensor& storage) {
  if (!encoded.defined()) fail(op, "the encoded image is an undefined tensor");
  if ((encoded.dtype() != DType::bytes && encoded.dtype() != DType::u8) || encoded.ndim() != 1)
    fail(op, "expected a 1-D bytes or uint8 tensor of encoded image data, got " + std::string(name(encoded.dtype())) +
                 " of shape " + to_string(encoded.shape()));
  if (encoded.numel() == 0) fail(op, "the encoded image is empty (0 bytes)");
  storage = encoded.contiguous();
  return {reinterpret_cast<const unsigned char*>(storage.data()), static_cast<std::size_t>(storage.numel())};
}

ImageFormat sniff_format(std::string_view op, std::span<const unsigned char> bytes) {
  if (starts_with(bytes, kJpegSignature)) return ImageFormat::jpeg;
  if (starts_with(bytes, kPngSignature)) return ImageFormat::png;
  if (starts_with(bytes, kBmpSignature)) return ImageFormat::bmp;
  fail(op, "unknown image format (expected JPEG, PNG or BMP; the data starts with none of their signatures)");
}

ImageInfo read_png_header(std::string_view op, std::span<const unsigned char> bytes) {
  // Signature (8), IHDR length (4) and type (4), then width (4), height (4), bit depth, colour type.
  require_size(op, bytes, 26, "PNG");
  if (!std::equal(bytes.begin() + 12, bytes.begin() + 16, "IHDR"))
    fail(op, "corrupt PNG header: the first chunk is not IHDR");
  const std::uint32_t width = big_endian32(bytes, 16);
  const std::uint32_t height = big_endian32(bytes, 20);
  constexpr std::uint32_t kMaxExtent = 0x7FFFFFFF;  // the PNG specification's limit
  if (width == 0 || height == 0 || width > kMaxExtent || height > kMaxExtent)
    fail(op, "corrupt PNG header: invalid size " + std::to_string(width) + "x" + std::to_string(height));
  std::int64_t channels = 0;
  switch (bytes[25]) {
    case 0: channels = 1; break;  // grey
    case 2: channels = 3; break;  // RGB
    case 3: channels = 3; break;  // palette
    case 4: channels = 2; break;  // grey + alpha
    case 6: channels = 4; break;  // RGBA
    default: fail(op, "corrupt PNG header: unknown colour type " + std::to_string(bytes[25]));
  }
  return {height, width, channels, ImageFormat::png};
}

ImageInfo read_bmp_header(std::string_view op, std::span<const unsigned char> bytes) {
  // BITMAPFILEHEADER (14 bytes), then a DIB header that starts with its own size: 12 for the old
  // OS/2 core header (16-bit extents), 40 or more for BITMAPINFOHEADER and its successors (32-bit
  // extents, a negative height meaning top-down rows).
  require_size(op, bytes, 18, "BMP");
  const std::uint32_t dib_size = little_endian(bytes, 14, 4);
  std::int64_t width = 0;
  std::int64_t height = 0;
  std::uint32_t bits_per_pixel = 0;
  if (dib_size == 12) {
    require_size(op, bytes, 26, "BMP");
    width = little_endian(bytes, 18, 2);
    height = little_endian(bytes, 20, 2);
    bits_per_pixel = little_endian(bytes, 24, 2);
  } else if (dib_size >= 40) {
    require_size(op, bytes, 30, "BMP");
    width = static_cast<std::int32_t>(little_endian(bytes, 18, 4));
    height = std::abs(static_cast<std::int64_t>(static_cast<std::int32_t>(little_endian(bytes, 22, 4))));
    bits_per_pixel = little_endian(bytes, 28, 2);
  } else {
    fail(op, "corrupt BMP header: unknown DIB header size " + std::to_string(dib_size));
  }
  if (width <= 0 || height <= 0)
    fail(op, "corrupt BMP header: invalid size " + std::to_string(width) + "x" + std::to_string(height));
  return {height, width, bits_per_pixel == 32 ? 4 : 3, ImageFormat::bmp};
}

}  // namespace conveyor::ops::internal
