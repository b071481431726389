// The Asio/Beast names the network code uses, in one place.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <string_view>

namespace cachecar::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

// Completion token for expected errors: co_await returns a tuple (ec, ...).
inline constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

using Request = http::request<http::string_body>;

// HTTP versions as Beast numbers them (major * 10 + minor).
inline constexpr unsigned kHttp10 = 10;
inline constexpr unsigned kHttp11 = 11;

// Beast's string_view as the standard one (the cache code speaks std).
inline std::string_view sv(beast::string_view s) { return {s.data(), s.size()}; }

}  // namespace cachecar::net
