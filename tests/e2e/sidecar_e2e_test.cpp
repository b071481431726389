// Issue 11: what a pod needs of cachecar. kubelet and Prometheus connect to
// the pod IP, so the probe listener binds every address; the admin
// listener stays on loopback and keeps everything else behind the token.
// 127.0.0.2 stands in for the pod IP: another address of this host that a
// 127.0.0.1 bind does not cover.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/fixture.hpp"

namespace cachecar::testing {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

const Headers kAuth{{"Authorization", "Bearer pod-s3cret"}};

std::string sidecar_config(std::uint16_t probe_port) {
  return std::string(kTestBase) + "health: { listen: 0.0.0.0:" + std::to_string(probe_port) +
         " }\n"
         "routes:\n"
         "  - name: product\n"
         "    match: { path: \"/products/{id}\" }\n"
         "    ttl: 60s\n";
}

HttpResponse at(const std::string& address, std::uint16_t port, const std::string& target,
                const Headers& headers = {}, const std::string& method = "GET") {
  HttpClient client(port, std::chrono::seconds(5), address);
  return client.request(method, target, headers);
}

class ProbeListener : public ::testing::Test {
 protected:
  Origin origin_;
  std::uint16_t probe_port_ = free_port();
  Cachecar cachecar_{
      origin_.port(), sidecar_config(probe_port_), {{"CACHECAR_ADMIN_TOKEN", "pod-s3cret"}}};
};

TEST_F(ProbeListener, AnswersOnEveryAddressWhileTheAdminListenerDoesNot) {
  cachecar_.get("/products/1");
  for (const char* target : {"/healthz", "/readyz", "/metrics"}) {
    auto probe = at("127.0.0.2", probe_port_, target);
    EXPECT_EQ(probe.status, 200) << target << ": " << probe.error;
  }
  EXPECT_EQ(json::parse(at("127.0.0.2", probe_port_, "/readyz").body)["ready"], true);
  EXPECT_THAT(at("127.0.0.2", probe_port_, "/metrics").body, HasSubstr("cachecar_requests_total"));
  // The admin listener is bound to 127.0.0.1 only: nothing answers on the pod IP.
  auto admin_from_outside = at("127.0.0.2", cachecar_.admin_port(), "/healthz");
  EXPECT_EQ(admin_from_outside.status, 0);
  EXPECT_THAT(admin_from_outside.error, HasSubstr("connect"));
  EXPECT_EQ(at("127.0.0.1", cachecar_.admin_port(), "/admin/stats", kAuth).status, 200);
}

TEST_F(ProbeListener, ServesNothingButTheProbesTokenOrNot) {
  cachecar_.get("/products/1");
  for (const char* target : {"/admin", "/admin/stats", "/admin/routes", "/admin/config",
                             "/admin/entries/test%3A-%3Aproduct%3A1%3A-%3Av1",
                             "/admin/keys/explain?path=/products/1", "/products/1"}) {
    auto refused = at("127.0.0.2", probe_port_, target, kAuth);
    EXPECT_EQ(refused.status, 404) << target;
    EXPECT_THAT(refused.body, HasSubstr("only GET /healthz, /readyz and /metrics")) << target;
  }
  for (const char* target : {"/admin/purge", "/admin/invalidate", "/admin/warm", "/admin/reload"}) {
    EXPECT_EQ(at("127.0.0.2", probe_port_, target, kAuth, "POST").status, 404) << target;
  }
  EXPECT_EQ(at("127.0.0.2", probe_port_, "/healthz", {}, "POST").status, 405);
  // Nothing the probe port was asked changed the cache.
  EXPECT_THAT(cachecar_.get("/products/1").header("Cache-Status"), HasSubstr("hit"));
  EXPECT_EQ(origin_.count("/products/1"), 1u);
}

TEST(ProbeListenerOverride, TheEnvironmentSetsOrTurnsOffTheProbeListener) {
  Origin origin;
  const std::uint16_t probe_port = free_port();
  Cachecar cachecar(origin.port(), std::string(kTestBase),
                    {{"CACHECAR_HEALTH_LISTEN", "127.0.0.1:" + std::to_string(probe_port)}});
  EXPECT_EQ(at("127.0.0.1", probe_port, "/healthz").status, 200);
  EXPECT_EQ(json::parse(cachecar.admin("GET", "/admin/config").body)["health"]["listen"],
            "127.0.0.1:" + std::to_string(probe_port));

  const std::uint16_t unused = free_port();
  Cachecar off(origin.port(), sidecar_config(unused), {{"CACHECAR_HEALTH_LISTEN", "off"}});
  EXPECT_EQ(at("127.0.0.1", unused, "/healthz").status, 0);
  EXPECT_EQ(json::parse(off.admin("GET", "/admin/config").body)["health"]["listen"], "off");
}

}  // namespace
}  // namespace cachecar::testing
