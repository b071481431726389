// Parsing of the network addresses in the config: listen endpoints,
// the origin URL and the Redis URL. Pure functions, no resolution.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cachecar::config {

struct HostPort {
  std::string host;
  std::uint16_t port = 0;
  std::string to_string() const;
};

// localhost, an IPv4 address in 127.0.0.0/8, or ::1 (as written in
// config; no lookup: "127.example.com" is a name, not a loopback address).
bool is_loopback_host(const std::string& host);

// A block of addresses, "10.0.0.0/8" or "fd00::/8" (a bare address is a
// block of one). IPv4-mapped IPv6 peers (::ffff:a.b.c.d) match IPv4 blocks.
struct Cidr {
  boost::asio::ip::address network;
  unsigned prefix_length = 0;
  bool contains(const boost::asio::ip::address& address) const;
  std::string to_string() const;
};
std::optional<Cidr> parse_cidr(std::string_view text, std::string& error);

struct OriginUrl {
  std::string host;
  std::uint16_t port = 80;
  std::string to_string() const { return "http://" + host + ":" + std::to_string(port); }
};

struct RedisUrl {
  bool tls = false;
  std::string unix_path;  // unix:///path: a local socket instead of host:port
  std::string user;
  std::string password;
  std::string host;
  std::uint16_t port = 6379;
  int database = 0;
  std::string redacted() const;  // the URL with the password replaced by ***
};

// "127.0.0.1:8080", "0.0.0.0:8080", "[::1]:8080", "localhost:8080".
std::optional<HostPort> parse_host_port(std::string_view text, std::string& error);
// "http://127.0.0.1:5000" (https is not supported for the loopback origin).
std::optional<OriginUrl> parse_origin_url(std::string_view text, std::string& error);
// "redis://[user:password@]host:port/db", "rediss://..." for TLS, or
// "unix:///path/redis.sock[?db=N]".
std::optional<RedisUrl> parse_redis_url(std::string_view text, std::string& error);

}  // namespace cachecar::config
