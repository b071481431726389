// The fetch-into-cache component (proxy/filler.hpp) against an in-process
// origin: a Beast server on a free loopback port, in the test's own
// io_context, that records what it received and can drop a kept-alive
// connection the moment the next request arrives on it.
#include "proxy/filler.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <functional>

#include "config/config_loader.hpp"
#include "net/body_reader.hpp"

namespace cachecar::proxy {
namespace {

namespace asio = net::asio;
namespace http = net::http;
using tcp = net::tcp;

class InProcessOrigin {
 public:
  using Handler = std::function<http::response<http::string_body>(const net::Request&)>;

  InProcessOrigin(asio::io_context& io, Handler handler)
      : acceptor_(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
        handler_(std::move(handler)) {
    asio::co_spawn(io, accept_loop(), asio::detached);
  }
  tcp::endpoint endpoint() const { return acceptor_.local_endpoint(); }

  std::vector<net::Request> received;  // every request read, in order
  int connections = 0;
  // The n-th request (1-based) on the first connection is read and then the
  // connection is closed without an answer; 0: never.
  int drop_on_first_connection_at = 0;

 private:
  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(net::use_tuple);
      if (ec) co_return;
      asio::co_spawn(acceptor_.get_executor(), serve(std::move(socket), ++connections),
                     asio::detached);
    }
  }
  asio::awaitable<void> serve(tcp::socket socket, int connection) {
    net::beast::tcp_stream stream(std::move(socket));
    net::beast::flat_buffer buffer;
    for (int n = 1;; ++n) {
      net::Request request;
      auto [ec, bytes] = co_await http::async_read(stream, buffer, request, net::use_tuple);
      if (ec) co_return;
      received.push_back(request);
      if (connection == 1 && n == drop_on_first_connection_at) co_return;  // closes the socket
      auto response = handler_(request);
      response.version(net::kHttp11);
      response.keep_alive(true);
      response.prepare_payload();
      auto [write_error, written] = co_await http::async_write(stream, response, net::use_tuple);
      if (write_error) co_return;
    }
  }

  tcp::acceptor acceptor_;
  Handler handler_;
};

http::response<http::string_body> ok(std::string body, std::string cache_control = "max-age=60") {
  http::response<http::string_body> response{http::status::ok, net::kHttp11};
  response.set(http::field::cache_control, cache_control);
  response.set(http::field::etag, "\"v1\"");
  response.body() = std::move(body);
  return response;
}

class FillerTest : public ::testing::Test {
 protected:
  void start(InProcessOrigin::Handler handler) {
    origin_ = std::make_unique<InProcessOrigin>(io_, std::move(handler));
    auto loaded = config::load_config_text(
        "routes:\n"
        "  - name: items\n"
        "    match: { path: \"/items/{id}\" }\n",
        "test.yaml", [](const std::string&) { return std::nullopt; });
    ASSERT_TRUE(loaded.config);
    runtime_ = std::make_unique<Runtime>(std::move(*loaded.config), 1, origin_->endpoint());
    context_ = std::make_unique<WorkerContext>(*runtime_, 0, io_.get_executor());
    filler_ = std::make_unique<Filler>(*context_);
  }

  FillTarget target(const std::string& id) {
    auto routes = runtime_->routes();
    return FillTarget{&routes->routes().front(), "dev:-:items:" + id + ":-:v1", "", {id}, routes};
  }

  net::Request get(const std::string& path) {
    net::Request request{http::verb::get, path, net::kHttp11};
    request.set(http::field::host, "origin.test");
    return request;
  }

  // Runs `task` on the test's io_context until it ends (the origin's
  // accept loop runs on beside it, so the context is stopped then).
  template <typename T>
  T run(asio::awaitable<T> task) {
    std::optional<T> result;
    asio::co_spawn(
        io_,
        [&]() -> asio::awaitable<void> {
          result = co_await std::move(task);
          io_.stop();
        },
        asio::detached);
    io_.restart();
    io_.run();
    return std::move(*result);
  }

  metrics::RefreshOutcome refresh(const std::string& id, store::EntryPtr current = nullptr) {
    return run(filler_->refresh(target(id), get("/items/" + id), std::move(current),
                                cache::FetchPermit{}));
  }

  asio::io_context io_;
  std::unique_ptr<InProcessOrigin> origin_;
  std::unique_ptr<Runtime> runtime_;
  std::unique_ptr<WorkerContext> context_;
  std::unique_ptr<Filler> filler_;
};

TEST_F(FillerTest, ARefreshStoresWhatTheOriginAnswered) {
  start([](const net::Request& request) { return ok("item " + std::string(request.target())); });
  EXPECT_EQ(refresh("7"), metrics::RefreshOutcome::stored);
  ASSERT_EQ(origin_->received.size(), 1u);
  EXPECT_EQ(origin_->received[0].target(), "/items/7");
  auto entry = runtime_->memory.find(target("7").key);
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->body, "item /items/7");
  EXPECT_EQ(entry->status, 200);
}

TEST_F(FillerTest, AnAnswerThatMayNotBeStoredLeavesTheCacheAlone) {
  start([](const net::Request&) { return ok("secret", "no-store"); });
  EXPECT_EQ(refresh("7"), metrics::RefreshOutcome::not_stored);
  EXPECT_FALSE(runtime_->memory.find(target("7").key));
}

TEST_F(FillerTest, AServerErrorIsAnOriginErrorAndStoresNothing) {
  start([](const net::Request&) {
    auto response = ok("down");
    response.result(http::status::bad_gateway);
    return response;
  });
  EXPECT_EQ(refresh("7"), metrics::RefreshOutcome::origin_error);
  EXPECT_FALSE(runtime_->memory.find(target("7").key));
}

TEST_F(FillerTest, ARefreshOfAnEntryWithValidatorsIsConditionalAnd304RenewsIt) {
  start([](const net::Request& request) {
    if (request[http::field::if_none_match] == "\"v1\"") {
      http::response<http::string_body> not_modified{http::status::not_modified, net::kHttp11};
      not_modified.set(http::field::cache_control, "max-age=120");
      return not_modified;
    }
    return ok("first");
  });
  ASSERT_EQ(refresh("7"), metrics::RefreshOutcome::stored);
  auto first = runtime_->memory.find(target("7").key);
  ASSERT_TRUE(first);
  EXPECT_EQ(refresh("7", first), metrics::RefreshOutcome::stored);
  ASSERT_EQ(origin_->received.size(), 2u);
  EXPECT_EQ(origin_->received[1][http::field::if_none_match], "\"v1\"");
  auto renewed = runtime_->memory.find(target("7").key);
  ASSERT_TRUE(renewed);
  EXPECT_EQ(renewed->body, "first");  // the body stayed; only the head crossed the wire
  EXPECT_GT(renewed->expires_at, first->expires_at);
  EXPECT_EQ(runtime_->refreshes.revalidated.load(), 1u);
}

TEST_F(FillerTest, AReusedConnectionTheOriginClosedIsRetriedOnceOnAFreshOne) {
  start([](const net::Request& request) { return ok(std::string(request.target())); });
  origin_->drop_on_first_connection_at = 2;
  ASSERT_EQ(refresh("1"), metrics::RefreshOutcome::stored);  // connection 1, kept alive
  EXPECT_EQ(refresh("2"), metrics::RefreshOutcome::stored);  // dropped on 1, answered on 2
  EXPECT_EQ(origin_->connections, 2);
  ASSERT_EQ(origin_->received.size(), 3u);
  EXPECT_EQ(origin_->received[1].target(), "/items/2");
  EXPECT_EQ(origin_->received[2].target(), "/items/2");
}

TEST_F(FillerTest, AnUnsafeRequestIsNotRetried) {
  start([](const net::Request& request) { return ok(std::string(request.target())); });
  origin_->drop_on_first_connection_at = 2;
  ASSERT_EQ(refresh("1"), metrics::RefreshOutcome::stored);  // leaves connection 1 idle in the pool
  auto post = get("/items/1");
  post.method(http::verb::post);
  post.prepare_payload();
  OriginExchange exchange;
  auto ec = run(filler_->exchange(post, exchange));
  EXPECT_TRUE(ec);  // the origin may have acted on it: not sent twice
  EXPECT_EQ(origin_->connections, 1);
  EXPECT_EQ(origin_->received.size(), 2u);
}

TEST_F(FillerTest, DecideNamesWhyAnAnswerIsNotStored) {
  start([](const net::Request&) { return ok("x", "private"); });
  auto request = get("/items/1");
  request.keep_alive(true);
  OriginExchange exchange;
  ASSERT_FALSE(run(filler_->exchange(request, exchange)));
  auto fill = filler_->decide({}, exchange, *target("1").route, store::Clock::now());
  EXPECT_FALSE(fill.store);
  EXPECT_EQ(fill.why_not, "private");
}

}  // namespace
}  // namespace cachecar::proxy
