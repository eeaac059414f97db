#include "conveyor/memory.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <vector>

namespace conveyor {
namespace {

namespace fs = std::filesystem;

// The number after `key` on its line of a "key value ..." file (/proc/meminfo, a cgroup's
// memory.stat); unset if absent or unreadable.
std::optional<std::uint64_t> field(const fs::path& path, const std::string& key) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string name;
    std::uint64_t value = 0;
    if (words >> name && name == key && words >> value) return value;
  }
  return std::nullopt;
}

// An integer file of the cgroup filesystem; unset if absent, unreadable or unlimited ("max").
std::optional<std::uint64_t> read_bytes(const fs::path& path) {
  std::ifstream in(path);
  std::uint64_t value = 0;
  if (in >> value) return value;
  return std::nullopt;
}

struct Limit {
  std::uint64_t room, limit, used;
};

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::istringstream in(text);
  for (std::string part; std::getline(in, part, separator);) parts.push_back(part);
  return parts;
}

// The tightest memory limit on this process's cgroups, if any.
std::optional<Limit> cgroup_room(const fs::path& root) {
  std::ifstream groups(root / "proc/self/cgroup");
  std::optional<Limit> tightest;
  for (std::string line; std::getline(groups, line);) {
    const std::size_t first = line.find(':'), second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    const std::string controllers = line.substr(first + 1, second - first - 1);
    fs::path base;
    std::string limit_file, usage_file, stat_prefix;
    if (controllers.empty()) {
      base = root / "sys/fs/cgroup", limit_file = "memory.max", usage_file = "memory.current";
      stat_prefix = "";
    } else if (auto names = split(controllers, ','); std::find(names.begin(), names.end(), "memory") != names.end()) {
      base = root / "sys/fs/cgroup/memory", limit_file = "memory.limit_in_bytes";
      usage_file = "memory.usage_in_bytes", stat_prefix = "total_";
    } else {
      continue;
    }
    std::vector<std::string> parts;
    for (const std::string& part : split(line.substr(second + 1), '/'))
      if (!part.empty()) parts.push_back(part);
    // The group, then each above it: all their limits apply.
    for (std::size_t depth = parts.size() + 1; depth-- > 0;) {
      fs::path directory = base;
      for (std::size_t i = 0; i < depth; ++i) directory /= parts[i];
      const auto limit = read_bytes(directory / limit_file), usage = read_bytes(directory / usage_file);
      if (!limit || !usage) continue;
      // Page cache, active or not: the kernel reclaims it before it refuses memory.
      const fs::path stat = directory / "memory.stat";
      const std::uint64_t cache = field(stat, stat_prefix + "active_file").value_or(0) +
                                  field(stat, stat_prefix + "inactive_file").value_or(0);
      const std::uint64_t used = *usage > cache ? *usage - cache : 0;
      const std::uint64_t room = *limit > used ? *limit - used : 0;
      if (!tightest || room < tightest->room) tightest = Limit{room, *limit, used};
    }
  }
  return tightest;
}

}  // namespace

MemoryRoom available_memory(const fs::path& root) {
  std::optional<std::uint64_t> system = field(root / "proc/meminfo", "MemAvailable:");
  if (system) *system *= 1024;  // kB
  const std::optional<Limit> limit = cgroup_room(root);
  if (limit && (!system || limit->room < *system))
    return {limit->room, "available memory: " + std::to_string(limit->room / 1024) +
                             " kB, under the memory cgroup's limit of " + std::to_string(limit->limit / 1024) +
                             " kB with " + std::to_string(limit->used / 1024) + " kB in use"};
  if (!system) return {std::nullopt, "available memory unknown"};
  return {system, "available memory: " + std::to_string(*system / 1024) + " kB"};
}

}  // namespace conveyor
