#include "codecs/jpeg_turbo.hpp"

#include <string>

#include "kernels/image.hpp"

namespace conveyor::ops::internal {

namespace {

/// Flags for every decompression: refuse progressive JPEGs with an unreasonable number of scans
/// (a known denial-of-service pattern).
constexpr int kFlags = TJFLAG_LIMITSCANS;

}  // namespace

bool reaches_end_of_image(std::span<const unsigned char> jpeg) {
  const std::string_view data(reinterpret_cast<const char*>(jpeg.data()), jpeg.size());
  const auto end_of_image = data.rfind("\xFF\xD9");
  const auto start_of_scan = data.rfind("\xFF\xDA");
  return end_of_image != std::string_view::npos &&
         (start_of_scan == std::string_view::npos || end_of_image > start_of_scan);
}

JpegDecoder::JpegDecoder(std::string_view op) : op_(op), handle_(tjInitDecompress(), &tjDestroy) {
  if (!handle_) fail(op_, "JPEG: TurboJPEG could not create a decompressor: " + std::string(tjGetErrorStr2(nullptr)));
}

void JpegDecoder::fail_with_library_error(const char* what) {
  fail(op_, std::string("corrupt JPEG (") + what + "): " + tjGetErrorStr2(handle_.get()));
}

ImageInfo JpegDecoder::header(std::span<const unsigned char> jpeg) {
  int width = 0;
  int height = 0;
  int subsampling = 0;
  int colorspace = 0;
  const int status = tjDecompressHeader3(handle_.get(), jpeg.data(), jpeg.size(), &width, &height, &subsampling,
                                         &colorspace);
  // A warning while reading the header (e.g. stray bytes before a marker) still yields its fields.
  if (status != 0 && tjGetErrorCode(handle_.get()) == TJERR_FATAL) fail_with_library_error("header");
  // TurboJPEG 2.1 reads a tables-only stream, or one cut before its first scan, as 0x0.
  if (width < 1 || height < 1)
    fail(op_, "corrupt or truncated JPEG header: the data ends before an image (" + std::to_string(width) + "x" +
                  std::to_string(height) + ")");
  const std::int64_t channels = colorspace == TJCS_GRAY ? 1 : colorspace == TJCS_CMYK || colorspace == TJCS_YCCK ? 4 : 3;
  return {height, width, channels, ImageFormat::jpeg};
}

Tensor JpegDecoder::decode(std::span<const unsigned char> jpeg, const ImageInfo& info, tjscalingfactor scale,
                           bool grayscale) {
  const std::int64_t height = scaled_extent(info.height, scale);
  const std::int64_t width = scaled_extent(info.width, scale);
  const std::int64_t channels = grayscale ? 1 : 3;
  Tensor out = Tensor::empty(DType::u8, {height, width, channels});
  const int status = tjDecompress2(handle_.get(), jpeg.data(), jpeg.size(), reinterpret_cast<unsigned char*>(out.data()),
                                   static_cast<int>(width), static_cast<int>(width * channels), static_cast<int>(height),
                                   grayscale ? TJPF_GRAY : TJPF_RGB, kFlags);
  if (status != 0) {
    // libjpeg finishes a truncated file with grey rows and only warns; a truncated file is an
    // error here. Other warnings (e.g. extraneous bytes before a marker) leave a complete image.
    if (tjGetErrorCode(handle_.get()) == TJERR_FATAL) fail_with_library_error("data");
    if (!reaches_end_of_image(jpeg))
      fail(op_, "truncated JPEG: the data ends before the end-of-image marker (" +
                    std::string(tjGetErrorStr2(handle_.get())) + ")");
  }
  return out;
}

tjscalingfactor unscaled() noexcept { return {1, 1}; }

tjscalingfactor smallest_scale_covering(std::int64_t height, std::int64_t width, std::int64_t out_h,
                                        std::int64_t out_w) {
  int count = 0;
  const tjscalingfactor* factors = tjGetScalingFactors(&count);
  tjscalingfactor best = unscaled();
  for (int i = 0; factors != nullptr && i < count; ++i) {
    const tjscalingfactor f = factors[i];
    // Only 1/2, 1/4 and 1/8: libjpeg-turbo has SIMD inverse DCTs for those, and its plain C
    // ones for the other n/8 are slower than decoding at 1/1 and resizing (bench/RESULTS.md).
    const bool shrinks = f.num == 1 && (f.denom == 2 || f.denom == 4 || f.denom == 8);
    const bool smaller_than_best = std::int64_t{f.num} * best.denom < std::int64_t{best.num} * f.denom;
    const bool covers = height * f.num >= out_h * f.denom && width * f.num >= out_w * f.denom;
    if (shrinks && smaller_than_best && covers) best = f;
  }
  return best;
}

std::int64_t scaled_extent(std::int64_t extent, tjscalingfactor scale) noexcept {
  return (extent * scale.num + scale.denom - 1) / scale.denom;
}

}  // namespace conveyor::ops::internal
