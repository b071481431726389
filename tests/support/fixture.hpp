// End-to-end fixtures: the real demo origin and the real cachecar binary as
// child processes on free loopback ports, stopped by PID when the test ends.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "support/http_client.hpp"
#include "support/process.hpp"

namespace cachecar::testing {

// The resident set size of a running process (VmRSS), in bytes; 0 when unknown.
std::uint64_t resident_bytes(int pid);

// A port that was free a moment ago on 127.0.0.1 (bound, then released).
std::uint16_t free_port();

class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string write(const std::string& name, const std::string& content) const;

 private:
  std::string path_;
};

class Origin {
 public:
  explicit Origin(std::vector<std::string> extra_args = {});
  std::uint16_t port() const { return port_; }
  nlohmann::json stats();
  // Requests seen for a path (no query), or for an exact target (with query).
  std::uint64_t count(const std::string& path);
  std::uint64_t count_target(const std::string& target);
  std::uint64_t connections();
  void reset();
  ChildProcess& process() { return *process_; }

 private:
  std::unique_ptr<ChildProcess> process_;
  std::uint16_t port_ = 0;
};

// Top-level keys most tests share: one worker, no drain delay, quiet logs,
// and the loopback names every test client uses declared one site (else
// each cachecar's own port, in Host, would enter the key).
inline constexpr const char* kTestBase =
    "workers: 1\ndrain_delay: 0s\nlog: { format: text, level: warn }\nallowed_hosts: [127.0.0.1, "
    "localhost]\n";

class Cachecar {
 public:
  // Writes a config of listen/origin/admin on fresh ports followed by
  // `yaml` (whose own "admin: { ... }" line, if any, gets the admin port), starts the binary and
  // waits (bounded) until /healthz answers and /readyz has nothing left "starting" (bus
  // subscription, warming). With `configmap_layout`, the file sits where Kubernetes mounts a
  // ConfigMap: DIR/cachecar.yaml -> ..data/cachecar.yaml, ..data -> ..v1.
  Cachecar(std::uint16_t origin_port, const std::string& yaml,
           std::map<std::string, std::string> env = {}, bool configmap_layout = false);
  std::uint16_t port() const { return port_; }
  const std::string& config_path() const { return config_path_; }
  // Replaces the config with `yaml` (same ports) the way its layout is
  // updated: a rename over the file, or the ConfigMap's ..data swap.
  void rewrite_config(const std::string& yaml);
  std::uint16_t admin_port() const { return admin_port_; }
  HttpResponse get(const std::string& target, const Headers& headers = {});
  HttpResponse admin(const std::string& method, const std::string& target,
                     const std::string& body = {}, const Headers& headers = {});
  ChildProcess& process() { return *process_; }
  std::string log() const;  // what cachecar wrote to stderr
  // The value of one series of GET /metrics, written as it appears there
  // (e.g. `cachecar_fleet_leases_total{result="won"}`); ~0 when absent.
  std::uint64_t metric(const std::string& series);

 private:
  void wait_for_startup(std::chrono::steady_clock::time_point deadline);
  std::string compose_config(const std::string& yaml) const;
  TempDir dir_;
  std::uint16_t origin_port_ = 0;
  bool configmap_layout_ = false;
  int config_version_ = 0;
  std::string config_path_;
  std::uint16_t port_ = 0;
  std::uint16_t admin_port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

// Polls `condition` (every 5 ms) until it holds or `limit` passes: a
// bounded wait for what another process brings about. True if it held.
template <typename Condition>
bool eventually(Condition condition, std::chrono::milliseconds limit = std::chrono::seconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return condition();
}

}  // namespace cachecar::testing
