#include "conveyor/error.hpp"

namespace conveyor {
namespace {

std::string describe(const std::string& stage, std::optional<std::uint64_t> sample,
                     const std::string& message) {
  std::string text = "conveyor: " + stage + " failed";
  if (sample) text += " on sample " + std::to_string(*sample);
  return text + ": " + message;
}

}  // namespace

Error::Error(std::string stage, std::optional<std::uint64_t> sample, const std::string& message,
             std::exception_ptr cause)
    : std::runtime_error(describe(stage, sample, message)),
      stage_(std::move(stage)),
      sample_(sample),
      message_(message),
      cause_(std::move(cause)) {}

Error wrap_current_exception(const std::string& stage, std::optional<std::uint64_t> sample) {
  auto cause = std::current_exception();
  try {
    throw;
  } catch (const Error& e) {
    return e;
  } catch (const std::exception& e) {
    return Error(stage, sample, e.what(), cause);
  } catch (...) {
    return Error(stage, sample, "unknown exception", cause);
  }
}

}  // namespace conveyor
