#include "fleet/fleet_link.hpp"

#include <string_view>
#include <vector>

namespace cachecar::fleet {
namespace {

using redis::Reply;

// KEYS[1]: the lease; ARGV: token, pass milliseconds ('' for none), the
// fills channel, the entry key. Only the holder releases; the release is
// announced in the same call, so a waiter never misses it.
constexpr std::string_view kReleaseScript = R"lua(
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] ~= '' then
  redis.call('SET', KEYS[1], 'pass', 'PX', ARGV[2])
else
  redis.call('DEL', KEYS[1])
end
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1
)lua";

}  // namespace

FleetLink::FleetLink(redis::Client& client, std::string key_namespace)
    : client_(client),
      lease_prefix_(key_namespace + "lease:"),
      fills_channel_(fills_channel(key_namespace)) {}

boost::asio::awaitable<FleetLink::Lease> FleetLink::try_lease(std::string key, std::string token,
                                                              std::chrono::milliseconds ttl) {
  std::string full = lease_prefix_ + key;
  std::string ttl_text = std::to_string(ttl.count());
  const std::vector<std::string_view> command{"SET", full, token, "NX", "PX", ttl_text};
  auto reply = co_await client_.command(command);
  if (!reply || reply->is_error()) co_return Lease::unavailable;
  co_return reply->is_nil() ? Lease::lost : Lease::won;
}

boost::asio::awaitable<void> FleetLink::release_lease(std::string key, std::string token,
                                                      std::chrono::milliseconds pass_for) {
  std::string full = lease_prefix_ + key;
  const std::string pass_ms =
      pass_for.count() > 0 ? std::to_string(pass_for.count()) : std::string();
  const std::vector<std::string_view> command{"EVAL",  kReleaseScript, "1", full, token,
                                              pass_ms, fills_channel_, key};
  co_await client_.command(command);
}

boost::asio::awaitable<FleetLink::LeaseState> FleetLink::lease_state(std::string key) {
  std::string full = lease_prefix_ + key;
  const std::vector<std::string_view> command{"GET", full};
  auto reply = co_await client_.command(command);
  if (!reply || reply->is_error()) co_return LeaseState::unknown;
  if (reply->is_nil()) co_return LeaseState::none;
  co_return reply->text == "pass" ? LeaseState::pass : LeaseState::held;
}

boost::asio::awaitable<std::optional<long long>> FleetLink::publish(std::string channel,
                                                                    std::string message) {
  const std::vector<std::string_view> command{"PUBLISH", channel, message};
  auto reply = co_await client_.command(command);
  if (!reply || reply->type != Reply::Type::integer) co_return std::nullopt;
  co_return reply->integer;
}

boost::asio::awaitable<bool> FleetLink::ping() {
  const std::vector<std::string_view> command{"PING"};
  auto reply = co_await client_.command(command);
  co_return reply && !reply->is_error();
}

}  // namespace cachecar::fleet
