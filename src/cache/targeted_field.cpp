#include "cache/targeted_field.hpp"

#include <cctype>
#include <string>

namespace cachecar::cache {
namespace {

bool lcalpha(char c) { return c >= 'a' && c <= 'z'; }
bool digit(char c) { return c >= '0' && c <= '9'; }
bool alpha(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }
bool tchar(char c) {
  return alpha(c) || digit(c) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

enum class ItemType { none, integer, decimal, string, token, bytes, boolean };

// A small RFC 8941 dictionary reader over `text`: just enough to tell a
// valid dictionary (and the types of its values) from an invalid one.
class Reader {
 public:
  explicit Reader(std::string_view text) : s_(text) {}

  bool dictionary() {
    skip_sp();
    if (at_end()) return true;  // an empty dictionary
    for (;;) {
      std::string key;
      if (!read_key(key)) return false;
      ItemType type = ItemType::boolean;  // a bare key is true
      if (peek('=')) {
        ++i_;
        if (peek('(')) {
          if (!inner_list()) return false;
          type = ItemType::none;
        } else if (!bare_item(type)) {
          return false;
        }
      }
      if (!parameters()) return false;
      if (!typed_as_expected(key, type)) return false;
      skip_ows();
      if (at_end()) return true;
      if (!peek(',')) return false;
      ++i_;
      skip_ows();
      if (at_end()) return false;  // a trailing comma
    }
  }

 private:
  static bool typed_as_expected(const std::string& key, ItemType type) {
    if (key == "max-age" || key == "s-maxage" || key == "stale-while-revalidate" ||
        key == "stale-if-error") {
      return type == ItemType::integer;
    }
    if (key == "no-store" || key == "public" || key == "must-revalidate" ||
        key == "proxy-revalidate") {
      return type == ItemType::boolean;
    }
    if (key == "private" || key == "no-cache")
      return type == ItemType::boolean || type == ItemType::string;
    return true;  // extensions: any type
  }

  bool read_key(std::string& key) {
    if (at_end() || !(lcalpha(s_[i_]) || s_[i_] == '*')) return false;
    while (!at_end() && (lcalpha(s_[i_]) || digit(s_[i_]) || s_[i_] == '_' || s_[i_] == '-' ||
                         s_[i_] == '.' || s_[i_] == '*')) {
      key += s_[i_++];
    }
    return true;
  }

  bool bare_item(ItemType& type) {
    if (at_end()) return false;
    char c = s_[i_];
    if (c == '-' || digit(c)) return number(type);
    if (c == '"') {
      type = ItemType::string;
      return string();
    }
    if (c == '*' || alpha(c)) {
      type = ItemType::token;
      while (!at_end() && (tchar(s_[i_]) || s_[i_] == ':' || s_[i_] == '/')) ++i_;
      return true;
    }
    if (c == ':') {
      type = ItemType::bytes;
      ++i_;
      while (!at_end() && s_[i_] != ':') {
        if (!(std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '+' || s_[i_] == '/' ||
              s_[i_] == '='))
          return false;
        ++i_;
      }
      if (at_end()) return false;
      ++i_;
      return true;
    }
    if (c == '?') {
      type = ItemType::boolean;
      ++i_;
      if (at_end() || (s_[i_] != '0' && s_[i_] != '1')) return false;
      ++i_;
      return true;
    }
    return false;
  }

  bool number(ItemType& type) {
    if (peek('-')) ++i_;
    std::size_t integer_digits = 0, fraction_digits = 0;
    while (!at_end() && digit(s_[i_])) {
      ++i_;
      ++integer_digits;
    }
    if (integer_digits == 0) return false;
    type = ItemType::integer;
    if (peek('.')) {
      ++i_;
      while (!at_end() && digit(s_[i_])) {
        ++i_;
        ++fraction_digits;
      }
      if (integer_digits > 12 || fraction_digits == 0 || fraction_digits > 3) return false;
      type = ItemType::decimal;
      return true;
    }
    return integer_digits <= 15;
  }

  bool string() {
    ++i_;  // the opening quote
    while (!at_end()) {
      char c = s_[i_++];
      if (c == '"') return true;
      if (c == '\\') {
        if (at_end() || (s_[i_] != '"' && s_[i_] != '\\')) return false;
        ++i_;
      } else if (c < 0x20 || c > 0x7e) {
        return false;
      }
    }
    return false;  // no closing quote
  }

  bool inner_list() {
    ++i_;  // '('
    for (;;) {
      while (peek(' ')) ++i_;
      if (peek(')')) {
        ++i_;
        return true;
      }
      ItemType ignored;
      if (!bare_item(ignored) || !parameters()) return false;
      if (!peek(' ') && !peek(')')) return false;
    }
  }

  bool parameters() {
    while (peek(';')) {
      ++i_;
      skip_sp();
      std::string key;
      if (!read_key(key)) return false;
      if (peek('=')) {
        ++i_;
        ItemType ignored;
        if (!bare_item(ignored)) return false;
      }
    }
    return true;
  }

  bool at_end() const { return i_ >= s_.size(); }
  bool peek(char c) const { return !at_end() && s_[i_] == c; }
  void skip_sp() {
    while (peek(' ')) ++i_;
  }
  void skip_ows() {
    while (peek(' ') || peek('\t')) ++i_;
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

}  // namespace

bool valid_targeted_field(std::string_view value) {
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  return Reader(value).dictionary();
}

}  // namespace cachecar::cache
