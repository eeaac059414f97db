// libFuzzer target for conveyor's decoders: peek(), decode() and decode_random_resized_crop() on
// arbitrary bytes. The contract (decode.hpp, DESIGN.md "Ops"): bad input is a
// std::invalid_argument, never a crash. So only std::invalid_argument is caught here; any other
// exception escapes (libFuzzer reports it as a deadly signal), and AddressSanitizer /
// UndefinedBehaviorSanitizer reports abort the run. Each is a finding.
//
// Build and run: scripts/fuzz.sh [seconds]. Reproduce a saved input: <build>/decode_fuzz <file>.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>

#include <conveyor/ops/decode.hpp>
#include <conveyor/tensor.hpp>

namespace {

/// Headers may claim up to this many pixels. Lower than the library's default (2^28) so that an
/// input claiming a huge image is refused quickly instead of spending seconds decoding grey rows:
/// the max_pixels check itself is what such inputs exercise.
constexpr std::int64_t kMaxPixels = std::int64_t{1} << 20;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The fuzzer's own buffer, exactly `size` bytes, wrapped without a copy: a read past its end
  // is an AddressSanitizer report.
  const conveyor::Tensor encoded =
      conveyor::Tensor::from_memory(const_cast<std::uint8_t*>(data), conveyor::DType::bytes,
                                    {static_cast<std::int64_t>(size)}, {}, std::shared_ptr<void>());
  const conveyor::ops::DecodeOptions options{.grayscale = false, .max_pixels = kMaxPixels};

  // Contract checks beyond "no crash" trap, so that a violation is saved like a crash.
  conveyor::ops::ImageInfo info{0, 0, 0, conveyor::ops::ImageFormat::jpeg};
  try {
    info = conveyor::ops::peek(encoded);
    if (info.height < 1 || info.width < 1 || info.channels < 1 || info.channels > 4) __builtin_trap();
  } catch (const std::invalid_argument&) {
  }

  try {
    const conveyor::Tensor image = conveyor::ops::decode(encoded, options);
    if (image.ndim() != 3 || image.shape()[2] != 3 || image.dtype() != conveyor::DType::u8) __builtin_trap();
    // What decode() returns is what peek() said is there.
    if (image.shape()[0] != info.height || image.shape()[1] != info.width) __builtin_trap();
  } catch (const std::invalid_argument&) {
  }

  // The fused kernel with a fixed generator. Output size, interpolation and colour mode are taken
  // from the input's length so that the corpus covers every DCT scale and resampling path.
  try {
    conveyor::detail::Rng rng(42);
    const auto out_h = static_cast<std::int64_t>(1 + size % 97);
    const auto out_w = static_cast<std::int64_t>(1 + (size / 97) % 97);
    const auto interpolation = static_cast<conveyor::ops::Interpolation>((size / 7) % 4);
    conveyor::ops::DecodeOptions fused = options;
    fused.grayscale = (size / 3) % 2 == 1;
    const conveyor::Tensor image = conveyor::ops::decode_random_resized_crop(
        encoded, out_h, out_w, conveyor::ops::CropParams{}, interpolation, rng, fused);
    if (image.ndim() != 3 || image.shape()[0] != out_h || image.shape()[1] != out_w ||
        image.shape()[2] != (fused.grayscale ? 1 : 3))
      __builtin_trap();
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
