// available_memory(): MemAvailable and the memory limits of the process's cgroups, read from a
// fake /proc and /sys.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <string>
#include <unistd.h>

#include <conveyor/memory.hpp>

namespace conveyor {
namespace {

namespace fs = std::filesystem;
constexpr std::uint64_t kMiB = 1 << 20;

/// A /proc and /sys under a fresh folder: MemAvailable, this process's cgroup lines and the
/// files of the cgroup filesystem (path under /sys/fs/cgroup -> content). Removed with it.
class FakeSystem {
 public:
  FakeSystem(const std::string& name, std::uint64_t available_kb, const std::string& cgroup,
             const std::map<std::string, std::string>& files)
      : root_(fs::temp_directory_path() / ("conveyor-memory-test-" + std::to_string(getpid()) + "-" + name)) {
    write("proc/meminfo", "MemTotal: 99999999 kB\nMemAvailable: " + std::to_string(available_kb) + " kB\n");
    write("proc/self/cgroup", cgroup);
    for (const auto& [path, content] : files) write("sys/fs/cgroup/" + path, content);
  }
  ~FakeSystem() { fs::remove_all(root_); }
  const fs::path& root() const { return root_; }

 private:
  void write(const std::string& path, const std::string& content) {
    fs::create_directories((root_ / path).parent_path());
    std::ofstream(root_ / path) << content;
  }
  fs::path root_;
};

TEST(AvailableMemoryTest, IsTheTightestCgroupV2LimitOfTheGroupAndThoseAboveIt) {
  // The group's own limit is loose ("max"), its parent's is tight; its page cache is reclaimable.
  FakeSystem v2("v2", 8 * 1024 * 1024, "0::/jobs/train\n",
                {{"jobs/memory.max", std::to_string(1024 * kMiB)}, {"jobs/memory.current", std::to_string(750 * kMiB)},
                 {"jobs/memory.stat", "anon 1\nactive_file " + std::to_string(30 * kMiB) + "\ninactive_file " +
                                          std::to_string(20 * kMiB) + "\n"},
                 {"jobs/train/memory.max", "max"}, {"jobs/train/memory.current", std::to_string(600 * kMiB)}});
  const MemoryRoom room = available_memory(v2.root());
  EXPECT_EQ(room.bytes, 324 * kMiB);
  EXPECT_EQ(room.words, "available memory: 331776 kB, under the memory cgroup's limit of 1048576 kB with 716800 kB in use");
}

TEST(AvailableMemoryTest, CountsCgroupV1PageCacheAsFreeAndSkipsOtherControllers) {
  FakeSystem v1("v1", 8 * 1024 * 1024, "5:cpu,cpuacct:/x\nnonsense\n4:memory:/docker/abc\n0::/\n",
                {{"memory/docker/abc/memory.limit_in_bytes", std::to_string(512 * kMiB)},
                 {"memory/docker/abc/memory.usage_in_bytes", std::to_string(500 * kMiB)},
                 {"memory/docker/abc/memory.stat", "cache 1\ntotal_active_file " + std::to_string(100 * kMiB) +
                                                       "\ntotal_inactive_file " + std::to_string(300 * kMiB) + "\n"}});
  EXPECT_EQ(available_memory(v1.root()).bytes, 412 * kMiB);
}

TEST(AvailableMemoryTest, IsMemAvailableWithoutATighterLimit) {
  FakeSystem none("none", 2048, "4:memory:/\n",
                  {{"memory/memory.limit_in_bytes", "9223372036854771712"},
                   {"memory/memory.usage_in_bytes", std::to_string(kMiB)}});
  const MemoryRoom room = available_memory(none.root());
  EXPECT_EQ(room.bytes, 2048u * 1024);
  EXPECT_EQ(room.words, "available memory: 2048 kB");
}

TEST(AvailableMemoryTest, IsUnknownWhenNothingCanBeRead) {
  const MemoryRoom room = available_memory(fs::temp_directory_path() / "conveyor-memory-test-nothing-here");
  EXPECT_FALSE(room.bytes);
  EXPECT_EQ(room.words, "available memory unknown");
}

TEST(AvailableMemoryTest, OfThisMachineIsKnownAndLessThanItsMemory) {
  const MemoryRoom room = available_memory();
  ASSERT_TRUE(room.bytes);
  EXPECT_GT(*room.bytes, 0u);
  EXPECT_LE(*room.bytes, static_cast<std::uint64_t>(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGE_SIZE));
}

}  // namespace
}  // namespace conveyor
