// A real redis-server for tests: started on a free loopback port with no
// persistence, stopped by PID. Tests can pause it (SIGSTOP), resume it, or
// kill and restart it on the same port.
#pragma once

#include "support/process.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace cachecar::testing {

class RedisServer {
 public:
  RedisServer();
  std::uint16_t port() const { return port_; }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_) + "/0"; }
  void pause() const;
  void resume() const;
  void kill();
  void restart();
  // Runs one command over a fresh connection (inline RESP); returns the raw reply line(s).
  std::string command(const std::vector<std::string>& args) const;

 private:
  void start();
  std::uint16_t port_;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace cachecar::testing
