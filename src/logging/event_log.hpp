// Notable events as one log line each, with their facts (route, key,
// reason...) as fields: JSON fields beside ts/level/msg under
// `log.format: json`, name=value pairs after the message under `text`.
// The sampled access log goes to a logger of its own, so that
// `log.level: warn` does not silence what `log.access_sample` asked for.
#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string_view>

namespace cachecar::logging {

// Marks a payload built by event(): the formatters render its fields.
inline constexpr char kFieldsMarker = '\x1f';

class Fields {
 public:
  Fields& add(std::string_view name, std::string_view value) {
    fields_[std::string(name)] = std::string(value);
    return *this;
  }
  Fields& add(std::string_view name, const char* value) {
    return add(name, std::string_view(value));
  }
  Fields& add(std::string_view name, const std::string& value) {
    return add(name, std::string_view(value));
  }
  template <typename Number, typename = std::enable_if_t<std::is_arithmetic_v<Number>>>
  Fields& add(std::string_view name, Number value) {
    fields_[std::string(name)] = value;
    return *this;
  }
  const nlohmann::json& json() const { return fields_; }

 private:
  nlohmann::json fields_ = nlohmann::json::object();
};

// `name` is the event's stable identifier (e.g. "origin-failure"); `message`
// the sentence a person reads.
void event(spdlog::level::level_enum level, std::string_view name, std::string_view message,
           const Fields& fields = {});

// One access-log line (info, on the access logger).
void access(const Fields& fields);
// The logger access() writes to; set once at start, before any thread
// logs (the registry's lookup takes a lock: not on the request path).
void set_access_logger(std::shared_ptr<spdlog::logger> logger);

}  // namespace cachecar::logging
