#include "config/addresses.hpp"

#include <algorithm>
#include <array>
#include <charconv>

namespace cachecar::config {
namespace {

template <typename Int>
bool parse_int(std::string_view s, Int& value) {
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  return !s.empty() && ec == std::errc{} && ptr == s.data() + s.size();
}

}  // namespace

std::string HostPort::to_string() const {
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string RedisUrl::redacted() const {
  std::string auth;
  if (!user.empty() || !password.empty()) auth = user + (password.empty() ? "" : ":***") + "@";
  if (!unix_path.empty()) return "unix://" + unix_path + "?db=" + std::to_string(database);
  return std::string(tls ? "rediss" : "redis") + "://" + auth + host + ":" + std::to_string(port) +
         "/" + std::to_string(database);
}

std::optional<HostPort> parse_host_port(std::string_view text, std::string& error) {
  HostPort result;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      error = "expected [ipv6]:port, got '" + std::string(text) + "'";
      return std::nullopt;
    }
    result.host = std::string(text.substr(1, close - 1));
    port_text = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0) {
      error = "expected host:port, got '" + std::string(text) + "'";
      return std::nullopt;
    }
    result.host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
  }
  if (!parse_int(port_text, result.port)) {
    error = "port '" + std::string(port_text) + "' is not a number from 0 to 65535";
    return std::nullopt;
  }
  return result;
}

std::optional<OriginUrl> parse_origin_url(std::string_view text, std::string& error) {
  constexpr std::string_view kScheme = "http://";
  if (text.substr(0, kScheme.size()) != kScheme) {
    error =
        "origin must be an http:// URL (the API beside cachecar), got '" + std::string(text) + "'";
    return std::nullopt;
  }
  std::string_view rest = text.substr(kScheme.size());
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find('/') != std::string_view::npos) {
    error = "origin URL must not have a path: '" + std::string(text) + "'";
    return std::nullopt;
  }
  OriginUrl result;
  if (rest.find(':') == std::string_view::npos || (rest.front() == '[' && rest.back() == ']')) {
    result.host = std::string(rest);
    return result;
  }
  auto host_port = parse_host_port(rest, error);
  if (!host_port) return std::nullopt;
  result.host = host_port->host;
  result.port = host_port->port;
  return result;
}

namespace {

// unix:///path/redis.sock[?db=N]
std::optional<RedisUrl> parse_unix_url(std::string_view text, std::string& error) {
  RedisUrl result;
  std::string_view path = text.substr(7);
  auto query = path.find('?');
  if (query != std::string_view::npos) {
    std::string_view db = path.substr(query + 1);
    path = path.substr(0, query);
    if (db.substr(0, 3) != "db=" || !parse_int(db.substr(3), result.database) ||
        result.database < 0) {
      error = "unix socket url takes ?db=N, got '" + std::string(text) + "'";
      return std::nullopt;
    }
  }
  if (path.empty() || path.front() != '/') {
    error = "unix socket url needs an absolute path: unix:///path/redis.sock";
    return std::nullopt;
  }
  result.unix_path = std::string(path);
  return result;
}

// [user[:password]@]host[:port][/db], after the scheme.
bool parse_network_address(std::string_view text, std::string_view rest, RedisUrl& result,
                           std::string& error) {
  if (auto at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view auth = rest.substr(0, at);
    rest = rest.substr(at + 1);
    auto colon = auth.find(':');
    result.user = std::string(auth.substr(0, colon));
    if (colon != std::string_view::npos) result.password = std::string(auth.substr(colon + 1));
  }
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    std::string_view db = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
    if (!db.empty() && (!parse_int(db, result.database) || result.database < 0)) {
      error = "redis database '" + std::string(db) + "' is not a number";
      return false;
    }
  }
  if (rest.find(':') == std::string_view::npos) {
    result.host = std::string(rest);
  } else {
    auto host_port = parse_host_port(rest, error);
    if (!host_port) return false;
    result.host = host_port->host;
    result.port = host_port->port;
  }
  if (result.host.empty()) {
    error = "redis url '" + std::string(text) + "' has no host";
    return false;
  }
  return true;
}

}  // namespace

std::optional<RedisUrl> parse_redis_url(std::string_view text, std::string& error) {
  if (text.substr(0, 7) == "unix://") return parse_unix_url(text, error);
  RedisUrl result;
  std::string_view rest;
  if (text.substr(0, 8) == "redis://") {
    rest = text.substr(8);
  } else if (text.substr(0, 9) == "rediss://") {
    rest = text.substr(9);
    result.tls = true;
  } else {
    error =
        "redis url must start with redis://, rediss:// or unix://, got '" + std::string(text) + "'";
    return std::nullopt;
  }
  if (!parse_network_address(text, rest, result, error)) return std::nullopt;
  return result;
}

bool is_loopback_host(const std::string& host) {
  if (host == "localhost") return true;
  std::string_view literal = host;
  if (literal.size() > 2 && literal.front() == '[' && literal.back() == ']')
    literal = literal.substr(1, literal.size() - 2);
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(std::string(literal), ec);
  return !ec && address.is_loopback();
}

namespace {

// The address as 16 bytes, IPv4 mapped into IPv6 (::ffff:a.b.c.d), so that
// one comparison serves both families.
std::array<unsigned char, 16> as_v6_bytes(const boost::asio::ip::address& address) {
  if (address.is_v4()) {
    return boost::asio::ip::make_address_v6(boost::asio::ip::v4_mapped, address.to_v4()).to_bytes();
  }
  return address.to_v6().to_bytes();
}

}  // namespace

bool Cidr::contains(const boost::asio::ip::address& address) const {
  const auto block = as_v6_bytes(network);
  const auto candidate = as_v6_bytes(address);
  unsigned bits = network.is_v4() ? prefix_length + 96 : prefix_length;
  for (std::size_t i = 0; i < block.size() && bits > 0; ++i) {
    const unsigned take = std::min(bits, 8u);
    const auto mask = static_cast<unsigned char>(0xff << (8 - take));
    if ((block[i] & mask) != (candidate[i] & mask)) return false;
    bits -= take;
  }
  return true;
}

std::string Cidr::to_string() const {
  return network.to_string() + "/" + std::to_string(prefix_length);
}

std::optional<Cidr> parse_cidr(std::string_view text, std::string& error) {
  auto slash = text.find('/');
  std::string address_text(text.substr(0, slash));
  boost::system::error_code ec;
  Cidr cidr;
  cidr.network = boost::asio::ip::make_address(address_text, ec);
  if (ec) {
    error = "'" + address_text + "' is not an IP address";
    return std::nullopt;
  }
  const unsigned max_length = cidr.network.is_v4() ? 32 : 128;
  cidr.prefix_length = max_length;
  if (slash != std::string_view::npos && !parse_int(text.substr(slash + 1), cidr.prefix_length)) {
    error = "'" + std::string(text.substr(slash + 1)) + "' is not a prefix length";
    return std::nullopt;
  }
  if (cidr.prefix_length > max_length) {
    error = "prefix length " + std::to_string(cidr.prefix_length) + " is longer than " +
            std::to_string(max_length);
    return std::nullopt;
  }
  return cidr;
}

}  // namespace cachecar::config
