// The conformance suite every Store implementation must pass. A new tier
// adds one factory to the INSTANTIATE list at the bottom.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <functional>

#include "store/memory_tier.hpp"
#include "store/redis_tier.hpp"
#include "store/store.hpp"
#include "support/redis_server.hpp"

namespace cachecar::store {
namespace {

namespace asio = boost::asio;

struct StoreFactory {
  std::string name;
  // Every store under test holds at least 1 MiB and entries of 64 KiB.
  std::function<std::unique_ptr<Store>(asio::any_io_executor)> make;
};

class StoreConformance : public ::testing::TestWithParam<StoreFactory> {
 protected:
  void SetUp() override { store_ = GetParam().make(context_.get_executor()); }

  template <typename T>
  T run(asio::awaitable<T> operation) {
    // Run until this operation is done: a networked store keeps reads
    // pending on its connections, so the context never runs out of work.
    auto future = asio::co_spawn(context_, std::move(operation), asio::use_future);
    context_.restart();
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (future.wait_for(std::chrono::seconds(0)) != std::future_status::ready &&
           std::chrono::steady_clock::now() < deadline) {
      context_.run_one_for(std::chrono::milliseconds(100));
    }
    if (future.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
      throw std::runtime_error("store operation did not finish within 10 s");
    }
    return future.get();
  }

  static EntryPtr entry(std::string body, std::vector<std::string> tags = {}) {
    auto e = std::make_shared<Entry>();
    e->head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n";
    e->body = std::move(body);
    e->fingerprint = "fp";
    e->tags = std::move(tags);
    // Millisecond precision: what a shared tier keeps.
    e->stored_at = std::chrono::time_point_cast<std::chrono::milliseconds>(Clock::now());
    e->expires_at = e->stored_at + std::chrono::seconds(60);
    e->initial_age_seconds = 7;
    e->status = 203;
    return e;
  }

  asio::io_context context_;
  std::unique_ptr<Store> store_;
};

TEST_P(StoreConformance, MissingKeyIsNull) { EXPECT_EQ(run(store_->get("absent")), nullptr); }

TEST_P(StoreConformance, ReturnsWhatWasPutBytesAndMetadata) {
  auto original = entry("hello", {"category:3"});
  ASSERT_EQ(run(store_->put("k", original)), PutResult::stored);
  auto got = run(store_->get("k"));
  ASSERT_NE(got, nullptr);
  EXPECT_EQ(got->head, original->head);
  EXPECT_EQ(got->body, "hello");
  EXPECT_EQ(got->fingerprint, "fp");
  EXPECT_EQ(got->tags, std::vector<std::string>{"category:3"});
  EXPECT_EQ(got->stored_at, original->stored_at);
  EXPECT_EQ(got->expires_at, original->expires_at);
  EXPECT_EQ(got->initial_age_seconds, 7u);
  EXPECT_EQ(got->status, 203);
}

TEST_P(StoreConformance, BinaryBodiesSurvive) {
  std::string body("\0\r\n\xff:binary", 11);
  ASSERT_EQ(run(store_->put("bin", entry(body))), PutResult::stored);
  EXPECT_EQ(run(store_->get("bin"))->body, body);
}

TEST_P(StoreConformance, PutReplaces) {
  run(store_->put("k", entry("one")));
  run(store_->put("k", entry("two")));
  EXPECT_EQ(run(store_->get("k"))->body, "two");
}

TEST_P(StoreConformance, EraseRemovesOnlyThatKey) {
  run(store_->put("a", entry("1")));
  run(store_->put("b", entry("2")));
  EXPECT_TRUE(run(store_->erase("a")));
  EXPECT_FALSE(run(store_->erase("a")));
  EXPECT_EQ(run(store_->get("a")), nullptr);
  EXPECT_NE(run(store_->get("b")), nullptr);
}

TEST_P(StoreConformance, ErasePrefixRemovesEveryMatchingKey) {
  run(store_->put("prod:-:product:1:-:v1", entry("1")));
  run(store_->put("prod:-:product:1:ab12:v2", entry("2")));
  run(store_->put("prod:-:product:10:-:v1", entry("3")));
  EXPECT_EQ(run(store_->erase_prefix("prod:-:product:1:")), 2u);
  EXPECT_EQ(run(store_->get("prod:-:product:1:-:v1")), nullptr);
  EXPECT_NE(run(store_->get("prod:-:product:10:-:v1")), nullptr);
}

TEST_P(StoreConformance, RejectsEntriesOverItsEntryLimit) {
  EXPECT_EQ(run(store_->put("huge", entry(std::string(2 * 1024 * 1024, 'x')))),
            PutResult::too_large);
  EXPECT_EQ(run(store_->get("huge")), nullptr);
}

TEST_P(StoreConformance, StatsCountStoresHitsAndMisses) {
  run(store_->put("a", entry("1")));
  run(store_->put("b", entry("2")));
  run(store_->get("a"));
  run(store_->get("absent"));
  EXPECT_EQ(store_->stats().stores, 2u);
  EXPECT_EQ(store_->stats().hits, 1u);
  EXPECT_EQ(store_->stats().misses, 1u);
}

TEST_P(StoreConformance, LargeCompressibleBodiesRoundTrip) {
  std::string body;
  for (int i = 0; i < 3000; ++i) body += "{\"id\":" + std::to_string(i % 17) + "},";
  ASSERT_EQ(run(store_->put("big", entry(body))), PutResult::stored);
  EXPECT_EQ(run(store_->get("big"))->body, body);
}

TEST_P(StoreConformance, KeysWithGlobCharactersAreLiteral) {
  run(store_->put("p:a*b:1", entry("1")));
  run(store_->put("p:axb:1", entry("2")));
  EXPECT_EQ(run(store_->erase_prefix("p:a*")), 1u);
  EXPECT_NE(run(store_->get("p:axb:1")), nullptr);
}

using Transport = cachecar::testing::RedisServer::Transport;

// One redis-server per transport for the whole suite.
cachecar::testing::RedisServer& shared_redis(Transport transport) {
  static cachecar::testing::RedisServer tcp(Transport::tcp);
  if (transport == Transport::tcp) return tcp;
  if (transport == Transport::unix_socket) {
    static cachecar::testing::RedisServer unix_socket(Transport::unix_socket);
    return unix_socket;
  }
  if (transport == Transport::tcp_password) {
    static cachecar::testing::RedisServer with_password(Transport::tcp_password);
    return with_password;
  }
  static cachecar::testing::RedisServer tls(Transport::tls);
  return tls;
}

std::unique_ptr<Store> make_redis_tier(asio::any_io_executor executor,
                                       config::Compression compression,
                                       Transport transport = Transport::tcp) {
  auto& server = shared_redis(transport);
  std::string error;
  config::RedisStoreConfig config;
  config.url = *config::parse_redis_url(server.url(), error);
  config.tls_ca_file = server.ca_file();
  // Each test starts from an empty Redis: FLUSHALL through the tier's own
  // transport (TLS cannot be spoken by the plain test helper).
  {
    asio::io_context flush_context;
    RedisTier flusher(flush_context.get_executor(), config, 64 * 1024);
    auto done = asio::co_spawn(
        flush_context,
        [&]() -> asio::awaitable<std::uint64_t> { co_return co_await flusher.erase_prefix(""); },
        asio::use_future);
    while (done.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
      flush_context.run_one_for(std::chrono::milliseconds(100));
    }
  }
  config.timeout = std::chrono::milliseconds(2000);
  config.pool = 2;
  config.compress = compression;
  return std::make_unique<RedisTier>(executor, config, 64 * 1024);
}

INSTANTIATE_TEST_SUITE_P(
    Stores, StoreConformance,
    ::testing::Values(StoreFactory{"memory",
                                   [](asio::any_io_executor) {
                                     return std::make_unique<MemoryTier>(4 * 1024 * 1024,
                                                                         64 * 1024);
                                   }},
                      StoreFactory{"redis_zstd",
                                   [](asio::any_io_executor ex) {
                                     return make_redis_tier(ex, config::Compression::zstd);
                                   }},
                      StoreFactory{"redis_lz4",
                                   [](asio::any_io_executor ex) {
                                     return make_redis_tier(ex, config::Compression::lz4);
                                   }},
                      StoreFactory{"redis_plain",
                                   [](asio::any_io_executor ex) {
                                     return make_redis_tier(ex, config::Compression::none);
                                   }},
                      StoreFactory{"redis_tls",
                                   [](asio::any_io_executor ex) {
                                     return make_redis_tier(ex, config::Compression::zstd,
                                                            Transport::tls);
                                   }},
                      StoreFactory{"redis_auth_select",
                                   [](asio::any_io_executor ex) {
                                     return make_redis_tier(ex, config::Compression::zstd,
                                                            Transport::tcp_password);
                                   }},
                      StoreFactory{"redis_unix",
                                   [](asio::any_io_executor ex) {
                                     return make_redis_tier(ex, config::Compression::zstd,
                                                            Transport::unix_socket);
                                   }}),
    [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace cachecar::store
