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

std::shared_ptr<spdlog::logger> access_logger;

}  // namespace

void set_access_logger(std::shared_ptr<spdlog::logger> logger) {
  access_logger = std::move(logger);
}

void event(spdlog::level::level_enum level, std::string_view name, std::string_view message,
           const Fields& fields) {
  auto logger = spdlog::default_logger_raw();
  if (!logger->should_log(level)) return;
  logger->log(level, "{}", payload(name, message, fields));
}

void access(const Fields& fields) {
  auto* logger = access_logger ? access_logger.get() : spdlog::default_logger_raw();
  logger->info("{}", payload("access", "", fields));
}

}  // namespace cachecar::logging
