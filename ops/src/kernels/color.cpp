// RandomColorAdjust: brightness, contrast and saturation blends on OpenCV's saturating uint8 maths.

#include <array>
#include <cmath>
#include <string>
#include <string_view>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "conveyor/ops/color.hpp"
#include "kernels/image.hpp"

namespace conveyor::ops {

using internal::fail;

namespace {

constexpr std::string_view kOp = "random_color_adjust";

void check_range(const char* what, Range range) {
  if (!(0.0 <= range.min && range.min <= range.max && std::isfinite(range.max)))
    fail(kOp, std::string(what) + " must satisfy 0 <= min <= max, got (" + std::to_string(range.min) + ", " +
                  std::to_string(range.max) + ")");
}

/// The greyscale (ITU-R 601 luma, as torchvision and PIL) of an RGB or one-channel image.
cv::Mat grayscale(const cv::Mat& image) {
  if (image.channels() == 1) return image;
  cv::Mat gray;
  cv::cvtColor(image, gray, cv::COLOR_RGB2GRAY);
  return gray;
}

/// image = factor * image + (1 - factor) * value, rounded and clamped, in place.
void blend_with_constant(cv::Mat& image, double factor, double value) {
  image.convertTo(image, -1, factor, (1.0 - factor) * value);
}

void adjust_saturation(cv::Mat& image, double factor) {
  if (image.channels() == 1) return;  // a grey image is its own greyscale
  cv::Mat gray_rgb;
  cv::cvtColor(grayscale(image), gray_rgb, cv::COLOR_GRAY2RGB);
  cv::addWeighted(image, factor, gray_rgb, 1.0 - factor, 0.0, image);
}

}  // namespace

Tensor random_color_adjust(const Tensor& img, Range brightness, Range contrast, Range saturation,
                           detail::Rng& rng) {
  const auto shape = internal::image_shape(kOp, img);
  if (img.dtype() != DType::u8) fail(kOp, "expected a uint8 image, got " + std::string(name(img.dtype())));
  if (shape.channels != 1 && shape.channels != 3)
    fail(kOp, "expected 1 or 3 channels, got " + std::to_string(shape.channels));
  check_range("brightness", brightness);
  check_range("contrast", contrast);
  check_range("saturation", saturation);

  // torchvision's ColorJitter.get_params: the order first, then every factor.
  enum Step { kBrightness, kContrast, kSaturation };
  std::array<Step, 3> order{kBrightness, kContrast, kSaturation};
  rng.shuffle(order.begin(), order.end());
  const auto draw = [&rng](Range range) { return range.min + (range.max - range.min) * rng.uniform(); };
  const double brightness_factor = draw(brightness);
  const double contrast_factor = draw(contrast);
  const double saturation_factor = draw(saturation);

  Tensor out = img.clone();
  cv::Mat image = internal::as_mat(kOp, out, CV_8U);
  for (Step step : order) {
    switch (step) {
      case kBrightness:
        if (brightness_factor != 1.0) blend_with_constant(image, brightness_factor, 0.0);
        break;
      case kContrast:
        if (contrast_factor != 1.0) blend_with_constant(image, contrast_factor, cv::mean(grayscale(image))[0]);
        break;
      case kSaturation:
        if (saturation_factor != 1.0) adjust_saturation(image, saturation_factor);
        break;
    }
  }
  return out;
}

}  // namespace conveyor::ops
