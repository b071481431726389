#include "support/redis_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <thread>

namespace cachecar::testing {
namespace {

std::uint16_t free_loopback_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// A connected socket to the port (or unix socket path), or -1.
int connect_to(std::uint16_t port, const std::string& unix_path) {
  if (!unix_path.empty()) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", unix_path.c_str());
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) return fd;
    ::close(fd);
    return -1;
  }
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) return fd;
  ::close(fd);
  return -1;
}

// Sends `request` and returns what arrives within 2 s (or until the peer closes).
std::string exchange(std::uint16_t port, const std::string& request,
                     const std::string& unix_path = {}) {
  int fd = connect_to(port, unix_path);
  if (fd < 0) return {};
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string reply;
  pollfd p{fd, POLLIN, 0};
  while (::poll(&p, 1, 2000) > 0) {
    char buffer[4096];
    ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    reply.append(buffer, static_cast<std::size_t>(n));
    if (reply.size() >= 2 && reply.compare(reply.size() - 2, 2, "\r\n") == 0) break;
  }
  ::close(fd);
  return reply;
}

}  // namespace

RedisServer::RedisServer(Transport transport) : transport_(transport), port_(free_loopback_port()) {
  char path_template[] = "/tmp/cachecar-redis-XXXXXX";
  if (::mkdtemp(path_template) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = path_template;
  if (transport_ == Transport::tls) make_certificates();
  // A port found free can be taken before redis-server binds it: retry elsewhere.
  for (int attempt = 0;; ++attempt) {
    try {
      start();
      return;
    } catch (const std::runtime_error&) {
      if (attempt == 4) throw;
      port_ = free_loopback_port();
    }
  }
}

RedisServer::~RedisServer() {
  process_.reset();  // stops redis-server before its files go
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string RedisServer::url() const {
  switch (transport_) {
    case Transport::tls:
      return "rediss://127.0.0.1:" + std::to_string(port_) + "/0";
    case Transport::unix_socket:
      return "unix://" + dir_ + "/redis.sock";
    case Transport::tcp_password:
      return "redis://default:s3cret@127.0.0.1:" + std::to_string(port_) + "/3";
    case Transport::tcp:
      break;
  }
  return "redis://127.0.0.1:" + std::to_string(port_) + "/0";
}

void RedisServer::make_certificates() {
  auto run = [&](std::vector<std::string> argv) {
    auto result = run_command(argv, std::chrono::seconds(30), dir_);
    if (result.exit_code != 0) throw std::runtime_error("openssl failed: " + result.output);
  };
  auto make_ca = [&](const std::string& name) {
    run({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
         name + ".key", "-out", name + ".crt", "-days", "2", "-subj", "/CN=cachecar test " + name});
  };
  make_ca("ca");
  make_ca("other-ca");
  run({"/usr/bin/openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out",
       "server.csr", "-subj", "/CN=127.0.0.1"});
  run({"/bin/sh", "-c", "printf 'subjectAltName=IP:127.0.0.1\n' > san.cnf"});
  run({"/usr/bin/openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
       "-CAcreateserial", "-out", "server.crt", "-days", "2", "-extfile", "san.cnf"});
  ca_file_ = dir_ + "/ca.crt";
}

std::string RedisServer::other_ca_file() const { return dir_ + "/other-ca.crt"; }

bool RedisServer::ready() {
  if (transport_ == Transport::tls) {
    // Accepting TCP on the TLS port is as far as a plain probe can see.
    int fd = connect_to(port_, {});
    if (fd >= 0) ::close(fd);
    return fd >= 0;
  }
  std::string unix_path =
      transport_ == Transport::unix_socket ? dir_ + "/redis.sock" : std::string();
  std::string reply = exchange(port_, "PING\r\n", unix_path);
  return reply.rfind("+PONG", 0) == 0 || reply.rfind("-NOAUTH", 0) == 0;
}

void RedisServer::start() {
  ChildProcess::Options options;
  options.argv = {
      "/usr/bin/redis-server", "--bind", "127.0.0.1",  "--save", "", "--appendonly", "no",
      "--daemonize",           "no",     "--loglevel", "warning"};
  switch (transport_) {
    case Transport::tcp:
      options.argv.insert(options.argv.end(), {"--port", std::to_string(port_)});
      break;
    case Transport::tls:
      options.argv.insert(options.argv.end(),
                          {"--port", "0", "--tls-port", std::to_string(port_), "--tls-cert-file",
                           dir_ + "/server.crt", "--tls-key-file", dir_ + "/server.key",
                           "--tls-ca-cert-file", ca_file_, "--tls-auth-clients", "no"});
      break;
    case Transport::unix_socket:
      options.argv.insert(options.argv.end(),
                          {"--port", "0", "--unixsocket", dir_ + "/redis.sock"});
      break;
    case Transport::tcp_password:
      options.argv.insert(options.argv.end(),
                          {"--port", std::to_string(port_), "--requirepass", "s3cret"});
      break;
  }
  options.stdout_path = "/dev/null";
  process_ = std::make_unique<ChildProcess>(options);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (ready()) return;
    if (!process_->running()) throw std::runtime_error("redis-server exited at start");
    // Not accepting yet: it binds within milliseconds.
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  throw std::runtime_error("redis-server did not answer PING");
}

void RedisServer::pause() const { process_->send_signal(SIGSTOP); }
void RedisServer::resume() const { process_->send_signal(SIGCONT); }

void RedisServer::kill() {
  process_->send_signal(SIGKILL);
  process_->wait_exit(std::chrono::seconds(5));
}

void RedisServer::restart() {
  kill();
  start();
}

std::string RedisServer::command(const std::vector<std::string>& args) const {
  if (transport_ == Transport::tls)
    throw std::logic_error("RedisServer::command speaks plain RESP only");
  std::string request = "*" + std::to_string(args.size()) + "\r\n";
  for (const auto& a : args) request += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
  return exchange(port_, request,
                  transport_ == Transport::unix_socket ? dir_ + "/redis.sock" : std::string());
}

}  // namespace cachecar::testing
