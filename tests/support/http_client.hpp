// A small HTTP/1.1 client for end-to-end tests: keeps its connection alive
// between requests, and every exchange has a deadline, so a test fails
// instead of hanging.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cachecar::testing {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpResponse {
  int status = 0;        // 0: no response (connection failed or closed)
  unsigned version = 0;  // 11 for HTTP/1.1, 10 for HTTP/1.0
  Headers headers;
  std::string body;
  bool chunked = false;
  std::string error;                     // why status is 0
  std::chrono::microseconds elapsed{0};  // connect to last byte (concurrent_gets only)

  std::string header(std::string_view name) const;  // "" when absent
  bool has_header(std::string_view name) const;
};

class HttpClient {
 public:
  // Connects to `address` (a loopback address: tests never leave the host).
  explicit HttpClient(std::uint16_t port,
                      std::chrono::milliseconds timeout = std::chrono::seconds(10),
                      const std::string& address = "127.0.0.1");
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  HttpResponse request(const std::string& method, const std::string& target,
                       const Headers& headers = {}, const std::string& body = {});
  HttpResponse get(const std::string& target, const Headers& headers = {}) {
    return request("GET", target, headers);
  }
  // Writes `bytes` as they are, then reads one response.
  HttpResponse raw(const std::string& bytes);
  void close();
  int connections_opened() const { return connections_opened_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int connections_opened_ = 0;
};

// `count` GETs of `target` at the same time, each on a connection of its
// own, all bounded by `timeout`; answers in no particular order.
// Median, 99th percentile and maximum of `elapsed` over `responses`, as
// "p50 X ms, p99 Y ms, max Z ms" (for the measurements tests print).
std::string latency_summary(const std::vector<HttpResponse>& responses);

std::vector<HttpResponse> concurrent_gets(
    std::uint16_t port, const std::string& target, int count,
    std::chrono::milliseconds timeout = std::chrono::seconds(30));

// One request on a fresh connection.
HttpResponse http_request(std::uint16_t port, const std::string& method, const std::string& target,
                          const Headers& headers = {}, const std::string& body = {});

}  // namespace cachecar::testing
