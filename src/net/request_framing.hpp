// Checks on a request head that Beast's parser accepts but that cannot be
// trusted to frame the message or name its target (RFC 9112 §3.2, §6.3):
// such a request is answered 400 and its connection closed. Pure
// functions, safe on any thread.
#pragma once

#include <optional>
#include <string_view>

#include "net/beast.hpp"

namespace cachecar::net {

// Why the head cannot be trusted (one line, for the 400's reason), or nullopt.
std::optional<std::string_view> framing_problem(const http::request_header<>& header);
// A Host field value made only of the characters a uri-host[:port] may hold.
bool valid_host_field(std::string_view host);

}  // namespace cachecar::net
