#include "logging/event_log.hpp"

namespace cachecar::logging {
namespace {

std::string payload(std::string_view name, std::string_view message, const Fields& fields) {
  nlohmann::json line = fields.json();
  line["event"] = std::string(name);
  line["msg"] = std::string(message);
  std::string out(1, kFieldsMarker);
  out += line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return out;
}

}  // namespace

void event(spdlog::level::level_enum level, std::string_view name, std::string_view message, const Fields& fields) {
  auto logger = spdlog::default_logger_raw();
  if (!logger->should_log(level)) return;
  logger->log(level, "{}", payload(name, message, fields));
}

void access(const Fields& fields) {
  auto logger = spdlog::get("access");
  if (!logger) logger = spdlog::default_logger();
  logger->info("{}", payload("access", "", fields));
}

}  // namespace cachecar::logging
