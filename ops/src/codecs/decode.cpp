// decode, peek and the fused decode + RandomResizedCrop: JPEG through TurboJPEG, PNG and BMP
// through cv::imdecode, every header checked against max_pixels before any pixel is allocated.

#include "conveyor/ops/decode.hpp"

#include <algorithm>
#include <climits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "codecs/image_header.hpp"
#include "codecs/jpeg_turbo.hpp"
#include "codecs/jpeg_window.hpp"
#include "kernels/image.hpp"
#include "kernels/resize.hpp"

namespace conveyor::ops {

using internal::fail;

namespace {

/// An encoded image's bytes and header, and the JPEG decoder that read the header, if any.
struct Encoded {
  Tensor storage;
  std::span<const unsigned char> bytes;
  ImageInfo info;
  std::optional<internal::JpegDecoder> jpeg;
};

Encoded read_encoded(std::string_view op, const Tensor& encoded) {
  Encoded result{};
  result.bytes = internal::encoded_bytes(op, encoded, result.storage);
  switch (internal::sniff_format(op, result.bytes)) {
    case ImageFormat::jpeg:
      result.jpeg.emplace(op);
      result.info = result.jpeg->header(result.bytes);
      break;
    case ImageFormat::png: result.info = internal::read_png_header(op, result.bytes); break;
    case ImageFormat::bmp: result.info = internal::read_bmp_header(op, result.bytes); break;
  }
  return result;
}

void check_pixel_count(std::string_view op, const ImageInfo& info, const DecodeOptions& options) {
  const std::int64_t pixels = info.height * info.width;
  if (pixels > options.max_pixels)
    fail(op, std::string(name(info.format)) + " header claims " + std::to_string(info.height) + "x" +
                 std::to_string(info.width) + " = " + std::to_string(pixels) + " pixels, more than max_pixels = " +
                 std::to_string(options.max_pixels));
}

/// A PNG or BMP through cv::imdecode, converted into a new RGB (or grey) tensor.
Tensor decode_with_opencv(std::string_view op, const Encoded& encoded, bool grayscale) {
  const char* format = name(encoded.info.format);
  if (encoded.bytes.size() > static_cast<std::size_t>(INT_MAX))
    fail(op, std::string(format) + " data larger than OpenCV's limit of INT_MAX bytes");
  const int flags = (grayscale ? cv::IMREAD_GRAYSCALE : cv::IMREAD_COLOR) | cv::IMREAD_IGNORE_ORIENTATION;
  cv::Mat decoded;
  try {
    decoded = cv::imdecode(cv::_InputArray(encoded.bytes.data(), static_cast<int>(encoded.bytes.size())), flags);
  } catch (const cv::Exception& e) {
    fail(op, "corrupt " + std::string(format) + ": " + e.what());
  }
  if (decoded.empty()) fail(op, "corrupt or truncated " + std::string(format) + " data (OpenCV could not decode it)");
  if (decoded.rows != encoded.info.height || decoded.cols != encoded.info.width)
    fail(op, "corrupt " + std::string(format) + ": decoded " + std::to_string(decoded.rows) + "x" +
                 std::to_string(decoded.cols) + " pixels, the header says " + std::to_string(encoded.info.height) +
                 "x" + std::to_string(encoded.info.width));
  Tensor out = Tensor::empty(DType::u8, {encoded.info.height, encoded.info.width, grayscale ? 1 : 3});
  cv::Mat dst = internal::as_mat(op, out, CV_8U);
  if (grayscale) {
    decoded.copyTo(dst);
  } else {
    cv::cvtColor(decoded, dst, cv::COLOR_BGR2RGB);
  }
  return out;
}

/// The edge `position` of the full image, on an image scaled by `scale`: rounded to nearest.
std::int64_t scaled_position(std::int64_t position, tjscalingfactor scale) {
  return (2 * position * scale.num + scale.denom) / (2 * scale.denom);
}

}  // namespace

const char* name(ImageFormat format) noexcept {
  switch (format) {
    case ImageFormat::jpeg: return "jpeg";
    case ImageFormat::png: return "png";
    case ImageFormat::bmp: return "bmp";
  }
  return "unknown";
}

ImageInfo peek(const Tensor& encoded) { return read_encoded("peek", encoded).info; }

Tensor decode(const Tensor& encoded, DecodeOptions options) {
  Encoded image = read_encoded("decode", encoded);
  check_pixel_count("decode", image.info, options);
  if (image.jpeg) return image.jpeg->decode(image.bytes, image.info, internal::unscaled(), options.grayscale);
  return decode_with_opencv("decode", image, options.grayscale);
}

Tensor decode_random_resized_crop(const Tensor& encoded, std::int64_t out_h, std::int64_t out_w,
                                  const CropParams& params, Interpolation interpolation, detail::Rng& rng,
                                  DecodeOptions options) {
  constexpr std::string_view kOp = "decode_random_resized_crop";
  if (out_h < 1 || out_w < 1)
    fail(kOp, "the output size must be positive, got " + std::to_string(out_h) + "x" + std::to_string(out_w));
  Encoded image = read_encoded(kOp, encoded);
  check_pixel_count(kOp, image.info, options);
  const CropWindow window = choose_crop_window(image.info.height, image.info.width, params, rng);
  if (!image.jpeg) {
    const Tensor full = decode_with_opencv(kOp, image, options.grayscale);
    return internal::resize_as(kOp,
                             full.slice(0, window.top, window.top + window.height)
                                 .slice(1, window.left, window.left + window.width),
                             out_h, out_w, interpolation);
  }
  // Decode at the smallest DCT scale that keeps the window at least the output's size, and only
  // the window (its edges rounded to the nearest scaled pixel). libjpeg cannot turn CMYK into
  // RGB; TurboJPEG can, so such a file is decoded whole, at that scale, by TurboJPEG.
  const tjscalingfactor scale = internal::smallest_scale_covering(window.height, window.width, out_h, out_w);
  const auto map = [scale](std::int64_t begin, std::int64_t size, std::int64_t limit) {
    const std::int64_t first = std::min(scaled_position(begin, scale), limit - 1);
    const std::int64_t last = std::clamp(scaled_position(begin + size, scale), first + 1, limit);
    return std::pair{first, last};
  };
  const auto [top, bottom] = map(window.top, window.height, internal::scaled_extent(image.info.height, scale));
  const auto [left, right] = map(window.left, window.width, internal::scaled_extent(image.info.width, scale));
  Tensor cropped;
  if (image.info.channels == 4) {
    cropped = image.jpeg->decode(image.bytes, image.info, scale, options.grayscale)
                  .slice(0, top, bottom)
                  .slice(1, left, right);
  } else {
    cropped = internal::decode_jpeg_window(kOp, image.bytes, scale, {top, left, bottom - top, right - left},
                                           options.grayscale);
  }
  return internal::resize_as(kOp, cropped, out_h, out_w, interpolation);
}

}  // namespace conveyor::ops
