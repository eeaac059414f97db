#pragma once
// The wire format between the engine and its worker processes (conveyor/dataset/_workers.py
// documents it whole): the constants both sides use, and a column's header, which replies
// (workers/rows.cpp) and map requests (workers/map.cpp) both carry.

#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include <conveyor/tensor.hpp>

namespace conveyor::python::workers {

constexpr std::uint32_t kNoSlot = 0xFFFFFFFF;
constexpr std::uint64_t kNoSample = ~std::uint64_t{0};
constexpr std::uint8_t kOk = 0;  // reply statuses
constexpr std::uint8_t kError = 1;
constexpr std::uint8_t kCancelled = 3;
constexpr std::uint8_t kRequest = 0;  // message kinds
constexpr std::uint8_t kCancel = 1;
constexpr std::uint8_t kArray = 0;  // column kinds
constexpr std::uint8_t kBytes = 1;
constexpr std::size_t kAlignment = 64;  // of a column's bytes, in a slot or a request

/// A worker's progress page, which it writes before reading each row (and clears when it is
/// between rows) and the parent reads once the worker is dead, to name the row it died on.
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

/// Appends the header of `column`, whose bytes lie at `offset`: a bytes column's ``B`` kind,
/// ``<QQ`` offset and length, an array's ``B`` kind, ``B`` length of its dtype's name, the name,
/// ``<I`` ndim, ndim ``<q`` extents and ``<Q`` offset. Returns where the offset was written.
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
