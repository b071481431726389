// demo_origin: a small JSON API for the demo and the tests. It counts what
// it receives (GET /__stats) so that tests can tell hits from fetches.
//
//   GET    /products/{id}            product JSON, ETag + Last-Modified (?currency=EUR)
//   GET    /products?category=N      products of a category
//   PUT|PATCH|DELETE /products/{id}  change or remove a product
//   GET    /users/{id}/profile       profile JSON; echoes X-Tenant-Id
//   PUT|PATCH /users/{id}/profile    change a profile
//   ANY    /t/{anything}             test knobs: ?cc=, set_cookie=1, size=N, status=N,
//                                    chunked=1, vary=, echo=1 (echo the request back),
//                                    etag=E (ETag "E"; If-None-Match "E" gets a 304),
//                                    location=, cachecar_cc=, cdn_cc= (those fields),
//                                    last_modified=N (Last-Modified N seconds ago),
//                                    early_hints=1 (a 103 Early Hints before the answer),
//                                    hop=NAME (field NAME, listed in Connection),
//                                    trickle_ms=N (the body in pieces of piece=B
//                                    bytes, default 2048, N ms apart),
//                                    reset_after=B (B body bytes, then a reset);
//                                    values may be %XX-escaped; each knob may
//                                    come as a header X-Knob-NAME instead
//   GET    /__stats                  {"requests", "connections", "in_flight", "paths", "targets",
//                                     "not_modified", "body_bytes", "methods"}
// A matching If-None-Match gets 304 with no body wherever an ETag is sent.
//   POST   /__reset                  zero the counters
// Every path takes ?delay_ms=N; --delay-ms N delays every request.
// Single-threaded: one io_context, so the counters need no locks.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using nlohmann::json;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

struct Product {
  std::string name;
  double price;
  int category;
  int version = 1;
  std::time_t modified;
};

struct State {
  std::map<int, Product> products;
  std::map<std::string, json> profiles;  // "tenant/id" -> profile
  std::uint64_t requests = 0, connections = 0, in_flight = 0;
  std::uint64_t not_modified = 0, body_bytes = 0;  // 304s sent; body bytes sent
  std::uint64_t pieces_sent = 0;  // body pieces written by slow (trickle_ms) responses
  std::map<std::string, std::uint64_t> paths, targets, methods;
  int default_delay_ms = 0;
} state;

std::string http_date(std::time_t t) {
  char buf[64];
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

// %XX escapes decoded, so that knobs can carry quotes and commas.
std::string percent_decoded(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() &&
        std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

std::map<std::string, std::string> query_of(std::string_view target) {
  std::map<std::string, std::string> out;
  auto q = target.find('?');
  if (q == std::string_view::npos) return out;
  std::string_view query = target.substr(q + 1);
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    auto eq = pair.find('=');
    // Names decoded and compared without case, as ASP.NET Core's model
    // binding does: the origin cachecar must not be fooled about.
    std::string name = percent_decoded(pair.substr(0, eq));
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out[name] = eq == std::string_view::npos ? "" : percent_decoded(pair.substr(eq + 1));
  }
  return out;
}

json product_json(int id, const Product& p, const std::string& currency) {
  double price = currency == "EUR" ? p.price * 0.92 : p.price;
  return {{"id", id},
          {"name", p.name},
          {"price", price},
          {"currency", currency.empty() ? "USD" : currency},
          {"category", p.category},
          {"version", p.version}};
}

using Response = http::response<http::string_body>;

Response json_reply(const http::request<http::string_body>& req, http::status status,
                    const json& body) {
  Response res{status, req.version()};
  res.set(http::field::content_type, "application/json");
  res.body() = body.dump();
  return res;
}

Response products(const http::request<http::string_body>& req, std::string_view path,
                  std::map<std::string, std::string>& query) {
  if (path == "/products") {
    json list = json::array();
    for (const auto& [id, p] : state.products) {
      if (query.count("category") && std::to_string(p.category) != query["category"]) continue;
      list.push_back(product_json(id, p, query["currency"]));
    }
    return json_reply(req, http::status::ok, {{"products", list}});
  }
  // Strict about its paths, like a real API: "/products/7/" is not a product.
  std::string_view id_text = path.substr(10);
  if (id_text.empty() || id_text.find_first_not_of("0123456789") != std::string_view::npos) {
    return json_reply(req, http::status::not_found, {{"error", "no such path"}});
  }
  int id = std::atoi(std::string(id_text).c_str());
  auto it = state.products.find(id);
  switch (req.method()) {
    case http::verb::get:
    case http::verb::head: {
      if (it == state.products.end())
        return json_reply(req, http::status::not_found, {{"error", "no such product"}});
      auto res = json_reply(req, http::status::ok, product_json(id, it->second, query["currency"]));
      res.set(http::field::etag,
              "\"p" + std::to_string(id) + "-v" + std::to_string(it->second.version) + "\"");
      res.set(http::field::last_modified, http_date(it->second.modified));
      return res;
    }
    case http::verb::put:
    case http::verb::patch: {
      json body = json::parse(req.body(), nullptr, false);
      if (body.is_discarded() || !body.is_object()) {
        return json_reply(req, http::status::bad_request,
                          {{"error", "body must be a JSON object"}});
      }
      Product& p = state.products[id];
      if (it == state.products.end())
        p = Product{"product " + std::to_string(id), 10.0, 1, 0, std::time(nullptr)};
      if (body.contains("name")) p.name = body["name"].get<std::string>();
      if (body.contains("price")) p.price = body["price"].get<double>();
      if (body.contains("category")) p.category = body["category"].get<int>();
      ++p.version;
      p.modified = std::time(nullptr);
      return json_reply(req, http::status::ok, product_json(id, p, ""));
    }
    case http::verb::delete_: {
      state.products.erase(id);
      Response res{http::status::no_content, req.version()};
      return res;
    }
    default:
      return json_reply(req, http::status::method_not_allowed, {{"error", "method not allowed"}});
  }
}

Response profile(const http::request<http::string_body>& req, std::string_view path) {
  std::string id(path.substr(7, path.size() - 7 - 8));  // "/users/" ... "/profile"
  std::string tenant(req["X-Tenant-Id"]);
  std::string slot = tenant + "/" + id;
  if (req.method() == http::verb::put || req.method() == http::verb::patch) {
    json body = json::parse(req.body(), nullptr, false);
    if (body.is_discarded())
      return json_reply(req, http::status::bad_request, {{"error", "body must be JSON"}});
    state.profiles[slot].update(body);
  }
  json p = state.profiles.count(slot) ? state.profiles[slot] : json::object();
  p["id"] = id;
  p["tenant"] = tenant;
  return json_reply(req, http::status::ok, p);
}

Response test_knobs(const http::request<http::string_body>& req, std::string_view target,
                    std::map<std::string, std::string>& query) {
  if (query.count("echo")) {
    // A field sent on several lines shows as one list, as HTTP combines them.
    json headers = json::object();
    for (const auto& f : req) {
      std::string name(f.name_string());
      std::string value(f.value());
      if (headers.contains(name)) value = headers[name].get<std::string>() + ", " + value;
      headers[name] = value;
    }
    return json_reply(req, http::status::ok,
                      {{"method", std::string(req.method_string())},
                       {"target", std::string(target)},
                       {"body", req.body()},
                       {"headers", headers}});
  }
  int status = query.count("status") ? std::atoi(query["status"].c_str()) : 200;
  Response res{static_cast<http::status>(status), req.version()};
  res.set(http::field::content_type, "text/plain");
  res.set("X-Origin-Count", std::to_string(state.targets[std::string(target)]));
  if (query.count("cc")) res.set(http::field::cache_control, query["cc"]);
  if (query.count("set_cookie")) res.set(http::field::set_cookie, "session=abc; Path=/");
  if (query.count("vary")) res.set(http::field::vary, query["vary"]);
  if (query.count("etag")) res.set(http::field::etag, "\"" + query["etag"] + "\"");
  if (query.count("location")) res.set(http::field::location, query["location"]);
  if (query.count("cachecar_cc")) res.set("Cachecar-Cache-Control", query["cachecar_cc"]);
  if (query.count("cdn_cc")) res.set("CDN-Cache-Control", query["cdn_cc"]);
  if (query.count("hop")) {
    // A field the origin makes hop-by-hop by listing it in Connection.
    res.set(http::field::connection, query["hop"]);
    res.set(query["hop"], "1");
  }
  if (query.count("last_modified")) {
    res.set(http::field::last_modified,
            http_date(std::time(nullptr) - std::atol(query["last_modified"].c_str())));
  }
  std::size_t size = query.count("size") ? std::stoul(query["size"]) : 0;
  std::string body = "count=" + std::to_string(state.targets[std::string(target)]) +
                     " target=" + std::string(target);
  if (size > body.size()) body.append(size - body.size(), 'x');
  res.body() = body;
  if (query.count("chunked")) res.chunked(true);
  return res;
}

Response dispatch(const http::request<http::string_body>& req) {
  std::string_view target(req.target().data(), req.target().size());
  std::string_view path = target.substr(0, target.find('?'));
  auto query = query_of(target);
  if (path == "/__stats") {
    return json_reply(req, http::status::ok,
                      {{"requests", state.requests},
                       {"connections", state.connections},
                       {"in_flight", state.in_flight - 1},
                       {"paths", state.paths},
                       {"targets", state.targets},
                       {"not_modified", state.not_modified},
                       {"body_bytes", state.body_bytes},
                       {"methods", state.methods},
                       {"pieces_sent", state.pieces_sent}});
  }
  if (path == "/__reset") {
    state.requests = 0;
    state.not_modified = 0;
    state.body_bytes = 0;
    state.paths.clear();
    state.targets.clear();
    state.methods.clear();
    state.connections = 0;
    state.pieces_sent = 0;
    return json_reply(req, http::status::ok, {{"reset", true}});
  }
  if (path == "/products" || (path.rfind("/products/", 0) == 0 && path.size() > 10)) {
    return products(req, path, query);
  }
  if (path.rfind("/users/", 0) == 0 && path.size() > 15 &&
      path.substr(path.size() - 8) == "/profile") {
    return profile(req, path);
  }
  if (path.rfind("/t/", 0) == 0) {
    // A knob may also come as a header "X-Knob-NAME: VALUE" (a test that
    // must change the answer without changing the cache key).
    for (const auto& field : req) {
      std::string name(field.name_string());
      if (name.size() > 7 && beast::iequals(name.substr(0, 7), "X-Knob-")) {
        std::string knob = name.substr(7);
        for (auto& c : knob) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        query.emplace(knob, std::string(field.value()));
      }
    }
    return test_knobs(req, target, query);
  }
  return json_reply(req, http::status::not_found, {{"error", "no such path"}});
}

// A response written the slow way: the head, then the body in pieces
// (trickle_ms apart), or cut off by a reset after reset_after bytes. Ends
// the connection.
asio::awaitable<void> write_slowly(beast::tcp_stream& stream, Response& res,
                                   std::map<std::string, std::string>& query) {
  std::string body = std::move(res.body());
  res.body().clear();
  const bool chunked = res.chunked();
  if (!chunked) res.content_length(body.size());
  res.keep_alive(false);
  http::response_serializer<http::string_body> head{res};
  auto [head_error, head_bytes] = co_await http::async_write_header(stream, head, use_tuple);
  if (head_error) co_return;
  const std::size_t piece = query.count("piece") ? std::stoul(query["piece"]) : 2048;
  const auto gap = std::chrono::milliseconds(
      query.count("trickle_ms") ? std::atoi(query["trickle_ms"].c_str()) : 0);
  const std::size_t cut =
      query.count("reset_after") ? std::stoul(query["reset_after"]) : body.size();
  asio::steady_timer timer(stream.get_executor());
  for (std::size_t at = 0; at < std::min(cut, body.size()); at += piece) {
    if (at > 0 && gap.count() > 0) {
      timer.expires_after(gap);
      co_await timer.async_wait(use_tuple);
    }
    std::string bytes = body.substr(at, std::min(piece, std::min(cut, body.size()) - at));
    if (chunked) {
      char size_line[32];
      std::snprintf(size_line, sizeof size_line, "%zx\r\n", bytes.size());
      bytes = size_line + bytes + "\r\n";
    }
    auto [ec, n] = co_await asio::async_write(stream, asio::buffer(bytes), use_tuple);
    if (ec) co_return;
    ++state.pieces_sent;
  }
  if (cut < body.size()) {
    // An abortive close: the peer sees a reset, not an orderly end.
    beast::error_code ignored;
    stream.socket().set_option(asio::socket_base::linger(true, 0), ignored);
    stream.socket().close(ignored);
    co_return;
  }
  if (chunked) {
    static const std::string last = "0\r\n\r\n";
    co_await asio::async_write(stream, asio::buffer(last), use_tuple);
  }
}

asio::awaitable<void> session(tcp::socket socket) {
  ++state.connections;
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  while (true) {
    http::request<http::string_body> req;
    auto [ec, n] = co_await http::async_read(stream, buffer, req, use_tuple);
    if (ec) break;
    std::string_view target(req.target().data(), req.target().size());
    std::string path(target.substr(0, target.find('?')));
    bool counted = path != "/__stats" && path != "/__reset";
    if (counted) {
      ++state.requests;
      ++state.paths[path];
      ++state.targets[std::string(target)];
      ++state.methods[std::string(req.method_string())];
    }
    ++state.in_flight;
    auto query = query_of(target);
    int delay =
        query.count("delay_ms") ? std::atoi(query["delay_ms"].c_str()) : state.default_delay_ms;
    if (delay > 0 && counted) {
      asio::steady_timer timer(stream.get_executor(), std::chrono::milliseconds(delay));
      co_await timer.async_wait(use_tuple);
    }
    Response res = dispatch(req);
    --state.in_flight;
    // Conditional GET (RFC 9110 §13.1.2): the representation is unchanged,
    // so the answer is its header fields without the body.
    if (auto etag = res.find(http::field::etag); etag != res.end() &&
                                                 res.result() == http::status::ok &&
                                                 req[http::field::if_none_match] == etag->value()) {
      res.result(http::status::not_modified);
      res.erase(http::field::content_type);
      res.body().clear();
      ++state.not_modified;
    }
    if (counted && req.method() != http::verb::head) state.body_bytes += res.body().size();
    if (!res.chunked()) res.prepare_payload();
    if (req.method() == http::verb::head)
      res.body().clear();  // Content-Length stays: that of the GET
    res.keep_alive(req.keep_alive());
    if (query.count("early_hints")) {
      static const std::string hints =
          "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n";
      auto [hints_error, hints_written] =
          co_await asio::async_write(stream, asio::buffer(hints), use_tuple);
      if (hints_error) break;
    }
    if (query.count("trickle_ms") || query.count("reset_after")) {
      co_await write_slowly(stream, res, query);
      break;
    }
    auto [write_error, written] = co_await http::async_write(stream, res, use_tuple);
    if (write_error || !req.keep_alive()) break;
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

asio::awaitable<void> serve(tcp::acceptor& acceptor) {
  while (true) {
    auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
    if (ec) break;
    asio::co_spawn(acceptor.get_executor(), session(std::move(socket)), asio::detached);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string listen = "127.0.0.1:5000";
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--listen" && i + 1 < argc)
      listen = argv[++i];
    else if (arg == "--delay-ms" && i + 1 < argc)
      state.default_delay_ms = std::atoi(argv[++i]);
    else {
      std::cerr << "usage: demo_origin [--listen HOST:PORT] [--delay-ms N]\n";
      return 2;
    }
  }
  std::time_t start = std::time(nullptr);
  for (int id = 1; id <= 100; ++id) {
    state.products[id] = Product{"product " + std::to_string(id), 10.0 + id, id % 5, 1, start};
  }
  auto colon = listen.rfind(':');
  asio::io_context context{1};
  tcp::acceptor acceptor(context);
  try {
    tcp::endpoint endpoint(asio::ip::make_address(listen.substr(0, colon)),
                           static_cast<unsigned short>(std::stoi(listen.substr(colon + 1))));
    acceptor.open(endpoint.protocol());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen();
  } catch (const std::exception& e) {
    std::cerr << "demo_origin: cannot listen on " << listen << ": " << e.what() << "\n";
    return 1;
  }
  // Tests read this line to learn the port when they ask for port 0.
  std::cout << "listening on 127.0.0.1:" << acceptor.local_endpoint().port() << std::endl;
  asio::signal_set signals(context, SIGINT, SIGTERM);
  signals.async_wait([&](auto, int) { context.stop(); });
  asio::co_spawn(context, serve(acceptor), asio::detached);
  context.run();
  return 0;
}
