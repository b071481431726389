#include "admin/admin_server.hpp"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "admin/admin_views.hpp"
#include "admin/metrics.hpp"
#include "admin/status_page.hpp"
#include "logging/event_log.hpp"
#include "net/accept_pacer.hpp"
#include "net/http_util.hpp"

namespace cachecar::admin {

namespace asio = net::asio;
namespace beast = net::beast;
namespace http = net::http;
using nlohmann::json;

namespace {

constexpr std::chrono::seconds kAdminIoTimeout{10};
constexpr std::uint64_t kAdminBodyLimit = 1024 * 1024;

http::response<http::string_body> json_response(http::status status, const json& body,
                                                unsigned version) {
  http::response<http::string_body> res{status, version};
  res.set(http::field::content_type, "application/json");
  res.set(http::field::cache_control, "no-store");
  res.body() = body.dump() + "\n";
  res.prepare_payload();
  return res;
}

// Compares every byte whatever the first difference, so that the time a
// refusal takes says nothing about how much of the token was right.
bool constant_time_equals(std::string_view given, std::string_view expected) {
  unsigned char difference = given.size() == expected.size() ? 0 : 1;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    difference |= static_cast<unsigned char>(expected[i] ^ (i < given.size() ? given[i] : 0));
  }
  return difference == 0;
}

http::response<http::string_body> error_response(http::status status, std::string_view reason,
                                                 unsigned version) {
  return json_response(status, json{{"error", reason}}, version);
}

// Query parameters of a target, decoded, in order.
std::vector<std::pair<std::string, std::string>> query_params(std::string_view target) {
  std::vector<std::pair<std::string, std::string>> params;
  auto q = target.find('?');
  if (q == std::string_view::npos) return params;
  std::string_view query = target.substr(q + 1);
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    auto eq = pair.find('=');
    params.emplace_back(url_decode(pair.substr(0, eq)), eq == std::string_view::npos
                                                            ? std::string()
                                                            : url_decode(pair.substr(eq + 1)));
  }
  return params;
}

}  // namespace

AdminServer::AdminServer(asio::io_context& context, proxy::Runtime& runtime,
                         invalidation::Invalidator& invalidator, proxy::Warmer& warmer,
                         reload::Reloader& reloader)
    : context_(context),
      runtime_(runtime),
      invalidator_(invalidator),
      warmer_(warmer),
      reloader_(reloader),
      admin_acceptor_(context),
      probe_acceptor_(context) {}

void AdminServer::start(const net::tcp::endpoint& admin,
                        const std::optional<net::tcp::endpoint>& probes) {
  auto open = [this](net::tcp::acceptor& acceptor, const net::tcp::endpoint& endpoint,
                     Surface surface) {
    acceptor.open(endpoint.protocol());
    acceptor.set_option(net::tcp::acceptor::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen();
    asio::co_spawn(context_, accept_loop(acceptor, surface), asio::detached);
  };
  open(admin_acceptor_, admin, Surface::admin);
  if (probes) open(probe_acceptor_, *probes, Surface::probes);
}

void AdminServer::stop() {
  beast::error_code ignored;
  admin_acceptor_.close(ignored);
  probe_acceptor_.close(ignored);
}

asio::awaitable<void> AdminServer::accept_loop(net::tcp::acceptor& acceptor, Surface surface) {
  net::AcceptPacer pacer(context_.get_executor());
  while (acceptor.is_open()) {
    auto [ec, socket] = co_await acceptor.async_accept(net::use_tuple);
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) break;
    if (ec) {
      co_await pacer.failed();  // out of descriptors: no busy loop
      continue;
    }
    pacer.succeeded();
    asio::co_spawn(context_, run_session(std::move(socket), surface), asio::detached);
  }
}

asio::awaitable<void> AdminServer::run_session(net::tcp::socket socket, Surface surface) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  while (true) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(kAdminBodyLimit);
    stream.expires_after(kAdminIoTimeout);
    auto [ec, n] = co_await http::async_read(stream, buffer, parser, net::use_tuple);
    if (ec) break;
    net::Request request = parser.release();
    http::response<http::string_body> response;
    try {
      response = co_await dispatch(request, surface);
    } catch (const std::exception& e) {
      response = error_response(http::status::internal_server_error, e.what(), request.version());
    }
    response.keep_alive(request.keep_alive());
    stream.expires_after(kAdminIoTimeout);
    auto [write_error, written] = co_await http::async_write(stream, response, net::use_tuple);
    if (write_error || !request.keep_alive()) break;
  }
  beast::error_code ignored;
  stream.socket().shutdown(net::tcp::socket::shutdown_send, ignored);
}

// POST /admin/warm {"paths": ["/products/1", ...], "headers": {...}}: each
// path fetched into the cache now, one after another (headers, optional,
// go with every request); the answer says what became of each.
asio::awaitable<AdminServer::Response> AdminServer::warm(const net::Request& request) {
  constexpr std::size_t kMaxPaths = 100;
  const unsigned version = request.version();
  json body = json::parse(request.body(), nullptr, false);
  if (body.is_discarded())
    co_return error_response(http::status::bad_request, "body is not valid JSON", version);
  if (!body.is_object() || !body.contains("paths") || !body["paths"].is_array() ||
      body["paths"].empty()) {
    co_return error_response(http::status::bad_request,
                             "body must be {\"paths\": [\"/path\", ...]}", version);
  }
  if (body["paths"].size() > kMaxPaths) {
    co_return error_response(http::status::bad_request,
                             "at most " + std::to_string(kMaxPaths) + " paths per call", version);
  }
  for (const auto& path : body["paths"]) {
    if (!path.is_string() || path.get<std::string>().empty() ||
        path.get<std::string>().front() != '/') {
      co_return error_response(http::status::bad_request,
                               "every path must be a string starting with '/'", version);
    }
  }
  // Optional request headers for every path (a tenant-scoped route needs its tenant header).
  std::vector<std::pair<std::string, std::string>> headers;
  if (body.contains("headers")) {
    if (!body["headers"].is_object()) {
      co_return error_response(http::status::bad_request, "headers must be an object of strings",
                               version);
    }
    for (const auto& [name, value] : body["headers"].items()) {
      if (!value.is_string() || name.empty()) {
        co_return error_response(http::status::bad_request, "headers must be an object of strings",
                                 version);
      }
      headers.emplace_back(name, value.get<std::string>());
    }
  }
  json results = json::array();
  std::size_t stored = 0;
  for (const auto& path : body["paths"]) {
    auto result = co_await warmer_.warm(path.get<std::string>(), headers);
    if (result.stored) ++stored;
    results.push_back({{"path", path}, {"outcome", result.outcome}});
  }
  spdlog::info("admin warm: {} of {} paths stored", stored, results.size());
  co_return json_response(http::status::ok, {{"warmed", stored}, {"results", results}}, version);
}

// POST /admin/invalidate: an event as SPEC §5 has it, checked like one
// from the bus, signed here when the bus needs signatures and the caller
// sent none, then published so that every cachecar (this one too) applies it.
asio::awaitable<AdminServer::Response> AdminServer::publish_event(const net::Request& request) {
  const unsigned version = request.version();
  const auto& inv = runtime_.config.invalidation;
  invalidation::ValidationPolicy unsigned_policy{inv.owners, "", inv.max_skew};
  auto now = std::chrono::system_clock::now();
  auto verdict = invalidation::validate_event(request.body(), unsigned_policy, now);
  if (!verdict.event) {
    co_return error_response(http::status::bad_request,
                             std::string("event rejected (") +
                                 invalidation::to_string(verdict.reason) + "): " + verdict.detail,
                             version);
  }
  invalidation::Event event = *verdict.event;
  std::string payload(request.body());
  if (!inv.secret.empty() && event.sig.empty()) {
    if (event.ts.empty()) event.ts = invalidation::format_rfc3339(now);
    if (event.eid.empty()) event.eid = invalidation::new_event_id();
    payload = invalidation::to_json(event, inv.secret);
  }
  if (auto* fleet = invalidator_.fleet()) {
    auto receivers = co_await fleet->publish(inv.channel, payload);
    if (!receivers) {
      co_return error_response(http::status::service_unavailable,
                               "redis is unavailable: the event was not published", version);
    }
    co_return json_response(http::status::ok, {{"published", *receivers}, {"channel", inv.channel}},
                            version);
  }
  // No bus without Redis: apply it here, the only cachecar that can hear it.
  auto applied =
      co_await invalidator_.apply(invalidation::scope_of(event, runtime_.config.environment));
  co_return json_response(http::status::ok, {{"published", 0}, {"applied_locally", applied.memory}},
                          version);
}

asio::awaitable<std::optional<long long>> AdminServer::announce_purge(const json& body) {
  const auto& inv = runtime_.config.invalidation;
  invalidation::Event event;
  if (body.contains("entity")) {
    event = invalidation::fleet_event(invalidation::EventType::entity_updated,
                                      body["entity"].get<std::string>(), inv.owners);
    if (body.contains("id") && body["id"].is_string()) event.id = body["id"].get<std::string>();
    if (body.contains("tenant") && body["tenant"].is_string())
      event.tenant = body["tenant"].get<std::string>();
  } else if (body.contains("tag")) {
    event = invalidation::fleet_event(invalidation::EventType::tag_purged, {}, inv.owners);
    event.tags.push_back(body["tag"].get<std::string>());
  } else {
    co_return std::nullopt;  // keys and prefixes are this process' and the shared tier's
  }
  // -1: Redis did not take it (the peers' own bus is then down too).
  auto published =
      co_await invalidator_.fleet()->publish(inv.channel, invalidation::to_json(event, inv.secret));
  co_return published.value_or(-1);
}

asio::awaitable<bool> AdminServer::origin_reachable() {
  beast::tcp_stream probe(context_);
  probe.expires_after(std::chrono::milliseconds(500));
  auto [ec] = co_await probe.async_connect(runtime_.origin_endpoint, net::use_tuple);
  co_return !ec;
}

asio::awaitable<AdminServer::Response> AdminServer::healthz(const net::Request& request) {
  co_return json_response(http::status::ok, {{"status", "alive"}}, request.version());
}

asio::awaitable<AdminServer::Response> AdminServer::readyz(const net::Request& request) {
  bool origin = co_await origin_reachable();
  bool listening = runtime_.listening.load();
  bool draining = runtime_.draining.load();
  auto starting = runtime_.startup.pending();
  bool ready = listening && origin && !draining && starting.empty();
  json body = {{"ready", ready},
               {"config", runtime_.config.source_path},
               {"listener", listening ? "up" : "down"},
               {"origin", origin ? "reachable" : "unreachable"},
               {"draining", draining},
               {"starting", starting},
               {"redis", "not configured"}};
  if (auto* fleet = invalidator_.fleet()) {
    // Redis never makes cachecar unready: without it, memory and origin serve.
    body["redis"] = co_await fleet->ping() ? "ok" : "degraded";
    body["bus"] = runtime_.gap.subscribed() ? "subscribed" : "down";
  }
  co_return json_response(ready ? http::status::ok : http::status::service_unavailable, body,
                          request.version());
}

asio::awaitable<AdminServer::Response> AdminServer::metrics(const net::Request& request) {
  Response response{http::status::ok, request.version()};
  response.set(http::field::content_type, kMetricsContentType);
  response.body() = metrics_text(runtime_);
  response.prepare_payload();
  co_return response;
}

asio::awaitable<AdminServer::Response> AdminServer::status_page(const net::Request& request) {
  Response response{http::status::ok, request.version()};
  response.set(http::field::content_type, "text/html; charset=utf-8");
  response.set(http::field::cache_control, "no-store");
  // Nothing on the page loads from elsewhere, and it runs no script.
  response.set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'");
  response.body() = status_page_html(runtime_);
  response.prepare_payload();
  co_return response;
}

asio::awaitable<AdminServer::Response> AdminServer::stats(const net::Request& request) {
  co_return json_response(http::status::ok, stats_view(runtime_), request.version());
}

asio::awaitable<AdminServer::Response> AdminServer::routes(const net::Request& request) {
  co_return json_response(http::status::ok, routes_view(runtime_), request.version());
}

asio::awaitable<AdminServer::Response> AdminServer::effective_config(const net::Request& request) {
  co_return json_response(http::status::ok, config_view(runtime_), request.version());
}

asio::awaitable<AdminServer::Response> AdminServer::entry(const net::Request& request) {
  const unsigned version = request.version();
  std::string_view target(request.target().data(), request.target().size());
  std::string_view path = target.substr(0, target.find('?'));
  std::string key = url_decode(path.substr(std::string_view("/admin/entries/").size()), false);
  if (key.empty())
    co_return error_response(http::status::bad_request, "give the key: /admin/entries/{key}",
                             version);
  store::EntryPtr in_redis;
  if (auto* redis = invalidator_.redis()) in_redis = co_await redis->get(key);
  auto view = entry_view(key, runtime_.memory.peek(key), in_redis, store::Clock::now());
  if (!view)
    co_return error_response(http::status::not_found, "no entry under key " + key, version);
  co_return json_response(http::status::ok, *view, version);
}

asio::awaitable<AdminServer::Response> AdminServer::explain(const net::Request& request) {
  const unsigned version = request.version();
  std::string method = "GET", explained_path;
  std::vector<std::pair<std::string, std::string>> headers;
  for (auto& [name, value] :
       query_params(std::string_view(request.target().data(), request.target().size()))) {
    if (name == "method")
      method = value;
    else if (name == "path")
      explained_path = value;
    else if (name == "header") {
      auto colon = value.find(':');
      if (colon == std::string::npos)
        co_return error_response(http::status::bad_request, "header must be Name:Value", version);
      std::string header_value = value.substr(colon + 1);
      while (!header_value.empty() && header_value.front() == ' ') header_value.erase(0, 1);
      headers.emplace_back(value.substr(0, colon), header_value);
    }
  }
  if (explained_path.empty() || explained_path.front() != '/') {
    co_return error_response(http::status::bad_request, "path is required and must start with '/'",
                             version);
  }
  co_return json_response(http::status::ok, explain_view(runtime_, method, explained_path, headers),
                          version);
}

asio::awaitable<AdminServer::Response> AdminServer::purge(const net::Request& request) {
  const unsigned version = request.version();
  json body = json::parse(request.body(), nullptr, false);
  if (body.is_discarded())
    co_return error_response(http::status::bad_request, "body is not valid JSON", version);
  std::string error;
  auto scope = parse_purge(body, runtime_.config.environment, error);
  if (!scope) co_return error_response(http::status::bad_request, error, version);
  auto applied = co_await invalidator_.apply(*scope);
  json result = {{"purged", applied.memory}};
  if (invalidator_.redis()) {
    result["purged_redis"] = applied.redis;
    // Peers hold memory copies of their own: an entity or tag purge is
    // announced on the bus so that the fleet drops them too.
    if (auto receivers = co_await announce_purge(body)) result["published"] = *receivers;
  }
  logging::event(spdlog::level::info, "purge", "admin purge",
                 logging::Fields()
                     .add("scope", scope->describe())
                     .add("purged", applied.memory)
                     .add("purged_redis", applied.redis));
  co_return json_response(http::status::ok, result, version);
}

asio::awaitable<AdminServer::Response> AdminServer::reload(const net::Request& request) {
  const unsigned version = request.version();
  auto outcome = reloader_.reload("admin");
  if (!outcome.ok) {
    // The request was fine; the file is not: 422, with every problem.
    co_return json_response(http::status::unprocessable_entity,
                            {{"error", "the config file has problems; the running config stays: " +
                                           outcome.errors.front()},
                             {"errors", outcome.errors},
                             {"generation", outcome.generation}},
                            version);
  }
  co_return json_response(http::status::ok,
                          {{"reloaded", true},
                           {"generation", outcome.generation},
                           {"routes", outcome.routes},
                           {"restart_required", outcome.restart_required}},
                          version);
}

// Every endpoint (SPEC §7). `probe` ones are the probe listener's too and
// never need the token; the rest name tenants, ids and keys or change
// state, so they need it whenever one is configured.
const std::vector<AdminServer::Endpoint>& AdminServer::endpoints() {
  using V = http::verb;
  static const std::vector<Endpoint> table = {
      {"/healthz", false, V::get, true, &AdminServer::healthz},
      {"/readyz", false, V::get, true, &AdminServer::readyz},
      {"/metrics", false, V::get, true, &AdminServer::metrics},
      {"/admin", false, V::get, false, &AdminServer::status_page},
      {"/admin/", false, V::get, false, &AdminServer::status_page},
      {"/admin/stats", false, V::get, false, &AdminServer::stats},
      {"/admin/routes", false, V::get, false, &AdminServer::routes},
      {"/admin/config", false, V::get, false, &AdminServer::effective_config},
      {"/admin/entries/", true, V::get, false, &AdminServer::entry},
      {"/admin/keys/explain", false, V::get, false, &AdminServer::explain},
      {"/admin/purge", false, V::post, false, &AdminServer::purge},
      {"/admin/invalidate", false, V::post, false, &AdminServer::publish_event},
      {"/admin/warm", false, V::post, false, &AdminServer::warm},
      {"/admin/reload", false, V::post, false, &AdminServer::reload},
  };
  return table;
}

bool AdminServer::authorized(const net::Request& request) const {
  const std::string& token = runtime_.config.admin.token;
  if (token.empty()) return true;
  auto it = request.find(http::field::authorization);
  return it != request.end() && constant_time_equals(net::sv(it->value()), "Bearer " + token);
}

asio::awaitable<AdminServer::Response> AdminServer::dispatch(const net::Request& request,
                                                             Surface surface) {
  const unsigned version = request.version();
  std::string_view target(request.target().data(), request.target().size());
  std::string_view path = target.substr(0, target.find('?'));
  const Endpoint* same_path = nullptr;
  for (const auto& endpoint : endpoints()) {
    const bool matches =
        endpoint.prefix ? path.rfind(endpoint.path, 0) == 0 : path == endpoint.path;
    if (!matches || (surface == Surface::probes && !endpoint.probe)) continue;
    same_path = &endpoint;
    if (endpoint.method != request.method()) continue;
    if (!endpoint.probe && !authorized(request)) {
      co_return error_response(http::status::unauthorized,
                               "admin calls need the token: send Authorization: Bearer <token>",
                               version);
    }
    co_return co_await (this->*endpoint.handler)(request);
  }
  if (same_path != nullptr) {
    auto response = error_response(http::status::method_not_allowed,
                                   "method not allowed on this path", version);
    response.set(http::field::allow, same_path->method == http::verb::get ? "GET" : "POST");
    co_return response;
  }
  if (surface == Surface::probes) {
    co_return error_response(http::status::not_found,
                             "the probe listener serves only GET /healthz, /readyz and /metrics",
                             version);
  }
  co_return error_response(http::status::not_found, "no admin endpoint at " + std::string(path),
                           version);
}

}  // namespace cachecar::admin
