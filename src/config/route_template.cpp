#include "config/route_template.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>

namespace cachecar::config {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool is_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
}

bool valid_name(std::string_view name) {
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

// Calls `fn` for each '/'-separated segment of `path` after the leading '/'.
// A single trailing '/' does not make an extra segment (ASP.NET Core ignores it).
template <typename Fn>
void for_each_segment(std::string_view path, Fn&& fn) {
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  if (!path.empty() && path.back() == '/') path.remove_suffix(1);
  if (path.empty()) return;
  std::size_t start = 0;
  while (true) {
    std::size_t slash = path.find('/', start);
    if (!fn(path.substr(start, slash == std::string_view::npos ? slash : slash - start), start))
      return;
    if (slash == std::string_view::npos) return;
    start = slash + 1;
  }
}

int precedence_rank(SegmentKind kind) {
  switch (kind) {
    case SegmentKind::literal:
      return 0;
    case SegmentKind::int_param:
    case SegmentKind::guid_param:
      return 1;
    case SegmentKind::param:
      return 2;
    case SegmentKind::catch_all:
      return 3;
  }
  return 3;
}

enum class Rel { disjoint, equal, first_sub, second_sub };

// Relation of two single, non-catch-all segments.
Rel relate(const TemplateSegment& a, const TemplateSegment& b) {
  auto literal_in = [](const TemplateSegment& lit, SegmentKind kind) {
    if (kind == SegmentKind::param) return true;
    if (kind == SegmentKind::int_param) return is_int_segment(lit.text);
    return is_guid_segment(lit.text);
  };
  if (a.kind == SegmentKind::literal && b.kind == SegmentKind::literal) {
    return iequals(a.text, b.text) ? Rel::equal : Rel::disjoint;
  }
  if (a.kind == SegmentKind::literal) return literal_in(a, b.kind) ? Rel::first_sub : Rel::disjoint;
  if (b.kind == SegmentKind::literal)
    return literal_in(b, a.kind) ? Rel::second_sub : Rel::disjoint;
  if (a.kind == b.kind) return Rel::equal;
  if (b.kind == SegmentKind::param) return Rel::first_sub;
  if (a.kind == SegmentKind::param) return Rel::second_sub;
  return Rel::disjoint;  // int vs guid: an int32 is never a guid
}

}  // namespace

bool is_int_segment(std::string_view s) {
  std::int32_t value = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  return !s.empty() && ec == std::errc{} && ptr == s.data() + s.size();
}

bool is_guid_segment(std::string_view s) {
  if (s.size() == 38 && s.front() == '{' && s.back() == '}') s = s.substr(1, 36);
  if (s.size() == 32) return is_hex(s);
  if (s.size() != 36) return false;
  return s[8] == '-' && s[13] == '-' && s[18] == '-' && s[23] == '-' && is_hex(s.substr(0, 8)) &&
         is_hex(s.substr(9, 4)) && is_hex(s.substr(14, 4)) && is_hex(s.substr(19, 4)) &&
         is_hex(s.substr(24, 12));
}

void append_canonical_int(std::string_view s, std::string& out) {
  std::int32_t value = 0;
  std::from_chars(s.data(), s.data() + s.size(), value);
  char digits[16];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value);
  out.append(digits, end);
}

void append_canonical_guid(std::string_view s, std::string& out) {
  if (s.size() == 38) s = s.substr(1, 36);  // {...}
  std::size_t hex_digits = 0;
  for (char c : s) {
    if (c == '-') continue;
    // 8-4-4-4-12: the 'N' form (32 digits) gets its hyphens.
    if (hex_digits == 8 || hex_digits == 12 || hex_digits == 16 || hex_digits == 20) out += '-';
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    ++hex_digits;
  }
}

void RouteTemplate::append_canonical_path(const RouteValues& values, std::string& out) const {
  const std::size_t start = out.size();
  std::size_t next_value = 0;
  for (const auto& segment : segments_) {
    if (segment.kind == SegmentKind::literal) {
      out += '/';
      out += segment.text;
      continue;
    }
    std::string_view value = next_value < values.size() ? values[next_value] : std::string_view{};
    ++next_value;
    if (segment.kind == SegmentKind::catch_all) {
      // match() drops one trailing '/' from the rest; all of them here, so
      // that the canonical path matches to the same value (found by
      // fuzz_route_template: "a//" -> "a/" -> "a").
      while (!value.empty() && value.back() == '/') value.remove_suffix(1);
      if (value.empty()) break;
    }
    out += '/';
    if (segment.kind == SegmentKind::int_param)
      append_canonical_int(value, out);
    else if (segment.kind == SegmentKind::guid_param)
      append_canonical_guid(value, out);
    else
      out += value;
  }
  if (out.size() == start) out += '/';
}

namespace {

// One "{name}", "{name:int}", "{name:guid}" or "{*name}" segment; nullopt,
// with `error` set, when it is not one.
std::optional<TemplateSegment> parse_variable(std::string_view segment, std::string& error) {
  if (segment.back() != '}' || segment.size() < 3) {
    error = "segment '" + std::string(segment) + "' is not a valid {variable}";
    return std::nullopt;
  }
  std::string_view inner = segment.substr(1, segment.size() - 2);
  SegmentKind kind = SegmentKind::param;
  if (inner.front() == '*') {
    kind = SegmentKind::catch_all;
    inner.remove_prefix(inner.size() > 1 && inner[1] == '*' ? 2 : 1);
  } else if (auto colon = inner.find(':'); colon != std::string_view::npos) {
    std::string_view constraint = inner.substr(colon + 1);
    inner = inner.substr(0, colon);
    if (constraint == "int") {
      kind = SegmentKind::int_param;
    } else if (constraint == "guid") {
      kind = SegmentKind::guid_param;
    } else {
      error = "unknown route constraint '" + std::string(constraint) + "' (supported: int, guid)";
      return std::nullopt;
    }
  }
  if (!valid_name(inner)) {
    error = "variable name '" + std::string(inner) + "' must be letters, digits, '_' or '-'";
    return std::nullopt;
  }
  return TemplateSegment{kind, std::string(inner)};
}

}  // namespace

std::optional<RouteTemplate> RouteTemplate::parse(std::string_view text, std::string& error) {
  RouteTemplate result;
  result.text_ = std::string(text);
  if (text.empty() || text.front() != '/') {
    error = "path template '" + std::string(text) + "' must start with '/'";
    return std::nullopt;
  }
  if (text.find('?') != std::string_view::npos) {
    error = "path template '" + std::string(text) + "' must not contain a query string";
    return std::nullopt;
  }
  bool ok = true;
  for_each_segment(text, [&](std::string_view segment, std::size_t) {
    if (!result.segments_.empty() && result.segments_.back().kind == SegmentKind::catch_all) {
      error = "catch-all {*" + result.segments_.back().text + "} must be the last segment";
      return ok = false;
    }
    if (segment.empty()) {
      error = "path template '" + std::string(text) + "' has an empty segment";
      return ok = false;
    }
    if (segment.front() != '{') {
      if (segment.find_first_of("{}") != std::string_view::npos) {
        error = "segment '" + std::string(segment) +
                "' mixes text and a variable; use a whole segment per variable";
        return ok = false;
      }
      result.segments_.push_back({SegmentKind::literal, std::string(segment)});
      return true;
    }
    auto variable = parse_variable(segment, error);
    if (!variable) return ok = false;
    if (result.has_variable(variable->text)) {
      error = "variable {" + variable->text + "} appears twice";
      return ok = false;
    }
    result.segments_.push_back(std::move(*variable));
    return true;
  });
  if (!ok) return std::nullopt;
  return result;
}

bool RouteTemplate::match(std::string_view path, RouteValues& values) const {
  values.clear();
  std::size_t index = 0;
  bool matched = true;
  std::string_view body = path;
  if (!body.empty() && body.front() == '/') body.remove_prefix(1);
  for_each_segment(path, [&](std::string_view segment, std::size_t offset) {
    if (index >= segments_.size()) return matched = false;
    const TemplateSegment& part = segments_[index];
    switch (part.kind) {
      case SegmentKind::literal:
        if (!iequals(segment, part.text)) return matched = false;
        break;
      case SegmentKind::int_param:
        if (!is_int_segment(segment)) return matched = false;
        values.push_back(segment);
        break;
      case SegmentKind::guid_param:
        if (!is_guid_segment(segment)) return matched = false;
        values.push_back(segment);
        break;
      case SegmentKind::param:
        if (segment.empty()) return matched = false;  // a variable needs a value
        values.push_back(segment);
        break;
      case SegmentKind::catch_all: {
        std::string_view rest = body.substr(offset);
        if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
        values.push_back(rest);
        ++index;
        return false;  // the catch-all took everything that was left
      }
    }
    ++index;
    return true;
  });
  if (!matched) return false;
  if (index == segments_.size()) return true;
  // Only an empty catch-all may remain unconsumed.
  if (index + 1 == segments_.size() && segments_[index].kind == SegmentKind::catch_all) {
    values.push_back(std::string_view{});
    return true;
  }
  return false;
}

std::vector<std::string> RouteTemplate::variable_names() const {
  std::vector<std::string> names;
  for (const auto& s : segments_) {
    if (s.kind != SegmentKind::literal) names.push_back(s.text);
  }
  return names;
}

bool RouteTemplate::has_variable(std::string_view name) const {
  return std::any_of(segments_.begin(), segments_.end(), [&](const TemplateSegment& s) {
    return s.kind != SegmentKind::literal && s.text == name;
  });
}

TemplateRelation compare_templates(const RouteTemplate& first, const RouteTemplate& second) {
  const auto& a = first.segments();
  const auto& b = second.segments();
  bool first_sub = false, second_sub = false;
  std::size_t i = 0;
  for (;; ++i) {
    bool a_end = i == a.size(), b_end = i == b.size();
    bool a_catch = !a_end && a[i].kind == SegmentKind::catch_all;
    bool b_catch = !b_end && b[i].kind == SegmentKind::catch_all;
    if (a_catch && b_catch) break;
    if (a_catch) {
      second_sub = true;
      break;
    }  // the catch-all takes whatever `second` has left
    if (b_catch) {
      first_sub = true;
      break;
    }
    if (a_end || b_end) {
      if (a_end != b_end) return TemplateRelation::disjoint;
      break;
    }
    switch (relate(a[i], b[i])) {
      case Rel::disjoint:
        return TemplateRelation::disjoint;
      case Rel::equal:
        break;
      case Rel::first_sub:
        first_sub = true;
        break;
      case Rel::second_sub:
        second_sub = true;
        break;
    }
  }
  if (first_sub && second_sub) return TemplateRelation::ambiguous;
  if (first_sub) return TemplateRelation::first_narrower;
  if (second_sub) return TemplateRelation::second_narrower;
  return TemplateRelation::identical;
}

bool more_specific_first(const RouteTemplate& first, const RouteTemplate& second) {
  const auto& a = first.segments();
  const auto& b = second.segments();
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
    int ra = precedence_rank(a[i].kind), rb = precedence_rank(b[i].kind);
    if (ra != rb) return ra < rb;
  }
  return a.size() < b.size();
}

}  // namespace cachecar::config
