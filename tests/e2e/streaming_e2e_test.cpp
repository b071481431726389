// Issue 10, finding 10: bodies that take their time. origin_timeout bounds
// the wait for a response head; inside a body, only silence longer than
// origin_idle_timeout ends it. A streamed response's head goes out before
// its body is awaited, and an origin that fails mid-body leaves the client
// a complete head and a visibly truncated body, not an empty reply.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>

#include "support/fixture.hpp"

namespace cachecar::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

const std::string kConfig = std::string(kTestBase) + R"(
limits: { origin_timeout: 400ms, origin_idle_timeout: 2s }
store:
  memory: { max_bytes: 8MiB, max_entry_bytes: 64KiB }
routes:
  - name: raw
    match: { path: "/t/raw/{*rest}" }
    mode: bypass
  - name: knobs
    match: { path: "/t/{*rest}" }
    ttl: 5m
)";

// Sends `request` on a fresh connection and reads until the server closes
// it (or `limit` passes). `on_head` runs once, when the head has arrived.
std::string read_until_close(std::uint16_t port, const std::string& request,
                             const std::function<void()>& on_head = {},
                             std::chrono::seconds limit = std::chrono::seconds(15)) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  timeval tick{0, 200'000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tick, sizeof tick);
  std::string received;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
      ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(request.size())) {
    bool head_seen = false;
    const auto deadline = std::chrono::steady_clock::now() + limit;
    char buffer[16 * 1024];
    while (std::chrono::steady_clock::now() < deadline) {
      ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n == 0) break;                                            // closed
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) break;  // reset
      if (n > 0) received.append(buffer, static_cast<std::size_t>(n));
      if (!head_seen && received.find("\r\n\r\n") != std::string::npos) {
        head_seen = true;
        if (on_head) on_head();
      }
    }
  }
  ::close(fd);
  return received;
}

std::string get_request(const std::string& target) {
  return "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
}

std::size_t body_bytes(const std::string& message) {
  auto end = message.find("\r\n\r\n");
  return end == std::string::npos ? 0 : message.size() - end - 4;
}

class Streaming : public ::testing::Test {
 protected:
  Origin origin_;
  Cachecar cachecar_{origin_.port(), kConfig};
};

TEST_F(Streaming, ASlowButSteadyBodyIsNotCutOffByOriginTimeout) {
  // 12 pieces of 2 KB, 150 ms apart: 1.65 s in all, past origin_timeout
  // (400 ms) but never silent for origin_idle_timeout (2 s).
  for (const char* target : {"/t/raw/trickle?size=24000&piece=2000&trickle_ms=150",
                             "/t/cacheable-trickle?size=24000&piece=2000&trickle_ms=150"}) {
    auto r = cachecar_.get(target);
    EXPECT_EQ(r.status, 200) << target << ": " << r.error;
    EXPECT_EQ(r.body.size(), 24000u) << target;
  }
  EXPECT_THAT(cachecar_.get("/t/cacheable-trickle?size=24000&piece=2000&trickle_ms=150")
                  .header("Cache-Status"),
              StartsWith("cachecar; hit"));
}

TEST_F(Streaming, AStreamedHeadIsSentBeforeTheBodyHasArrived) {
  // Four 1 KB pieces, 400 ms apart, chunked, no length: well under the
  // 16 KiB the relay reads at a time, so a relay that waited for its
  // buffer to fill would send the head only after the last piece.
  std::uint64_t pieces_when_head_arrived = 0;
  auto message = read_until_close(
      cachecar_.port(), get_request("/t/raw/sse?size=4000&piece=1000&trickle_ms=400&chunked=1"),
      [&] { pieces_when_head_arrived = origin_.stats()["pieces_sent"]; });
  EXPECT_THAT(message, StartsWith("HTTP/1.1 200"));
  EXPECT_LT(pieces_when_head_arrived, 4u) << "the head waited for the whole body";
  EXPECT_THAT(message, HasSubstr("\r\n0\r\n\r\n")) << "and the stream then ended properly";
}

TEST_F(Streaming, AResetMidBodyLeavesTheHeadAndATruncatedBody) {
  auto message = read_until_close(
      cachecar_.port(), get_request("/t/raw/cut?size=50000&piece=5000&reset_after=10000"));
  EXPECT_THAT(message, StartsWith("HTTP/1.1 200"));
  EXPECT_THAT(message, HasSubstr("Content-Length: 50000"));
  EXPECT_GE(body_bytes(message), 10000u);
  EXPECT_LT(body_bytes(message), 50000u) << "the client can tell the body is incomplete";
  EXPECT_EQ(cachecar_.get("/t/after-reset").status, 200);
}

TEST_F(Streaming, SilenceInsideABodyEndsItAfterOriginIdleTimeout) {
  // One piece, then 8 s of silence (origin_idle_timeout is 2 s).
  auto started = std::chrono::steady_clock::now();
  auto message = read_until_close(cachecar_.port(),
                                  get_request("/t/raw/stall?size=4000&piece=2000&trickle_ms=8000"));
  auto took = std::chrono::steady_clock::now() - started;
  EXPECT_THAT(message, StartsWith("HTTP/1.1 200"));
  EXPECT_LT(body_bytes(message), 4000u);
  EXPECT_LT(took, std::chrono::milliseconds(6000)) << "cachecar, not the origin, ended it";
}

}  // namespace
}  // namespace cachecar::testing
