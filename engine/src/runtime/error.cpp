#include "conveyor/error.hpp"

namespace conveyor {
namespace {

std::string describe(const std::string& stage, std::optional<std::uint64_t> index, ErrorUnit unit,
                     const std::string& message) {
  std::string text = "conveyor: " + stage + " failed";
  if (index) text += (unit == ErrorUnit::batch ? " on batch " : " on sample ") + std::to_string(*index);
  return text + ": " + message;
}

}  // namespace

Error::Error(std::string stage, std::optional<std::uint64_t> index, const std::string& message,
             std::exception_ptr cause, ErrorUnit unit)
    : std::runtime_error(describe(stage, index, unit, message)),
      stage_(std::move(stage)),
      index_(index),
      unit_(unit),
      message_(message),
      cause_(std::move(cause)) {}

Error wrap_current_exception(const std::string& stage, std::optional<std::uint64_t> index, ErrorUnit unit) {
  auto cause = std::current_exception();
  try {
    throw;
  } catch (const Error& e) {
    return e;
  } catch (const std::exception& e) {
    return Error(stage, index, e.what(), cause, unit);
  } catch (...) {
    return Error(stage, index, "unknown exception", cause, unit);
  }
}

}  // namespace conveyor
