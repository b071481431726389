#include "support/redis_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
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

// Sends `request` and returns what arrives within 2 s (or until the peer closes).
std::string exchange(std::uint16_t port, const std::string& request) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return {};
  }
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

RedisServer::RedisServer() : port_(free_loopback_port()) { start(); }

void RedisServer::start() {
  ChildProcess::Options options;
  options.argv = {"/usr/bin/redis-server", "--port", std::to_string(port_), "--bind", "127.0.0.1",
                  "--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning"};
  options.stdout_path = "/dev/null";
  process_ = std::make_unique<ChildProcess>(options);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (exchange(port_, "PING\r\n").rfind("+PONG", 0) == 0) return;
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
  std::string request = "*" + std::to_string(args.size()) + "\r\n";
  for (const auto& a : args) request += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
  return exchange(port_, request);
}

}  // namespace cachecar::testing
