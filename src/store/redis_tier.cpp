#include "store/redis_tier.hpp"

#include <algorithm>
#include <cstdint>

namespace cachecar::store {

namespace asio = boost::asio;
using redis::Reply;

namespace {

redis::ClientOptions client_options(const config::RedisStoreConfig& config) {
  redis::ClientOptions options;
  options.connection = connect_options(config);
  options.pool = config.pool;
  return options;
}

BodyCompression compression_of(config::Compression c) {
  switch (c) {
    case config::Compression::zstd:
      return BodyCompression::zstd;
    case config::Compression::lz4:
      return BodyCompression::lz4;
    case config::Compression::none:
      return BodyCompression::none;
  }
  return BodyCompression::none;
}

constexpr std::size_t kDeleteBatch = 256;

// KEYS[1] the entry, KEYS[2..] its tag sets; ARGV[1] the bytes, ARGV[2] TTL ms.
constexpr std::string_view kPutScript = R"lua(
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
local ttl = tonumber(ARGV[2])
for i = 2, #KEYS do
  redis.call('SADD', KEYS[i], KEYS[1])
  if redis.call('PTTL', KEYS[i]) < ttl then redis.call('PEXPIRE', KEYS[i], ttl) end
end
return 1
)lua";

// KEYS: tag sets. Deletes every member entry and the sets themselves.
constexpr std::string_view kPurgeTagsScript = R"lua(
local n = 0
for i = 1, #KEYS do
  for _, key in ipairs(redis.call('SMEMBERS', KEYS[i])) do n = n + redis.call('DEL', key) end
  redis.call('DEL', KEYS[i])
end
return n
)lua";

}  // namespace

redis::ConnectOptions connect_options(const config::RedisStoreConfig& config) {
  redis::ConnectOptions options;
  options.endpoint.host = config.url.host;
  options.endpoint.port = config.url.port;
  options.endpoint.unix_path = config.url.unix_path;
  options.endpoint.tls = config.url.tls;
  options.endpoint.tls_ca_file = config.tls_ca_file;
  options.endpoint.tls_verify = config.tls_verify;
  options.user = config.url.user;
  options.password = config.url.password;
  options.database = config.url.database;
  options.timeout = config.timeout;
  return options;
}

RedisTier::RedisTier(asio::any_io_executor executor, const config::RedisStoreConfig& config,
                     std::uint64_t max_entry_bytes, std::string key_namespace)
    : client_(std::move(executor), client_options(config)),
      max_entry_bytes_(max_entry_bytes),
      entry_prefix_(key_namespace + "e:"),
      tag_prefix_(key_namespace + "t:"),
      key_namespace_(key_namespace),
      compression_(compression_of(config.compress)) {}

std::string RedisTier::escape_glob(std::string_view literal) {
  std::string out;
  for (char c : literal) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

asio::awaitable<EntryPtr> RedisTier::get(std::string key) {
  std::string full = entry_prefix_ + key;
  // (Named argument lists: GCC 12 rejects a braced list inside co_await.)
  const std::vector<std::string_view> command{"GET", full};
  auto reply = co_await client_.command(command);
  if (!reply || reply->is_error()) {
    StoreCounters::bump(counters_.errors);
    co_return nullptr;
  }
  if (reply->type != Reply::Type::string) {
    StoreCounters::bump(counters_.misses);
    co_return nullptr;
  }
  // No stored entry is larger than max_entry_bytes (put refuses them): a
  // body claiming more is damage, and no buffer is sized for it.
  auto entry = decode_entry(reply->text, static_cast<std::uint32_t>(std::min<std::uint64_t>(
                                             max_entry_bytes_, UINT32_MAX)));
  if (!entry) {  // another format version, or damaged: a miss, never a wrong answer
    StoreCounters::bump(counters_.misses);
    co_return nullptr;
  }
  StoreCounters::bump(counters_.hits);
  co_return std::make_shared<const Entry>(std::move(*entry));
}

asio::awaitable<PutResult> RedisTier::put(std::string key, EntryPtr entry) {
  if (entry->charge(key.size()) > max_entry_bytes_) {
    StoreCounters::bump(counters_.rejected_too_large);
    co_return PutResult::too_large;
  }
  // Kept while any rule can still use it (freshness, then stale-if-error).
  auto ttl =
      std::chrono::duration_cast<std::chrono::milliseconds>(entry->usable_until() - Clock::now());
  if (ttl.count() <= 0) co_return PutResult::failed;  // nothing left to share
  std::string full = entry_prefix_ + key;
  std::string bytes = encode_entry(*entry, compression_);
  std::string ttl_text = std::to_string(ttl.count());
  std::vector<std::string> tag_keys;
  for (const auto& tag : entry->tags) tag_keys.push_back(tag_prefix_ + tag);
  std::string key_count = std::to_string(1 + tag_keys.size());
  std::vector<std::string_view> command{"EVAL", kPutScript, key_count, full};
  for (const auto& t : tag_keys) command.push_back(t);
  command.push_back(bytes);
  command.push_back(ttl_text);
  auto reply = co_await client_.command(command);
  if (!reply || reply->is_error()) {
    StoreCounters::bump(counters_.errors);
    co_return PutResult::failed;
  }
  StoreCounters::bump(counters_.stores);
  co_return PutResult::stored;
}

asio::awaitable<bool> RedisTier::erase(std::string key) {
  std::string full = entry_prefix_ + key;
  const std::vector<std::string_view> command{"DEL", full};
  auto reply = co_await client_.command(command);
  if (!reply || reply->is_error()) {
    StoreCounters::bump(counters_.errors);
    co_return false;
  }
  co_return reply->integer > 0;
}

asio::awaitable<std::uint64_t> RedisTier::erase_prefix(std::string prefix) {
  co_return co_await erase_matching(escape_glob(prefix) + "*");
}

asio::awaitable<std::uint64_t> RedisTier::erase_matching(std::string pattern) {
  std::string match = escape_glob(entry_prefix_) + pattern;
  std::string cursor = "0";
  std::uint64_t removed = 0;
  do {
    const std::vector<std::string_view> scan{"SCAN", cursor, "MATCH", match, "COUNT", "1000"};
    auto reply = co_await client_.command(scan);
    if (!reply || reply->type != Reply::Type::array || reply->elements.size() != 2) {
      StoreCounters::bump(counters_.errors);
      co_return removed;
    }
    cursor = reply->elements[0].text;
    const auto& keys = reply->elements[1].elements;
    for (std::size_t i = 0; i < keys.size(); i += kDeleteBatch) {
      std::vector<std::string_view> command{"DEL"};
      for (std::size_t j = i; j < keys.size() && j < i + kDeleteBatch; ++j)
        command.push_back(keys[j].text);
      auto deleted = co_await client_.command(command);
      if (deleted && deleted->type == Reply::Type::integer)
        removed += static_cast<std::uint64_t>(deleted->integer);
    }
  } while (cursor != "0");
  co_return removed;
}

asio::awaitable<std::uint64_t> RedisTier::purge_tags(std::vector<std::string> tags) {
  if (tags.empty()) co_return 0;
  std::vector<std::string> tag_keys;
  for (const auto& tag : tags) tag_keys.push_back(tag_prefix_ + tag);
  std::string key_count = std::to_string(tag_keys.size());
  std::vector<std::string_view> command{"EVAL", kPurgeTagsScript, key_count};
  for (const auto& t : tag_keys) command.push_back(t);
  auto reply = co_await client_.command(command);
  if (!reply || reply->type != Reply::Type::integer) {
    StoreCounters::bump(counters_.errors);
    co_return 0;
  }
  co_return static_cast<std::uint64_t>(reply->integer);
}

StoreStats RedisTier::stats() const { return counters_.snapshot(); }

}  // namespace cachecar::store
