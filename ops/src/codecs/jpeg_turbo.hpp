#pragma once
// JPEG decoding through libjpeg-turbo's TurboJPEG API (2.x: tjDecompressHeader3/tjDecompress2).

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include <turbojpeg.h>

#include "conveyor/ops/decode.hpp"
#include "conveyor/tensor.hpp"

namespace conveyor::ops::internal {

/// One TurboJPEG decompressor, for one call: not thread-safe, never shared.
class JpegDecoder {
 public:
  /// Throws, naming `op`, when TurboJPEG cannot make a decompressor.
  explicit JpegDecoder(std::string_view op);

  /// Size and channels from the JPEG's header; reads no scan data. Throws when it is invalid.
  ImageInfo header(std::span<const unsigned char> jpeg);

  /// Decodes `jpeg` (whose header() is `info`) at `scale` into a new (H', W', 1 or 3) uint8
  /// tensor, H' and W' being TJSCALED(H) and TJSCALED(W). Throws for corrupt or truncated data.
  Tensor decode(std::span<const unsigned char> jpeg, const ImageInfo& info, tjscalingfactor scale, bool grayscale);

 private:
  [[noreturn]] void fail_with_library_error(const char* what);

  std::string_view op_;
  std::unique_ptr<void, int (*)(tjhandle)> handle_;
};

/// True when an end-of-image marker (FF D9) follows the last start-of-scan marker (FF DA).
/// Entropy-coded data never holds FF D9 (a data byte FF is stuffed as FF 00), so such a file
/// reached its end; a truncated one did not.
bool reaches_end_of_image(std::span<const unsigned char> jpeg);

/// The scaling factor 1/1.
tjscalingfactor unscaled() noexcept;

/// The smallest of the scaling factors 1/8, 1/4, 1/2 at which a `height` x `width` window still
/// measures at least `out_h` x `out_w`; 1/1 when none does.
tjscalingfactor smallest_scale_covering(std::int64_t height, std::int64_t width, std::int64_t out_h,
                                        std::int64_t out_w);

/// `extent` scaled by `scale`, rounded up (TurboJPEG's TJSCALED).
std::int64_t scaled_extent(std::int64_t extent, tjscalingfactor scale) noexcept;

}  // namespace conveyor::ops::internal
