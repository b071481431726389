// The plan of one request, shared by the two halves of RequestHandler
// (request_handler.cpp: lookup and coalescing; origin_forward.cpp: the
// origin exchange). Private to them.
#pragma once

#include <string>

#include "cache/transaction.hpp"
#include "proxy/request_handler.hpp"

namespace cachecar::proxy {

// Everything decided about one request before the origin is asked.
struct RequestHandler::Plan {
  RouteSetPtr routes;  // the table this request began under: it finishes under it
  const config::RoutePolicy* route = nullptr;
  std::size_t slot = 0;
  cache::Transaction tx;  // the phase, the Cache-Status and the timings
  bool store = false;     // the response may be stored under `key`
  const cache::KeyScratch* key = nullptr;
  const config::RouteValues* values = nullptr;  // the route's path variables
  cache::FetchPermit* permit = nullptr;         // set: this request fetches for its waiters too
  std::string lease_token;                      // set: this request holds the fleet lease
  store::EntryPtr
      stale;  // expired but trusted: the answer if the origin fails or the budget is spent
  store::EntryPtr revalidate;  // expired or in doubt: its validators make the fetch conditional
  cache::RequestFacts request_facts;
  bool head_only = false;
  bool keep_alive = true;
  unsigned version = net::kHttp11;  // the client's
  net::tcp::endpoint peer;
  bool trusted_peer = false;  // the peer is in trusted_proxies: its X-Forwarded-* are believed
};

}  // namespace cachecar::proxy
