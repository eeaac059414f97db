// The list of native operators: MindSpore's names and parameters, each mapped onto its kernel.
#include <cmath>
#include <stdexcept>

#include "conveyor/detail/random.hpp"
#include "conveyor/ops/color.hpp"
#include "conveyor/ops/decode.hpp"
#include "conveyor/ops/geometry.hpp"
#include "conveyor/ops/layout.hpp"
#include "conveyor/ops/operator.hpp"

namespace conveyor::ops {
namespace {

using Numbers = std::vector<double>;

detail::Rng rng_for(const OpContext& c) { return detail::Rng(detail::mix({c.seed, c.epoch, c.sample, c.op})); }

Interpolation interpolation(const std::string& name) {
  if (name == "nearest") return Interpolation::nearest;
  if (name == "linear" || name == "bilinear") return Interpolation::linear;
  if (name == "cubic" || name == "bicubic") return Interpolation::cubic;
  if (name == "area") return Interpolation::area;
  throw std::invalid_argument("conveyor: unknown interpolation '" + name + "' (nearest, linear, cubic, area)");
}

// (h, w) from a size of one value (a square) or two.
std::pair<std::int64_t, std::int64_t> size_of(const Numbers& size, const char* op) {
  if (size.size() == 1) return {std::llround(size[0]), std::llround(size[0])};
  if (size.size() == 2) return {std::llround(size[0]), std::llround(size[1])};
  throw std::invalid_argument(std::string("conveyor: ") + op + "'s size must have one or two values");
}

Range range_of(const Numbers& values, const std::string& what) {
  if (values.size() != 2) throw std::invalid_argument("conveyor: " + what + " must be a (min, max) pair");
  return {values[0], values[1]};
}

std::array<std::int64_t, 4> padding_of(const Numbers& values) {
  if (values.empty()) return {0, 0, 0, 0};
  if (values.size() != 4) throw std::invalid_argument("conveyor: padding must be {top, bottom, left, right}");
  return {std::llround(values[0]), std::llround(values[1]), std::llround(values[2]), std::llround(values[3])};
}

void only_constant_padding(const std::string& mode, const char* op) {
  if (mode != "constant")
    throw std::invalid_argument(std::string("conveyor: ") + op + " supports padding_mode 'constant' only, not '" +
                                mode + "'");
}

CropParams crop_params(const Arguments& a) {
  return {range_of(a.numbers("scale"), "scale"), range_of(a.numbers("ratio"), "ratio"),
          static_cast<int>(a.integer("max_attempts"))};
}

std::vector<float> floats(const Numbers& values) { return {values.begin(), values.end()}; }

const Numbers kDefaultScale{0.08, 1.0};
const Numbers kDefaultRatio{3.0 / 4.0, 4.0 / 3.0};

std::vector<Param> random_resized_crop_params() {
  return {{"size", {}, "output (h, w), or one value for a square"},
          {"scale", kDefaultScale, "range of the crop's area as a fraction of the image's"},
          {"ratio", kDefaultRatio, "range of the crop's aspect ratio (w / h), drawn log-uniformly"},
          {"interpolation", std::string("linear"), "nearest, linear, cubic or area"},
          {"max_attempts", std::int64_t{10}, "draws before falling back to a central crop"}};
}

// RandomResizedCrop and its fused decoding form: the same arguments, another kernel.
template <class Kernel>
Operator resized_crop_operator(const std::string& name, std::string doc, Kernel kernel) {
  return {name, "vision", std::move(doc), random_resized_crop_params(), [name, kernel](const Arguments& a) -> ContextOp {
            auto [h, w] = size_of(a.numbers("size"), name.c_str());
            CropParams params = crop_params(a);
            Interpolation how = interpolation(a.text("interpolation"));
            return [=](Row row, const OpContext& c) {
              auto rng = rng_for(c);
              return Row{kernel(row.at(0), h, w, params, how, rng)};
            };
          }};
}

Operator flip_operator(std::string name, std::string doc, Tensor (*kernel)(const Tensor&, double, detail::Rng&)) {
  return {std::move(name), "vision", std::move(doc), {{"prob", 0.5, "probability of flipping"}},
          [kernel](const Arguments& a) -> ContextOp {
            return [kernel, p = a.number("prob")](Row row, const OpContext& c) {
              auto rng = rng_for(c);
              return Row{kernel(row.at(0), p, rng)};
            };
          }};
}

}  // namespace

std::vector<Operator> operators() {
  std::vector<Operator> all;
  all.push_back({"Decode", "vision", "Decodes a JPEG (libjpeg-turbo), PNG or BMP to an RGB HWC uint8 image.",
                 {{"to_pil", false, "must be False: conveyor decodes to arrays"}},
                 [](const Arguments& a) -> ContextOp {
                   if (a.boolean("to_pil")) throw std::invalid_argument("conveyor: Decode(to_pil=True) is not supported");
                   return [](Row row, const OpContext&) { return Row{decode(row.at(0))}; };
                 }});
  all.push_back({"Resize", "vision", "Resizes to (h, w), or the shorter side to one size keeping the aspect ratio.",
                 {{"size", {}, "(h, w), or one value for the shorter side"},
                  {"interpolation", std::string("linear"), "nearest, linear, cubic or area"}},
                 [](const Arguments& a) -> ContextOp {
                   Numbers size = a.numbers("size");
                   Interpolation how = interpolation(a.text("interpolation"));
                   if (size.size() == 1)
                     return [s = std::llround(size[0]), how](Row row, const OpContext&) {
                       return Row{resize_shorter(row.at(0), s, how)};
                     };
                   auto [h, w] = size_of(size, "Resize");
                   return [h, w, how](Row row, const OpContext&) { return Row{resize(row.at(0), h, w, how)}; };
                 }});
  all.push_back({"CenterCrop", "vision", "Crops the central (h, w) window, zero-padding a smaller image.",
                 {{"size", {}, "(h, w), or one value for a square"}},
                 [](const Arguments& a) -> ContextOp {
                   auto [h, w] = size_of(a.numbers("size"), "CenterCrop");
                   return [h, w](Row row, const OpContext&) { return Row{center_crop(row.at(0), h, w)}; };
                 }});
  all.push_back({"RandomCrop", "vision", "Pads, then crops (h, w) at a random position.",
                 {{"size", {}, "(h, w), or one value for a square"},
                  {"padding", Numbers{}, "{top, bottom, left, right} padded first"},
                  {"pad_if_needed", false, "pad a dimension smaller than the crop"},
                  {"fill_value", std::int64_t{0}, "value of padded pixels"},
                  {"padding_mode", std::string("constant"), "must be 'constant'"}},
                 [](const Arguments& a) -> ContextOp {
                   auto [h, w] = size_of(a.numbers("size"), "RandomCrop");
                   only_constant_padding(a.text("padding_mode"), "RandomCrop");
                   auto padding = padding_of(a.numbers("padding"));
                   bool if_needed = a.boolean("pad_if_needed");
                   auto fill = static_cast<std::uint8_t>(a.integer("fill_value"));
                   return [=](Row row, const OpContext& c) {
                     auto rng = rng_for(c);
                     return Row{random_crop(row.at(0), h, w, padding, if_needed, fill, rng)};
                   };
                 }});
  all.push_back(resized_crop_operator("RandomResizedCrop",
                                      "Crops a random window (torchvision's algorithm) and resizes it to size.",
                                      [](const Tensor& img, std::int64_t h, std::int64_t w, const CropParams& p,
                                         Interpolation how, detail::Rng& rng) {
                                        return random_resized_crop(img, h, w, p, how, rng);
                                      }));
  all.push_back(resized_crop_operator(
      "RandomCropDecodeResize",
      "Decode then RandomResizedCrop, fused: decodes only what the window needs (JPEG DCT scaling).",
      [](const Tensor& encoded, std::int64_t h, std::int64_t w, const CropParams& p, Interpolation how,
         detail::Rng& rng) { return decode_random_resized_crop(encoded, h, w, p, how, rng); }));
  all.push_back(flip_operator("RandomHorizontalFlip", "Mirrors left-right with probability prob.",
                              random_horizontal_flip));
  all.push_back(flip_operator("RandomVerticalFlip", "Mirrors top-bottom with probability prob.", random_vertical_flip));
  all.push_back({"Normalize", "vision", "(x - mean[c]) / std[c] per channel, to float32 (pixel units, 0-255).",
                 {{"mean", {}, "per-channel means"}, {"std", {}, "per-channel standard deviations"},
                  {"is_hwc", true, "must be True: images are HWC"}},
                 [](const Arguments& a) -> ContextOp {
                   if (!a.boolean("is_hwc")) throw std::invalid_argument("conveyor: Normalize(is_hwc=False) is not supported");
                   return [m = floats(a.numbers("mean")), s = floats(a.numbers("std"))](Row row, const OpContext&) {
                     return Row{normalize(row.at(0), m, s)};
                   };
                 }});
  all.push_back({"HWC2CHW", "vision", "Transposes HWC to a contiguous CHW copy.", {}, [](const Arguments&) -> ContextOp {
                   return [](Row row, const OpContext&) { return Row{hwc2chw(row.at(0))}; };
                 }});
  all.push_back({"Rescale", "vision", "x * rescale + shift, to float32.",
                 {{"rescale", {}, "scale factor"}, {"shift", {}, "offset"}}, [](const Arguments& a) -> ContextOp {
                   auto scale = static_cast<float>(a.number("rescale")), shift = static_cast<float>(a.number("shift"));
                   return [scale, shift](Row row, const OpContext&) { return Row{rescale(row.at(0), scale, shift)}; };
                 }});
  all.push_back({"RandomColorAdjust", "vision",
                 "Brightness, contrast and saturation factors drawn from ranges, applied in random order.",
                 {{"brightness", Numbers{1, 1}, "(min, max) factor"},
                  {"contrast", Numbers{1, 1}, "(min, max) factor"},
                  {"saturation", Numbers{1, 1}, "(min, max) factor"},
                  {"hue", Numbers{0, 0}, "must be (0, 0): hue is not supported"}},
                 [](const Arguments& a) -> ContextOp {
                   Range hue = range_of(a.numbers("hue"), "hue");
                   if (hue.min != 0 || hue.max != 0)
                     throw std::invalid_argument("conveyor: RandomColorAdjust does not support hue");
                   Range b = range_of(a.numbers("brightness"), "brightness");
                   Range c = range_of(a.numbers("contrast"), "contrast");
                   Range s = range_of(a.numbers("saturation"), "saturation");
                   return [=](Row row, const OpContext& context) {
                     auto rng = rng_for(context);
                     return Row{random_color_adjust(row.at(0), b, c, s, rng)};
                   };
                 }});
  all.push_back({"Pad", "vision", "Pads with a constant.",
                 {{"padding", {}, "{top, bottom, left, right}"},
                  {"fill_value", std::int64_t{0}, "value of padded pixels"},
                  {"padding_mode", std::string("constant"), "must be 'constant'"}},
                 [](const Arguments& a) -> ContextOp {
                   only_constant_padding(a.text("padding_mode"), "Pad");
                   auto p = padding_of(a.numbers("padding"));
                   auto fill = a.number("fill_value");
                   return [p, fill](Row row, const OpContext&) { return Row{pad(row.at(0), p[0], p[1], p[2], p[3], fill)}; };
                 }});
  all.push_back({"TypeCast", "transforms", "Converts to another dtype (as NumPy's astype).",
                 {{"data_type", {}, "NumPy dtype name, e.g. 'float32'"}}, [](const Arguments& a) -> ContextOp {
                   DType dtype = dtype_named(a.text("data_type"));
                   return [dtype](Row row, const OpContext&) { return Row{type_cast(row.at(0), dtype)}; };
                 }});
  all.push_back({"OneHot", "transforms", "Integer labels to one-hot int64 vectors.",
                 {{"num_classes", {}, "number of classes"}}, [](const Arguments& a) -> ContextOp {
                   return [n = a.integer("num_classes")](Row row, const OpContext&) { return Row{one_hot(row.at(0), n)}; };
                 }});
  all.push_back({"Fill", "transforms", "A tensor of the same shape and dtype, every element fill_value.",
                 {{"fill_value", {}, "the value"}}, [](const Arguments& a) -> ContextOp {
                   return [v = a.number("fill_value")](Row row, const OpContext&) { return Row{fill(row.at(0), v)}; };
                 }});
  return all;
}

}  // namespace conveyor::ops
