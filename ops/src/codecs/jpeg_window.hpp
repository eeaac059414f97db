#pragma once
// Cropped, DCT-scaled JPEG decoding through libjpeg-turbo's libjpeg API: only the part of the
// image a window needs is decoded (jpeg_crop_scanline, jpeg_skip_scanlines), which TurboJPEG 2.x
// cannot do.

#include <cstdint>
#include <span>
#include <string_view>

#include <turbojpeg.h>

#include "conveyor/tensor.hpp"

namespace conveyor::ops::internal {

/// Rows [top, top + height) and columns [left, left + width) of an image, in pixels.
struct PixelWindow {
  std::int64_t top;
  std::int64_t left;
  std::int64_t height;
  std::int64_t width;
};

/// Decodes `window` of the JPEG `jpeg` decoded at `scale` (the window is in the scaled image's
/// pixels and lies inside it) into a (window.height, window.width, 1 or 3) uint8 tensor: RGB, or
/// luma when `grayscale`. Scanlines below the window are not read; those above it and the
/// columns outside it (to the nearest iMCU boundary) skip the inverse DCT, upsampling and colour
/// conversion. Pixels are those of a whole decode at `scale`, bit for bit. The JPEG must not be
/// CMYK (libjpeg cannot convert it to RGB). The result may have padded rows (a column slice of
/// the decoded iMCU columns). Throws, naming `op`, for corrupt or truncated data, and for a
/// progressive JPEG of more than 500 scans (TurboJPEG's TJFLAG_LIMITSCANS).
Tensor decode_jpeg_window(std::string_view op, std::span<const unsigned char> jpeg, tjscalingfactor scale,
                          const PixelWindow& window, bool grayscale);

}  // namespace conveyor::ops::internal
