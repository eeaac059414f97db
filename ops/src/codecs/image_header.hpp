#pragma once
// The bytes of an encoded image, its format, and the PNG and BMP headers. Hand-written because
// OpenCV reads a header only as part of imdecode (after which it has allocated the pixels), and
// each header is a fixed layout of a few fields.

#include <span>
#include <string_view>

#include "conveyor/ops/decode.hpp"
#include "conveyor/tensor.hpp"

namespace conveyor::ops::internal {

/// The bytes of `encoded`, which must be a defined, non-empty 1-D bytes or uint8 tensor, viewed
/// without a copy when it is contiguous (else copied into `storage`, which must outlive the span).
std::span<const unsigned char> encoded_bytes(std::string_view op, const Tensor& encoded, Tensor& storage);

/// The format whose signature `bytes` starts with. Throws, naming `op`, for any other.
ImageFormat sniff_format(std::string_view op, std::span<const unsigned char> bytes);

/// Size and channels from a PNG's IHDR chunk. Throws, naming `op`, when it is missing or invalid.
ImageInfo read_png_header(std::string_view op, std::span<const unsigned char> bytes);

/// Size and channels from a BMP's file and DIB headers. Throws, naming `op`, when they are
/// missing or invalid.
ImageInfo read_bmp_header(std::string_view op, std::span<const unsigned char> bytes);

}  // namespace conveyor::ops::internal
