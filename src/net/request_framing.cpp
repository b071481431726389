#include "net/request_framing.hpp"

#include <cctype>

namespace cachecar::net {

std::optional<std::string_view> framing_problem(const http::request_header<>& header) {
  // RFC 9112 §6.3: a request whose last transfer coding is not chunked has
  // no length we can trust; reading it as body-less would parse the body as
  // the next request (smuggling).
  bool has_transfer_encoding = false;
  std::string_view last_coding;
  for (auto it = header.find(http::field::transfer_encoding);
       it != header.end() && it->name() == http::field::transfer_encoding; ++it) {
    has_transfer_encoding = true;
    for (auto coding : http::token_list(it->value()))
      last_coding = std::string_view(coding.data(), coding.size());
  }
  if (has_transfer_encoding && header.version() < kHttp11)
    return "Transfer-Encoding in an HTTP/1.0 request";
  if (has_transfer_encoding && !beast::iequals(last_coding, "chunked")) {
    return "the last Transfer-Encoding coding must be chunked";
  }
  // RFC 9112 §3.2: an HTTP/1.1 request carries exactly one Host field.
  if (header.version() >= kHttp11) {
    auto hosts = header.count(http::field::host);
    if (hosts == 0) return "an HTTP/1.1 request needs a Host field";
    if (hosts > 1) return "more than one Host field";
  }
  if (auto host = header.find(http::field::host);
      host != header.end() && !valid_host_field(sv(host->value()))) {
    return "the Host field is not a valid host[:port]";
  }
  return std::nullopt;
}

bool valid_host_field(std::string_view host) {
  // uri-host [":" port]: a reg-name, an IPv4 address or an [IPv6] literal.
  for (char c : host) {
    const bool allowed = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' ||
                         c == '_' || c == '~' || c == ':' || c == '[' || c == ']' || c == '%';
    if (!allowed) return false;
  }
  return true;
}

}  // namespace cachecar::net
