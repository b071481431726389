#include "app/logging.hpp"

#include <spdlog/formatter.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "logging/event_log.hpp"

namespace cachecar::app {
namespace {

std::string_view payload_of(const spdlog::details::log_msg& msg) {
  return {msg.payload.data(), msg.payload.size()};
}

bool has_fields(std::string_view payload) {
  return !payload.empty() && payload.front() == logging::kFieldsMarker;
}

// JSON lines: a plain message becomes "msg":"...", escaped so that every
// line stays parseable; an event's fields are spliced in beside ts/level.
class JsonBodyFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    std::string_view payload = payload_of(msg);
    if (has_fields(payload)) {
      // "{...}" without its braces.
      std::string_view object = payload.substr(1);
      if (object.size() >= 2) dest.append(object.substr(1, object.size() - 2));
      return;
    }
    std::string quoted = nlohmann::json(std::string(payload))
                             .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    dest.append(std::string_view("\"msg\":"));
    dest.append(quoted);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonBodyFlag>();
  }
};

// Text lines: the message, then an event's fields as name=value.
class TextBodyFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    std::string_view payload = payload_of(msg);
    if (!has_fields(payload)) {
      dest.append(payload);
      return;
    }
    auto fields = nlohmann::json::parse(payload.substr(1), nullptr, false);
    if (!fields.is_object()) return;
    std::string line = fields.value("msg", "");
    for (const auto& [name, value] : fields.items()) {
      if (name == "msg") continue;
      if (!line.empty()) line += ' ';
      line += name + "=" + (value.is_string() ? value.get<std::string>() : value.dump());
    }
    dest.append(line);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<TextBodyFlag>();
  }
};

std::unique_ptr<spdlog::formatter> formatter_for(config::LogFormat format) {
  auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
  if (format == config::LogFormat::json) {
    formatter->add_flag<JsonBodyFlag>('*').set_pattern(
        R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l",%*})");
  } else {
    formatter->add_flag<TextBodyFlag>('*').set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %*");
  }
  return formatter;
}

}  // namespace

void configure_logging(const config::LogConfig& log) {
  spdlog::drop("cachecar");
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>("cachecar", sink);
  logger->set_formatter(formatter_for(log.format));
  logger->set_level(spdlog::level::from_str(log.level));
  // The access log shares the sink and format but not the level: sampled
  // lines are written whatever log.level says.
  auto access = std::make_shared<spdlog::logger>("access", sink);
  access->set_formatter(formatter_for(log.format));
  access->set_level(spdlog::level::info);
  logging::set_access_logger(std::move(access));
  spdlog::set_default_logger(logger);
}

}  // namespace cachecar::app
