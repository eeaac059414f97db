#pragma once
/// \file decode.hpp
/// Decoding encoded images (JPEG, PNG, BMP) into HWC uint8 tensors.
///
/// Every function here is pure and thread-safe: it keeps no state between calls and reads its
/// inputs only. Outputs are new tensors the caller owns. Failures throw std::invalid_argument
/// whose message starts "conveyor: <op>: ".

#include <cstdint>

#include "conveyor/detail/random.hpp"
#include "conveyor/ops/geometry.hpp"
#include "conveyor/tensor.hpp"

namespace conveyor::ops {

/// The container formats decode() reads.
enum class ImageFormat { jpeg, png, bmp };

/// "jpeg", "png" or "bmp".
const char* name(ImageFormat format) noexcept;

/// What an image's header says, read without decoding any pixels.
struct ImageInfo {
  std::int64_t height;
  std::int64_t width;
  /// Channels the file stores: 1 grey, 2 grey+alpha, 3 colour (palette images count as 3),
  /// 4 colour+alpha or CMYK.
  std::int64_t channels;
  ImageFormat format;
};

/// How to decode.
struct DecodeOptions {
  /// Decode to one luma channel (H, W, 1) instead of RGB (H, W, 3).
  bool grayscale = false;
  /// Refuse any image whose header claims more pixels than this, before allocating anything.
  std::int64_t max_pixels = std::int64_t{1} << 28;
};

/// Reads the header of `encoded` (a 1-D bytes or uint8 tensor) and says what it holds. Decodes
/// no pixels and allocates nothing proportional to the image. Throws std::invalid_argument for
/// an empty input, an unknown format or a malformed header.
ImageInfo peek(const Tensor& encoded);

/// Decodes a JPEG (through libjpeg-turbo's TurboJPEG), PNG or BMP (through OpenCV) held in
/// `encoded` (a 1-D bytes or uint8 tensor) into a new uint8 tensor: RGB (H, W, 3), or (H, W, 1)
/// when `options.grayscale`. Alpha is dropped; EXIF orientation is not applied.
/// Throws std::invalid_argument for an empty input, an unknown format, a header claiming more
/// than `options.max_pixels` pixels (checked before allocating), and corrupt data. A JPEG whose
/// data ends before its end-of-image marker (a truncated file) is an error; JPEG data that
/// libjpeg can decode with a warning but that is complete (e.g. extraneous bytes before a
/// marker) is accepted, as libjpeg, OpenCV and PIL accept it.
Tensor decode(const Tensor& encoded, DecodeOptions options = {});

/// decode() then random_resized_crop(), fused: the crop window is chosen from the header's size
/// with choose_crop_window() (so the same `rng` state gives the same window as the unfused
/// pair), then a JPEG is decoded at the smallest DCT scaling factor of 1/2, 1/4, 1/8 (those
/// libjpeg-turbo has SIMD inverse DCTs for; 1/1 when none fits) at which the window still
/// covers at least `out_h` x `out_w` pixels, and only the window's part of it: scanlines
/// below the window are never read, and those above it and the columns beside it skip the
/// inverse DCT, upsampling and colour conversion (a CMYK JPEG is decoded whole, at that scale).
/// The window, its edges rounded to the nearest scaled pixel, is then resized to (out_h, out_w).
/// PNG and BMP are decoded whole. Pixels differ slightly from the unfused pair (DCT scaling
/// averages where resize interpolates). Advances `rng` exactly as random_resized_crop() does.
/// Throws as decode() and random_resized_crop() do; a truncated JPEG is an error even when the
/// window ends before the cut.
Tensor decode_random_resized_crop(const Tensor& encoded, std::int64_t out_h, std::int64_t out_w,
                                  const CropParams& params, Interpolation interpolation, detail::Rng& rng,
                                  DecodeOptions options = {});

}  // namespace conveyor::ops
