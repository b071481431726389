#include "proxy/entry_builder.hpp"

namespace cachecar::proxy {
namespace {

// Fields the stored head never carries: hop-by-hop ones, and those that
// serving computes per response (Age, Cache-Status, Content-Length).
bool recomputed_or_hop_by_hop(const http::fields::value_type& field) {
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

}  // namespace

store::EntryPtr build_entry(const http::response_header<>& response, std::string body, std::string fingerprint,
                            store::Clock::time_point now, std::chrono::milliseconds time_to_live,
                            std::chrono::seconds initial_age) {
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
  for (const auto& field : response) {
    if (recomputed_or_hop_by_hop(field)) continue;
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
  entry->status = static_cast<std::uint16_t>(response.result_int());
  entry->stored_at = now;
  entry->expires_at = now + time_to_live;
  entry->initial_age_seconds = static_cast<std::uint32_t>(initial_age.count());
  return entry;
}

}  // namespace cachecar::proxy
