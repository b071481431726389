// ASP.NET Core style route templates: "/products/{id:int}", "/files/{*rest}".
// Supported parts: literal segments (matched case-insensitively, as ASP.NET
// Core does), {name}, {name:int}, {name:guid} and a trailing {*name}.
// A template is immutable after parse and safe to share across threads.
#pragma once

#include <boost/container/small_vector.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cachecar::config {

enum class SegmentKind { literal, int_param, guid_param, param, catch_all };

struct TemplateSegment {
  SegmentKind kind;
  std::string text;  // the literal, or the variable's name
};

// Variable values of one match, in template order; they view the request path.
using RouteValues = boost::container::small_vector<std::string_view, 4>;

class RouteTemplate {
 public:
  // nullopt with `error` set when the template is malformed.
  static std::optional<RouteTemplate> parse(std::string_view text, std::string& error);

  // True when `path` (no query string) matches; fills `values` on success.
  bool match(std::string_view path, RouteValues& values) const;

  // The path this template makes of named values (each looked up by the
  // variable's name through `value_of`); nullopt when a variable has no
  // value or the path would not match the template (a constraint fails).
  template <typename ValueOf>
  std::optional<std::string> expand(ValueOf value_of) const {
    std::string path;
    for (const auto& segment : segments_) {
      if (segment.kind == SegmentKind::literal) {
        path += '/';
        path += segment.text;
        continue;
      }
      std::optional<std::string_view> value = value_of(segment.text);
      if (!value) return std::nullopt;
      if (segment.kind == SegmentKind::catch_all && value->empty()) break;
      path += '/';
      path += *value;
    }
    if (path.empty()) path = "/";
    RouteValues check;
    if (!match(path, check)) return std::nullopt;
    return path;
  }

  // Appends the canonical path of a match to `out`: literals as the
  // template writes them, {x:int} values in plain decimal, {x:guid} values
  // in lower case with hyphens and no braces, other values as sent, no
  // trailing '/'. `values` come from match(). The canonical path matches
  // this template with the same (canonical) values.
  void append_canonical_path(const RouteValues& values, std::string& out) const;

  const std::string& text() const { return text_; }
  const std::vector<TemplateSegment>& segments() const { return segments_; }
  std::vector<std::string> variable_names() const;
  bool has_variable(std::string_view name) const;

 private:
  std::string text_;
  std::vector<TemplateSegment> segments_;
};

// How the sets of paths matched by two templates relate.
enum class TemplateRelation { disjoint, identical, first_narrower, second_narrower, ambiguous };
TemplateRelation compare_templates(const RouteTemplate& first, const RouteTemplate& second);

// Segment-by-segment precedence (literal < constrained < param < catch-all):
// when two templates nest, the narrower one sorts first.
bool more_specific_first(const RouteTemplate& first, const RouteTemplate& second);

bool is_int_segment(std::string_view segment);
bool is_guid_segment(std::string_view segment);
// The canonical spelling of a segment that passed is_int_segment /
// is_guid_segment ("007" -> "7", "{ABC...}" -> "abc...").
void append_canonical_int(std::string_view segment, std::string& out);
void append_canonical_guid(std::string_view segment, std::string& out);

}  // namespace cachecar::config
