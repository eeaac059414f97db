#include "codecs/jpeg_window.hpp"

// clang-format off
#include <cstdio>  // jpeglib.h needs FILE and size_t declared first
#include <jpeglib.h>
// clang-format on

#include <algorithm>
#include <csetjmp>
#include <string>
#include <vector>

#include "codecs/jpeg_turbo.hpp"
#include "kernels/image.hpp"

namespace conveyor::ops::internal {

namespace {

constexpr int kMaxScans = 500;

/// libjpeg's error manager, extended with where to jump on a fatal error and its message.
struct ErrorManager {
  jpeg_error_mgr base;  // first, so that libjpeg's pointer to it is a pointer to the whole
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

[[noreturn]] void jump_out(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

/// Counts warnings (libjpeg's default prints the first to stderr) and ignores trace messages.
void count_warnings(j_common_ptr cinfo, int level) {
  if (level < 0) ++cinfo->err->num_warnings;
}

/// Stops a progressive JPEG with too many scans: each costs a pass over the whole image.
void limit_scans(j_common_ptr cinfo) {
  const auto* decompress = reinterpret_cast<j_decompress_ptr>(cinfo);
  if (decompress->progressive_mode && decompress->input_scan_number > kMaxScans) {
    auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
    std::snprintf(err->message, sizeof err->message, "progressive JPEG with more than %d scans", kMaxScans);
    std::longjmp(err->jump, 1);
  }
}

/// Runs `step` (libjpeg calls only: it must hold nothing that needs destroying, since a fatal
/// error longjmps out of it) and says whether it finished.
template <class Step>
bool guarded(ErrorManager& err, const Step& step) {
  if (setjmp(err.jump) != 0) return false;
  step();
  return true;
}

/// Destroys the decompressor however the decode ends.
struct Decompressor {
  jpeg_decompress_struct cinfo{};
  ~Decompressor() { jpeg_destroy_decompress(&cinfo); }
};

}  // namespace

Tensor decode_jpeg_window(std::string_view op, std::span<const unsigned char> jpeg, tjscalingfactor scale,
                          const PixelWindow& window, bool grayscale) {
  // Reading stops at the window's last row, so libjpeg would not see a truncated end.
  if (!reaches_end_of_image(jpeg)) fail(op, "truncated JPEG: the data ends before the end-of-image marker");
  ErrorManager err{};
  jpeg_progress_mgr progress{};
  progress.progress_monitor = limit_scans;
  Decompressor d;
  d.cinfo.err = jpeg_std_error(&err.base);
  err.base.error_exit = jump_out;
  err.base.emit_message = count_warnings;
  const auto library_error = [&](const char* what) {
    fail(op, std::string("corrupt JPEG (") + what + "): " + err.message);
  };

  // Everything libjpeg decides before pixels flow: header, scale, output colour, the crop. The
  // crop is widened by kContext pixels each side: libjpeg upsamples chroma as if the cropped
  // columns were the whole image, so its outermost columns differ from a whole decode's.
  constexpr std::int64_t kContext = 2;
  auto xoffset = static_cast<JDIMENSION>(std::max<std::int64_t>(window.left - kContext, 0));
  auto decoded_width = JDIMENSION{0};
  const bool started = guarded(err, [&] {
    jpeg_create_decompress(&d.cinfo);
    d.cinfo.progress = &progress;
    jpeg_mem_src(&d.cinfo, jpeg.data(), static_cast<unsigned long>(jpeg.size()));
    jpeg_read_header(&d.cinfo, TRUE);
    d.cinfo.out_color_space = grayscale ? JCS_GRAYSCALE : JCS_RGB;
    d.cinfo.scale_num = static_cast<unsigned>(scale.num);
    d.cinfo.scale_denom = static_cast<unsigned>(scale.denom);
    jpeg_start_decompress(&d.cinfo);
    const auto right = std::min<std::int64_t>(window.left + window.width + kContext, d.cinfo.output_width);
    decoded_width = static_cast<JDIMENSION>(right) - xoffset;
    jpeg_crop_scanline(&d.cinfo, &xoffset, &decoded_width);  // widens to iMCU column boundaries
    jpeg_skip_scanlines(&d.cinfo, static_cast<JDIMENSION>(window.top));
  });
  if (!started) library_error("header");

  const std::int64_t channels = grayscale ? 1 : 3;
  Tensor out = Tensor::empty(DType::u8, {window.height, static_cast<std::int64_t>(decoded_width), channels});
  std::vector<JSAMPROW> rows(static_cast<std::size_t>(window.height));
  auto* base = reinterpret_cast<JSAMPLE*>(out.data());
  for (std::size_t r = 0; r < rows.size(); ++r) rows[r] = base + r * decoded_width * channels;
  const bool read = guarded(err, [&] {
    JDIMENSION done = 0;
    while (done < rows.size())
      done += jpeg_read_scanlines(&d.cinfo, rows.data() + done, static_cast<JDIMENSION>(rows.size() - done));
    jpeg_abort_decompress(&d.cinfo);
  });
  if (!read) library_error("data");
  const std::int64_t left = window.left - static_cast<std::int64_t>(xoffset);
  return out.slice(1, left, left + window.width);
}

}  // namespace conveyor::ops::internal
