// Reads the facts the pure cache logic needs out of Beast headers.
#pragma once

#include "cache/cacheability.hpp"
#include "cache/key_builder.hpp"
#include "config/config.hpp"
#include "net/beast.hpp"

namespace cachecar::proxy {

namespace beast = net::beast;
namespace http = net::http;

cache::RequestFacts request_facts(const http::request_header<>& request);
cache::ResponseFacts response_facts(const http::response_header<>& response,
                                    const config::RoutePolicy& route);

// HeaderSource over a Beast request, for the key builder.
class BeastHeaders final : public cache::HeaderSource {
 public:
  explicit BeastHeaders(const http::fields& fields) : fields_(fields) {}
  std::optional<std::string_view> header(std::string_view name) const override {
    auto it = fields_.find(name);
    if (it == fields_.end()) return std::nullopt;
    return std::string_view(it->value().data(), it->value().size());
  }
  void values(std::string_view name, cache::FieldValues& out) const override {
    for (auto it = fields_.find(name);
         it != fields_.end() && beast::iequals(it->name_string(), name); ++it) {
      out.emplace_back(it->value().data(), it->value().size());
    }
  }

 private:
  const http::fields& fields_;
};

}  // namespace cachecar::proxy
