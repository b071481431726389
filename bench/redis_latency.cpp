// Latency of the shared tier and of the bus, measured end to end against the
// real binaries: two cachecars (one worker each) share a redis-server.
//   - a hit that comes from Redis (B has never seen the key) next to a hit
//     from B's own memory, one request at a time on a kept-alive connection;
//   - PUBLISH -> the entry gone from a cachecar's memory (polled through
//     its admin endpoint, so the figure includes one admin round trip).
// Usage: redis_latency [keys=2000] [events=200]
#include <algorithm>
#include <cstdio>
#include <vector>

#include "support/fixture.hpp"
#include "support/redis_server.hpp"

using namespace cachecar::testing;
using Steady = std::chrono::steady_clock;

namespace {

double percentile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  return values[static_cast<std::size_t>(p * static_cast<double>(values.size() - 1))];
}

void report(const char* name, const std::vector<double>& us) {
  std::printf("%-34s n=%-5zu median %8.1f us   p99 %8.1f us\n", name, us.size(),
              percentile(us, 0.5), percentile(us, 0.99));
}

double micros_since(Steady::time_point start) {
  return std::chrono::duration<double, std::micro>(Steady::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  int keys = argc > 1 ? std::atoi(argv[1]) : 2000;
  int events = argc > 2 ? std::atoi(argv[2]) : 200;
  RedisServer redis;
  Origin origin;
  std::string config =
      std::string(kTestBase) + "store:\n  redis: { url: \"" + redis.url() +
      "\", timeout: 50ms, pool: 2 }\n"
      "invalidation:\n  owners: { product: catalog-service }\n"
      "routes:\n  - { name: product, match: { method: GET, path: \"/products/{id:int}\" },"
      " entity: product, ttl: 5m }\n";
  Cachecar a(origin.port(), config);
  Cachecar b(origin.port(), config);
  HttpClient fill(a.port());
  HttpClient client(b.port());
  std::vector<double> redis_hit, memory_hit;
  int wrong = 0;
  for (int i = 0; i < keys; ++i) {
    std::string target = "/products/" + std::to_string(i % 100 + 1) + "?n=" + std::to_string(i);
    fill.get(target);
    auto start = Steady::now();
    auto first = client.get(target);
    redis_hit.push_back(micros_since(start));
    start = Steady::now();
    auto second = client.get(target);
    memory_hit.push_back(micros_since(start));
    if (first.header("Cache-Status").find("detail=redis") == std::string::npos ||
        second.header("Cache-Status").find("hit") == std::string::npos ||
        second.header("Cache-Status").find("redis") != std::string::npos) {
      ++wrong;
    }
  }
  std::printf("shared tier, %d keys (%d answers not the expected kind of hit)\n", keys, wrong);
  report("hit from Redis (then promoted)", redis_hit);
  report("hit from memory", memory_hit);
  std::printf("%-34s median %8.1f us   p99 %8.1f us\n", "Redis hit minus memory hit",
              percentile(redis_hit, 0.5) - percentile(memory_hit, 0.5),
              percentile(redis_hit, 0.99) - percentile(memory_hit, 0.99));

  HttpClient admin(b.admin_port());
  auto in_memory = [&](const std::string& path) {
    auto r = admin.get("/admin/keys/explain?path=" + path);
    return r.body.find("\"in_memory\":true") != std::string::npos;
  };
  std::vector<double> applied;
  for (int i = 0; i < events; ++i) {
    std::string path = "/products/5%3Fm%3D" + std::to_string(i);
    client.get("/products/5?m=" + std::to_string(i));
    if (!in_memory(path)) continue;
    auto start = Steady::now();
    redis.command(
        {"PUBLISH", "cachecar:invalidate",
         R"({"type":"entity-updated","entity":"product","id":"5","source":"catalog-service"})"});
    while (in_memory(path) && micros_since(start) < 2e6) {
    }
    applied.push_back(micros_since(start));
  }
  std::printf("bus, %d events\n", events);
  report("PUBLISH -> dropped from memory", applied);
  return wrong == 0 ? 0 : 1;
}
