#include "proxy/entry_builder.hpp"

#include <algorithm>

namespace cachecar::proxy {
namespace {

// Hop-by-hop fields, framing, and what serving computes per response (Age,
// Cache-Status, Content-Length): never taken from an origin's head as-is,
// neither into a stored head nor by a 304 into a stored response.
bool framing_or_per_response(const http::fields::value_type& field) {
  switch (field.name()) {
    case http::field::connection:
    case http::field::keep_alive:
    case http::field::proxy_connection:
    case http::field::te:
    case http::field::trailer:
    case http::field::transfer_encoding:
    case http::field::upgrade:
    case http::field::age:
    case http::field::content_length:
      return true;
    default:
      return beast::iequals(field.name_string(), "Cache-Status");
  }
}

// Targeted at cachecar (RFC 9213): obeyed, never stored or passed on. (A
// 304 carrying them still counts: they are merged, then read for the new
// lifetime, then left out of the stored head.)
bool targeted_at_cachecar(const http::fields::value_type& field) {
  return beast::iequals(field.name_string(), "Cachecar-Cache-Control") ||
         beast::iequals(field.name_string(), "CDN-Cache-Control");
}

bool left_out_of_stored_head(const http::fields::value_type& field) {
  return framing_or_per_response(field) || targeted_at_cachecar(field);
}

// Names the origin listed in Connection (hop-by-hop for this connection
// only, RFC 9110 §7.6.1) plus those the decision leaves out.
std::vector<std::string> fields_left_out(const http::response_header<>& response,
                                         const std::vector<std::string>& omitted) {
  std::vector<std::string> names = omitted;
  for (auto it = response.find(http::field::connection);
       it != response.end() && it->name() == http::field::connection; ++it) {
    for (auto token : http::token_list(it->value())) names.emplace_back(token.data(), token.size());
  }
  return names;
}

bool named_in(const std::vector<std::string>& names, beast::string_view field) {
  return std::any_of(names.begin(), names.end(),
                     [&](const std::string& n) { return beast::iequals(n, field); });
}

}  // namespace

std::vector<std::string> route_tags(const config::RoutePolicy& route,
                                    const config::RouteValues& values,
                                    const http::response_header<>& response) {
  std::vector<std::string> tags;
  if (route.tags.empty()) return tags;
  auto names = route.path.variable_names();
  for (const auto& pattern : route.tags) {
    std::string tag;
    bool complete = true;
    for (std::size_t i = 0; i < pattern.size(); ++i) {
      auto close = pattern.find('}', i);
      if (pattern[i] != '{' || close == std::string::npos) {
        tag += pattern[i];
        continue;
      }
      std::string name = pattern.substr(i + 1, close - i - 1);
      i = close;
      auto at = std::find(names.begin(), names.end(), name);
      if (at != names.end() && static_cast<std::size_t>(at - names.begin()) < values.size()) {
        tag += values[static_cast<std::size_t>(at - names.begin())];
      } else if (auto field = response.find(name); field != response.end()) {
        tag.append(field->value().data(), field->value().size());
      } else {
        complete = false;
      }
    }
    if (complete) tags.push_back(std::move(tag));
  }
  return tags;
}

store::EntryPtr build_entry(const http::response_header<>& response, std::string body,
                            std::string fingerprint, std::vector<std::string> tags,
                            store::Clock::time_point now, const cache::StorageDecision& decision,
                            std::chrono::seconds initial_age, std::uint32_t rebuild_ms,
                            std::uint32_t generation) {
  auto entry = std::make_shared<store::Entry>();
  std::string& head = entry->head;
  beast::string_view reason = response.reason();
  if (reason.empty()) reason = http::obsolete_reason(response.result());
  head.reserve(256);
  head += "HTTP/1.1 ";
  head += std::to_string(response.result_int());
  head += ' ';
  head.append(reason.data(), reason.size());
  head += "\r\n";
  const auto left_out = fields_left_out(response, decision.omitted_fields);
  for (const auto& field : response) {
    if (left_out_of_stored_head(field) || named_in(left_out, field.name_string())) continue;
    head.append(field.name_string().data(), field.name_string().size());
    head += ": ";
    head.append(field.value().data(), field.value().size());
    head += "\r\n";
  }
  head += "Content-Length: ";
  head += std::to_string(body.size());
  head += "\r\n";
  entry->body = std::move(body);
  entry->fingerprint = std::move(fingerprint);
  entry->tags = std::move(tags);
  entry->status = static_cast<std::uint16_t>(response.result_int());
  entry->stored_at = now;
  entry->expires_at = now + decision.time_to_live;
  entry->initial_age_seconds = static_cast<std::uint32_t>(initial_age.count());
  entry->stale_if_error_seconds = static_cast<std::uint32_t>(decision.stale_if_error.count());
  entry->stale_while_revalidate_seconds =
      static_cast<std::uint32_t>(decision.stale_while_revalidate.count());
  entry->must_revalidate = decision.must_revalidate;
  entry->rebuild_ms = rebuild_ms;
  entry->generation = generation;
  return entry;
}

std::optional<http::response_header<>> parse_head(const std::string& head) {
  http::response_parser<http::empty_body> parser;
  parser.skip(true);  // the head only: the body lives apart
  parser.eager(false);
  std::string text = head + "\r\n";
  beast::error_code ec;
  parser.put(net::asio::buffer(text), ec);
  if (ec || !parser.is_header_done()) return std::nullopt;
  return parser.release().base();
}

std::optional<http::response_header<>> merge_not_modified(
    const std::string& stored_head, const http::response_header<>& not_modified) {
  auto merged = parse_head(stored_head);
  if (!merged) return std::nullopt;
  const auto hop_by_hop = fields_left_out(not_modified, {});
  auto merges = [&](const http::fields::value_type& field) {
    return !framing_or_per_response(field) && !named_in(hop_by_hop, field.name_string());
  };
  for (const auto& field : not_modified) {
    if (merges(field)) merged->erase(field.name_string());
  }
  for (const auto& field : not_modified) {
    if (merges(field)) merged->insert(field.name_string(), field.value());
  }
  return merged;
}

bool describes_stored(std::string_view stored_head, std::size_t stored_body_size,
                      const http::response_header<>& response) {
  if (auto length = response.find(http::field::content_length); length != response.end()) {
    if (length->value() != std::to_string(stored_body_size)) return false;
  }
  auto stored_etag = head_field(stored_head, "ETag");
  auto stored_modified = head_field(stored_head, "Last-Modified");
  if (auto etag = response.find(http::field::etag); etag != response.end()) {
    return stored_etag && *stored_etag == net::sv(etag->value());
  }
  if (auto modified = response.find(http::field::last_modified); modified != response.end()) {
    return stored_modified && *stored_modified == net::sv(modified->value());
  }
  return !stored_etag && !stored_modified;
}

std::optional<std::string_view> head_field(std::string_view head, std::string_view name) {
  std::size_t line = head.find("\r\n");  // past the status line
  while (line != std::string_view::npos && line + 2 < head.size()) {
    std::size_t start = line + 2;
    std::size_t end = head.find("\r\n", start);
    if (end == std::string_view::npos) break;
    std::string_view field = head.substr(start, end - start);
    if (field.size() > name.size() && field[name.size()] == ':' &&
        beast::iequals(field.substr(0, name.size()), name)) {
      std::string_view value = field.substr(name.size() + 1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
        value.remove_prefix(1);
      return value;
    }
    line = end;
  }
  return std::nullopt;
}

}  // namespace cachecar::proxy
