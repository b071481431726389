// A real redis-server for tests: started on a free loopback port with no
// persistence, stopped by PID. Tests can pause it (SIGSTOP), resume it, or
// kill and restart it on the same port.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "support/process.hpp"

namespace cachecar::testing {

class RedisServer {
 public:
  enum class Transport {
    tcp,
    tls,
    unix_socket,
    tcp_password
  };  // tcp_password: AUTH default/secret, db 3

  // TLS: the test makes its own CA and a server certificate for 127.0.0.1.
  explicit RedisServer(Transport transport = Transport::tcp);
  ~RedisServer();
  std::uint16_t port() const { return port_; }
  std::string url() const;
  const std::string& ca_file() const { return ca_file_; }  // TLS only
  // A CA that did not sign the server's certificate (for verification tests).
  std::string other_ca_file() const;
  void pause() const;
  void resume() const;
  void kill();
  void restart();
  // Runs one command over a fresh connection (inline RESP); returns the raw reply line(s).
  std::string command(const std::vector<std::string>& args) const;

 private:
  void start();
  void make_certificates();
  bool ready();
  Transport transport_;
  std::uint16_t port_;
  std::string dir_;  // certificates and the unix socket
  std::string ca_file_;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace cachecar::testing
