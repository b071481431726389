// workers: 0 follows the container's CPU limit (issue 11), read from a
// fake cgroup tree laid out as the kernel mounts it.
#include "app/cpu_quota.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

namespace cachecar::app {
namespace {

namespace fs = std::filesystem;

class FakeCgroup : public ::testing::Test {
 protected:
  FakeCgroup() {
    root_ =
        fs::temp_directory_path() / ("cachecar-cgroup-" + std::to_string(std::random_device{}()));
    fs::create_directories(root_);
  }
  ~FakeCgroup() override { fs::remove_all(root_); }
  void write(const fs::path& relative, const std::string& text) {
    fs::create_directories((root_ / relative).parent_path());
    std::ofstream(root_ / relative) << text << "\n";
  }
  std::optional<double> cpus(const std::string& self_cgroup) {
    auto quota = cgroup_cpu_quota(root_, self_cgroup);
    return quota ? std::optional<double>(quota->cpus) : std::nullopt;
  }
  fs::path root_;
};

TEST_F(FakeCgroup, V2QuotaInsideACgroupNamespace) {
  write("cpu.max", "150000 100000");
  EXPECT_EQ(cpus("0::/\n"), 1.5);
}

TEST_F(FakeCgroup, V2NoLimitIsNoQuota) {
  write("cpu.max", "max 100000");
  EXPECT_EQ(cpus("0::/\n"), std::nullopt);
}

TEST_F(FakeCgroup, V2TheTightestAncestorWins) {
  write("kubepods/cpu.max", "100000 100000");
  write("kubepods/pod1/cpu.max", "max 100000");
  write("kubepods/pod1/sidecar/cpu.max", "300000 100000");
  EXPECT_EQ(cpus("0::/kubepods/pod1/sidecar\n"), 1.0);
}

TEST_F(FakeCgroup, V2PathFromAnotherNamespaceFallsBackToTheMount) {
  write("cpu.max", "250000 100000");
  EXPECT_EQ(cpus("0::/system.slice/not-mounted-here\n"), 2.5);
}

TEST_F(FakeCgroup, V1QuotaAndPeriod) {
  write("cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "50000");
  write("cpu,cpuacct/docker/abc/cpu.cfs_period_us", "100000");
  write("cpu,cpuacct/cpu.cfs_quota_us", "-1");
  write("cpu,cpuacct/cpu.cfs_period_us", "100000");
  EXPECT_EQ(cpus("12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n1:name=systemd:/docker/abc\n"),
            0.5);
}

TEST_F(FakeCgroup, V1UnlimitedIsNoQuota) {
  write("cpu,cpuacct/cpu.cfs_quota_us", "-1");
  write("cpu,cpuacct/cpu.cfs_period_us", "100000");
  EXPECT_EQ(cpus("4:cpu,cpuacct:/\n0::/\n"), std::nullopt);
}

TEST_F(FakeCgroup, MalformedFilesSayNothing) {
  write("cpu.max", "lots 100000");
  EXPECT_EQ(cpus("0::/\n"), std::nullopt);
  EXPECT_EQ(cpus(""), std::nullopt);
}

TEST_F(FakeCgroup, WorkersAreTheQuotaRoundedUpAtLeastOne) {
  write("self-cgroup", "0::/");
  write("cpu.max", "50000 100000");
  auto half = automatic_worker_count(root_, root_ / "self-cgroup");
  EXPECT_EQ(half.workers, 1u);
  EXPECT_NE(half.reason.find("cgroup CPU quota 0.5"), std::string::npos) << half.reason;
  write("cpu.max", "100000 100000");
  EXPECT_EQ(automatic_worker_count(root_, root_ / "self-cgroup").workers, 1u);
  write("cpu.max", "max 100000");
  auto unlimited = automatic_worker_count(root_, root_ / "self-cgroup");
  EXPECT_GE(unlimited.workers, 1u);
  EXPECT_NE(unlimited.reason.find("no cgroup CPU quota"), std::string::npos) << unlimited.reason;
}

TEST_F(FakeCgroup, AQuotaAboveTheSchedulableCpusIsCapped) {
  write("self-cgroup", "0::/");
  write("cpu.max", "100000000 100000");  // 1000 CPUs
  auto capped = automatic_worker_count(root_, root_ / "self-cgroup");
  EXPECT_LT(capped.workers, 1000u);
  EXPECT_GE(capped.workers, 1u);
}

}  // namespace
}  // namespace cachecar::app
