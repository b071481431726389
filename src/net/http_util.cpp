#include "net/http_util.hpp"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <vector>

namespace cachecar::net {

void strip_hop_by_hop(http::fields& fields) {
  // Collect the names listed in Connection before erasing it.
  std::vector<std::string> listed;
  for (auto it = fields.find(http::field::connection);
       it != fields.end() && it->name() == http::field::connection; ++it) {
    for (auto token : http::token_list(it->value())) listed.emplace_back(token);
  }
  for (const auto& name : listed) {
    // Connection cannot take away the target's host, nor the forwarded
    // fields cachecar wrote itself (a client hiding its own address).
    if (beast::iequals(name, "Host") || beast::iequals(name, "X-Forwarded-For") ||
        beast::iequals(name, "X-Forwarded-Proto") || beast::iequals(name, "X-Forwarded-Host")) {
      continue;
    }
    fields.erase(name);
  }
  static constexpr http::field kHopByHop[] = {http::field::connection,
                                              http::field::keep_alive,
                                              http::field::proxy_connection,
                                              http::field::te,
                                              http::field::trailer,
                                              http::field::transfer_encoding,
                                              http::field::upgrade,
                                              http::field::proxy_authenticate,
                                              http::field::proxy_authorization};
  for (auto f : kHopByHop) fields.erase(f);
}

namespace {

std::string_view last_member(std::string_view list) {
  if (auto comma = list.rfind(','); comma != std::string_view::npos) list = list.substr(comma + 1);
  while (!list.empty() && (list.front() == ' ' || list.front() == '\t')) list.remove_prefix(1);
  while (!list.empty() && (list.back() == ' ' || list.back() == '\t')) list.remove_suffix(1);
  return list;
}

// The last member of the last line of `name`; empty when absent.
std::string last_forwarded(const http::fields& fields, std::string_view name) {
  std::string_view last;
  for (auto it = fields.find(name); it != fields.end() && beast::iequals(it->name_string(), name);
       ++it) {
    last = sv(it->value());
  }
  return std::string(last_member(last));
}

// Every line of `name` joined as one list.
std::string joined(const http::fields& fields, std::string_view name) {
  std::string list;
  for (auto it = fields.find(name); it != fields.end() && beast::iequals(it->name_string(), name);
       ++it) {
    if (!list.empty()) list += ", ";
    list += sv(it->value());
  }
  return list;
}

}  // namespace

void set_forwarded_fields(http::fields& fields, const tcp::endpoint& peer, bool trusted_peer) {
  const std::string peer_address = peer.address().to_string();
  std::string forwarded_for = trusted_peer ? joined(fields, "X-Forwarded-For") : std::string();
  std::string proto = trusted_peer ? last_forwarded(fields, "X-Forwarded-Proto") : std::string();
  std::string host = trusted_peer ? last_forwarded(fields, "X-Forwarded-Host") : std::string();
  if (proto.empty()) proto = "http";  // our listener speaks plain HTTP
  if (host.empty()) {
    if (auto it = fields.find(http::field::host); it != fields.end())
      host = std::string(sv(it->value()));
  }
  if (!trusted_peer) fields.erase(http::field::forwarded);
  fields.set("X-Forwarded-For",
             forwarded_for.empty() ? peer_address : forwarded_for + ", " + peer_address);
  fields.set("X-Forwarded-Proto", proto);
  if (host.empty())
    fields.erase("X-Forwarded-Host");
  else
    fields.set("X-Forwarded-Host", host);
}

bool valid_request_target(std::string_view target) {
  return !target.empty() &&
         std::all_of(target.begin(), target.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

bool valid_field_name(std::string_view name) {
  static constexpr std::string_view kTokenSymbols = "!#$%&'*+-.^_`|~";
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           kTokenSymbols.find(c) != std::string_view::npos;
  });
}

bool valid_field_value(std::string_view value) {
  return value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

bool is_idempotent(http::verb method) {
  switch (method) {
    case http::verb::get:
    case http::verb::head:
    case http::verb::put:
    case http::verb::delete_:
    case http::verb::options:
    case http::verb::trace:
      return true;
    default:
      return false;
  }
}

bool is_safe(http::verb method) {
  return method == http::verb::get || method == http::verb::head || method == http::verb::options ||
         method == http::verb::trace;
}

std::string json_escape(std::string_view text) {
  std::string quoted = nlohmann::json(std::string(text)).dump();
  return quoted.substr(1, quoted.size() - 2);
}

http::response<http::string_body> json_error(http::status status, std::string_view reason,
                                             unsigned version, bool keep_alive) {
  http::response<http::string_body> res{status, version};
  res.set(http::field::content_type, "application/json");
  res.body() = "{\"error\":\"" + json_escape(reason) + "\"}\n";
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

}  // namespace cachecar::net
