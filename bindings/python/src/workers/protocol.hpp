#pragma once
// The wire format between the engine and its worker processes: the constants both sides use,
// and a column's header, which replies (workers/rows.cpp) and map requests (workers/map.cpp)
// both carry. The specification is docs/worker-protocol.md; the Python side,
// conveyor/dataset/_workers.py, encodes the same constants and layouts, and a change here must
// change both (the document's section 9 lists what is encoded twice).

#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include <conveyor/tensor.hpp>

namespace conveyor::python::workers {

/// The slot id of a row without columns (docs/worker-protocol.md, section 5.2).
constexpr std::uint32_t kNoSlot = 0xFFFFFFFF;
/// The progress page's sample when no row is being read (Python's NO_SAMPLE; section 3.1).
constexpr std::uint64_t kNoSample = ~std::uint64_t{0};
/// Reply statuses (section 5.2): a row, an exception, the rest of a request given up.
/// 2 is Python's READY, the start-up message's byte, never a reply's status.
constexpr std::uint8_t kOk = 0;
constexpr std::uint8_t kError = 1;
constexpr std::uint8_t kCancelled = 3;
/// Payload kinds from the parent (sections 4 and 8.1); an empty payload means stop.
constexpr std::uint8_t kRequest = 0;
constexpr std::uint8_t kCancel = 1;
/// Column kinds of a column header (section 5.3).
constexpr std::uint8_t kArray = 0;
constexpr std::uint8_t kBytes = 1;
/// A column's offset, in a slot or a map request's body, is a multiple of it (sections 4.2, 6).
constexpr std::size_t kAlignment = 64;

/// A worker's progress page, which it writes before reading each row (and clears when it is
/// between rows) and the parent reads once the worker is dead, to name the row it died on
/// (section 3.1): three u64 in native byte order at the start of a memfd page.
struct Progress {
  std::uint64_t sample = kNoSample;  // the sample it reads, kNoSample when none
  std::uint64_t request = 0;  // the number of the request it answers (requests count from 0)
  std::uint64_t position = 0;  // the row's position in that request
};

/// `offset` rounded up to kAlignment.
inline std::size_t aligned(std::size_t offset) { return (offset + kAlignment - 1) / kAlignment * kAlignment; }

/// Appends `value`'s bytes (little-endian, as this machine's) to `out`.
template <class T>
void put(std::vector<unsigned char>& out, T value) {
  const auto at = out.size();
  out.resize(at + sizeof(T));
  std::memcpy(&out[at], &value, sizeof(T));
}

/// Appends the header of `column`, whose bytes lie at `offset` (section 5.3): a bytes column's
/// u8 kind, u64 offset and u64 length; an array's u8 kind, u8 length of its dtype's name, the
/// name, u32 ndim, ndim i64 extents and u64 offset. Returns where the offset was written.
inline std::size_t put_column_header(std::vector<unsigned char>& out, const Tensor& column, std::uint64_t offset) {
  std::size_t at;
  if (column.dtype() == DType::bytes) {
    put(out, kBytes);
    at = out.size();
    put(out, offset);
    put(out, static_cast<std::uint64_t>(column.nbytes()));
    return at;
  }
  const std::string_view dtype = name(column.dtype());
  put(out, kArray);
  put(out, static_cast<std::uint8_t>(dtype.size()));
  out.insert(out.end(), dtype.begin(), dtype.end());
  put(out, static_cast<std::uint32_t>(column.ndim()));
  for (auto extent : column.shape()) put(out, static_cast<std::int64_t>(extent));
  at = out.size();
  put(out, offset);
  return at;
}

}  // namespace conveyor::python::workers
