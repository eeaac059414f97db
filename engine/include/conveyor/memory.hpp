#pragma once
/// \file memory.hpp
/// How much memory this process may still take, container limits included: what conveyor checks
/// before it reserves a large buffer, so that too little memory is a clear error rather than a
/// visit from the OOM killer.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace conveyor {

/// The bytes this process may still take, and that in words for an error message.
struct MemoryRoom {
  /// Unset when nothing could be read.
  std::optional<std::uint64_t> bytes;
  /// "available memory: 2048 kB", or with the cgroup limit and use that bound it.
  std::string words;
};

/// The least of the system's MemAvailable and the room under every memory limit of this
/// process's cgroup and of the groups above it (cgroup v2's memory.max, v1's
/// memory.limit_in_bytes, less what is in use: the usage less page cache, active or inactive,
/// which the kernel reclaims before it refuses memory). `root` is where /proc and /sys are found
/// (for tests). Reads a few small files; thread-safe.
MemoryRoom available_memory(const std::filesystem::path& root = "/");

}  // namespace conveyor
