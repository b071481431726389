// Issue 10, findings 1 and 11: what a client can make cachecar hold. The
// memory tier's bound is a bound on the process, not on a number it
// reports; running out of descriptors does not turn the accept loop into
// a busy loop.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

#include "support/fixture.hpp"

namespace cachecar::testing {
namespace {

using nlohmann::json;

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized =
    true;  // ASan's allocator and quarantine make RSS say nothing about ours
#else
constexpr bool kSanitized = false;
#endif

constexpr std::uint64_t kMaxBytes = 8 * 1024 * 1024;
// What a process serving requests holds besides the memory tier: allocator
// arenas and free lists, per-connection buffers, the runtime's tables.
constexpr std::uint64_t kAllowance = 24 * 1024 * 1024;

TEST(MemoryBound, FiftyThousandDistinctObjectsCostNoMoreThanMaxBytes) {
  if (kSanitized)
    GTEST_SKIP() << "RSS under AddressSanitizer measures its allocator, not cachecar's";
  Origin origin;
  Cachecar cachecar(origin.port(), std::string(kTestBase) + R"(
store:
  memory: { max_bytes: 8MiB, max_entry_bytes: 64KiB }
routes:
  - name: objects
    match: { path: "/t/obj/{id}" }
    ttl: 1h
)");
  HttpClient client(cachecar.port());
  // Warm the process up first (connections, arenas, tables), then measure
  // what filling the tier far past its bound adds.
  for (int i = 0; i < 2000; ++i) client.get("/t/obj/w" + std::to_string(i) + "?size=1024");
  const auto before = resident_bytes(cachecar.process().pid());
  for (int i = 0; i < 50'000; ++i) {
    auto r = client.get("/t/obj/" + std::to_string(i) + "?size=1024");
    ASSERT_EQ(r.status, 200) << i;
  }
  const auto after = resident_bytes(cachecar.process().pid());
  auto memory = json::parse(cachecar.admin("GET", "/admin/stats").body)["tiers"]["memory"];
  const auto charged = memory["bytes"].get<std::uint64_t>();
  const auto entries = memory["entries"].get<std::uint64_t>();
  std::printf(
      "memory tier: %llu entries, %llu bytes charged (%.0f per entry); RSS %.1f MB -> %.1f MB "
      "(+%.1f MB)\n",
      static_cast<unsigned long long>(entries), static_cast<unsigned long long>(charged),
      static_cast<double>(charged) / static_cast<double>(entries), before / 1048576.0,
      after / 1048576.0, (static_cast<double>(after) - static_cast<double>(before)) / 1048576.0);
  EXPECT_LE(charged, kMaxBytes);
  EXPECT_GT(entries, 2500u) << "a 1 KiB response should cost under 3 KiB, not 65";
  EXPECT_LE(after, before + kMaxBytes + kAllowance);
}

// CPU time (user + system) a process has used, from /proc/PID/stat.
double cpu_seconds(int pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  std::istringstream fields(text.substr(text.rfind(')') + 2));  // after "pid (comm) "
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; fields >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) {
      stime = std::stoull(field);
      break;
    }
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

std::size_t open_descriptors(int pid) {
  std::size_t count = 0;
  for ([[maybe_unused]] const auto& entry :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
    ++count;
  }
  return count;
}

// A connection that stays open (and says nothing) until destroyed.
class IdleConnection {
 public:
  explicit IdleConnection(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    ::inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  }
  ~IdleConnection() { ::close(fd_); }
  IdleConnection(const IdleConnection&) = delete;
  IdleConnection& operator=(const IdleConnection&) = delete;
  bool connected() const { return connected_; }

 private:
  int fd_;
  bool connected_ = false;
};

TEST(Descriptors, RunningOutPausesAcceptsInsteadOfSpinning) {
  Origin origin;
  Cachecar cachecar(origin.port(), std::string(kTestBase) + R"(
routes:
  - name: knobs
    match: { path: "/t/{*rest}" }
    ttl: 5m
)");
  const int pid = cachecar.process().pid();
  ASSERT_EQ(cachecar.get("/t/before").status, 200);
  // Leave room for a few more descriptors only, then open far more
  // connections than that: the kernel completes them, accept cannot.
  // Only the soft limit moves: raising a hard limit again needs a privilege.
  rlimit original{};
  ASSERT_EQ(::prlimit(pid, RLIMIT_NOFILE, nullptr, &original), 0);
  const rlim_t limit = open_descriptors(pid) + 4;
  const rlimit tight{limit, original.rlim_max};
  ASSERT_EQ(::prlimit(pid, RLIMIT_NOFILE, &tight, nullptr), 0);
  std::vector<std::unique_ptr<IdleConnection>> idle;
  for (int i = 0; i < 40; ++i) {
    idle.push_back(std::make_unique<IdleConnection>(cachecar.port()));
    ASSERT_TRUE(idle.back()->connected());
  }
  ASSERT_TRUE(eventually([&] { return open_descriptors(pid) >= limit; }));
  // A second of running out: the figure is CPU per wall second.
  const double cpu_before = cpu_seconds(pid);
  const auto wall_before = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - wall_before < std::chrono::seconds(1)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const double cpu_share =
      (cpu_seconds(pid) - cpu_before) /
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_before).count();
  // Descriptors come back: the backlog is accepted and served again.
  idle.clear();
  ASSERT_EQ(::prlimit(pid, RLIMIT_NOFILE, &original, nullptr), 0);
  EXPECT_TRUE(
      eventually([&] { return http_request(cachecar.port(), "GET", "/t/after").status == 200; }));
  const auto failures = cachecar.metric("cachecar_accept_failures_total");
  std::printf("while out of descriptors: %.1f%% of a core; %llu failed accepts\n", cpu_share * 100,
              static_cast<unsigned long long>(failures));
  EXPECT_LT(cpu_share, 0.25) << "an accept loop retrying at once spins a whole core";
  EXPECT_GT(failures, 0u);
}

}  // namespace
}  // namespace cachecar::testing
