#include "app/cpu_quota.hpp"

#include <sched.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

namespace cachecar::app {
namespace fs = std::filesystem;

namespace {

std::optional<std::string> read_first_line(const fs::path& file) {
  std::ifstream in(file);
  std::string line;
  if (!in || !std::getline(in, line)) return std::nullopt;
  return line;
}

// The directories from `mount / relative` up to `mount`, deepest first. A
// cgroup namespace (every container runtime's default) shows the
// container's own cgroup as "/", so often this is just the mount.
std::vector<fs::path> up_from(const fs::path& mount, const std::string& relative) {
  std::vector<fs::path> dirs;
  fs::path dir = mount;
  std::vector<std::string> parts;
  std::istringstream segments(relative);
  for (std::string part; std::getline(segments, part, '/');) {
    if (!part.empty() && part != "." && part != "..") parts.push_back(part);
  }
  for (const auto& part : parts) dir /= part;
  // A path from outside this mount namespace that is not here: the
  // mount itself is this process' cgroup.
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return {mount};
  for (; dir != mount && !parts.empty(); parts.pop_back(), dir = dir.parent_path())
    dirs.push_back(dir);
  dirs.push_back(mount);
  return dirs;
}

struct Quota {
  long long quota = 0;
  long long period = 0;
  std::string text;
  fs::path file;
};

void keep_tightest(std::optional<Quota>& best, Quota candidate) {
  if (candidate.quota <= 0 || candidate.period <= 0) return;
  const double cpus = static_cast<double>(candidate.quota) / static_cast<double>(candidate.period);
  if (!best || cpus < static_cast<double>(best->quota) / static_cast<double>(best->period))
    best = std::move(candidate);
}

// cgroup v2: "max 100000" (no limit) or "150000 100000".
std::optional<Quota> v2_quota(const fs::path& root, const std::string& relative) {
  std::optional<Quota> best;
  for (const auto& dir : up_from(root, relative)) {
    auto line = read_first_line(dir / "cpu.max");
    if (!line) continue;
    std::istringstream fields(*line);
    std::string quota;
    long long period = 0;
    if (!(fields >> quota >> period) || quota == "max") continue;
    try {
      keep_tightest(best, {std::stoll(quota), period, *line, dir / "cpu.max"});
    } catch (const std::exception&) {
      // A malformed file says nothing about a limit.
    }
  }
  return best;
}

// cgroup v1: cpu.cfs_quota_us (-1: no limit) over cpu.cfs_period_us, in
// the hierarchy mounted as cpu,cpuacct (or cpu alone).
std::optional<Quota> v1_quota(const fs::path& root, const std::string& relative) {
  std::optional<Quota> best;
  for (const char* mount_name : {"cpu,cpuacct", "cpu", "cpuacct,cpu"}) {
    const fs::path mount = root / mount_name;
    std::error_code ec;
    if (!fs::is_directory(mount, ec)) continue;
    for (const auto& dir : up_from(mount, relative)) {
      auto quota = read_first_line(dir / "cpu.cfs_quota_us");
      auto period = read_first_line(dir / "cpu.cfs_period_us");
      if (!quota || !period) continue;
      try {
        keep_tightest(best, {std::stoll(*quota), std::stoll(*period), *quota + " / " + *period,
                             dir / "cpu.cfs_quota_us"});
      } catch (const std::exception&) {
      }
    }
    break;
  }
  return best;
}

std::size_t schedulable_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0) {
    return static_cast<std::size_t>(CPU_COUNT(&set));
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace

std::optional<CpuQuota> cgroup_cpu_quota(const fs::path& cgroup_root,
                                         const std::string& self_cgroup) {
  // /proc/self/cgroup: "0::/path" for the v2 hierarchy, "N:cpu,cpuacct:/path" for v1.
  std::optional<std::string> v2_path, v1_path;
  std::istringstream lines(self_cgroup);
  for (std::string line; std::getline(lines, line);) {
    auto first = line.find(':');
    auto second = first == std::string::npos ? std::string::npos : line.find(':', first + 1);
    if (second == std::string::npos) continue;
    const std::string controllers = line.substr(first + 1, second - first - 1);
    const std::string path = line.substr(second + 1);
    if (line.compare(0, first, "0") == 0 && controllers.empty()) v2_path = path;
    std::istringstream names(controllers);
    for (std::string name; std::getline(names, name, ',');) {
      if (name == "cpu") v1_path = path;
    }
  }
  std::optional<Quota> quota;
  // A v1 cpu controller wins on a hybrid host: there the v2 tree has no cpu.max.
  if (v1_path) quota = v1_quota(cgroup_root, *v1_path);
  if (!quota && v2_path) quota = v2_quota(cgroup_root, *v2_path);
  if (!quota) return std::nullopt;
  return CpuQuota{static_cast<double>(quota->quota) / static_cast<double>(quota->period),
                  quota->file.string() + " = " + quota->text};
}

WorkerCount automatic_worker_count(const fs::path& cgroup_root, const fs::path& self_cgroup_file) {
  const std::size_t cpus = schedulable_cpus();
  std::ifstream file(self_cgroup_file);
  std::stringstream text;
  text << file.rdbuf();
  auto quota = cgroup_cpu_quota(cgroup_root, text.str());
  if (!quota) return {cpus, std::to_string(cpus) + " schedulable CPU(s), no cgroup CPU quota"};
  const auto rounded_up = static_cast<std::size_t>(std::ceil(quota->cpus - 1e-9));
  const std::size_t workers = std::clamp<std::size_t>(rounded_up, 1, cpus);
  std::ostringstream reason;
  reason << "cgroup CPU quota " << quota->cpus << " (" << quota->origin << "), rounded up; " << cpus
         << " schedulable CPU(s)";
  return {workers, reason.str()};
}

}  // namespace cachecar::app
