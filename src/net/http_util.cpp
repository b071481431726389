#include "net/http_util.hpp"

#include <nlohmann/json.hpp>

#include <vector>

namespace cachecar::net {

void strip_hop_by_hop(http::fields& fields) {
  // Collect the names listed in Connection before erasing it.
  std::vector<std::string> listed;
  for (auto it = fields.find(http::field::connection); it != fields.end() && it->name() == http::field::connection;
       ++it) {
    for (auto token : http::token_list(it->value())) listed.emplace_back(token);
  }
  for (const auto& name : listed) fields.erase(name);
  static constexpr http::field kHopByHop[] = {
      http::field::connection, http::field::keep_alive,         http::field::proxy_connection,
      http::field::te,         http::field::trailer,            http::field::transfer_encoding,
      http::field::upgrade,    http::field::proxy_authenticate, http::field::proxy_authorization};
  for (auto f : kHopByHop) fields.erase(f);
}

std::string json_escape(std::string_view text) {
  std::string quoted = nlohmann::json(std::string(text)).dump();
  return quoted.substr(1, quoted.size() - 2);
}

http::response<http::string_body> json_error(http::status status, std::string_view reason, unsigned version,
                                             bool keep_alive, std::string_view cache_status) {
  http::response<http::string_body> res{status, version};
  res.set(http::field::content_type, "application/json");
  if (!cache_status.empty()) res.set("Cache-Status", cache_status);
  res.body() = "{\"error\":\"" + json_escape(reason) + "\"}\n";
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

}  // namespace cachecar::net
