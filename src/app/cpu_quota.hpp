// How many CPUs this process may really use, for `workers: 0`: a
// container's CPU limit is a cgroup quota, not the node's core count that
// std::thread::hardware_concurrency() reports.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>

namespace cachecar::app {

struct CpuQuota {
  double cpus = 0;     // quota / period: 1.5 for "150000 100000"
  std::string origin;  // the file it came from and what it said, for the start-up log
};

// The tightest CPU quota on the way from this process' cgroup up to the
// root: cgroup v2 `cpu.max`, else v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us`.
// `cgroup_root` is where cgroupfs is mounted (/sys/fs/cgroup) and
// `self_cgroup` the text of /proc/self/cgroup. nullopt: no quota set.
std::optional<CpuQuota> cgroup_cpu_quota(const std::filesystem::path& cgroup_root,
                                         const std::string& self_cgroup);

struct WorkerCount {
  std::size_t workers = 1;
  std::string reason;  // how the number was chosen, for the start-up log
};

// The number of workers `workers: 0` means: the quota rounded up, no more
// than the CPUs this process may be scheduled on, at least 1.
WorkerCount automatic_worker_count(
    const std::filesystem::path& cgroup_root = "/sys/fs/cgroup",
    const std::filesystem::path& self_cgroup_file = "/proc/self/cgroup");

}  // namespace cachecar::app
