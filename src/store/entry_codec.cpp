#include "store/entry_codec.hpp"

#include <lz4.h>
#include <zstd.h>

#include <chrono>
#include <cstring>

namespace cachecar::store {
namespace {

// Layout (little-endian):
//   "CCE" version:u8 compression:u8
//   stored_at_ms:i64 expires_at_ms:i64 initial_age:u32 stale_if_error:u32
//   stale_while_revalidate:u32 rebuild_ms:u32 generation:u32 status:u16 must_revalidate:u8
//   head:str fingerprint:str tag_count:u16 tags:str* vary_count:u16 vary:str*
//   body_size:u32 body:str
// where str = length:u32 + bytes, and body is compressed as the header says.
constexpr char kMagic[3] = {'C', 'C', 'E'};
constexpr std::uint32_t kMaxBodyBytes = 512u * 1024 * 1024;

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}
  template <typename Int>
  void integer(Int value) {
    for (std::size_t i = 0; i < sizeof(Int); ++i)
      out_.push_back(static_cast<char>((static_cast<std::uint64_t>(value) >> (8 * i)) & 0xff));
  }
  void bytes(std::string_view s) {
    integer<std::uint32_t>(static_cast<std::uint32_t>(s.size()));
    out_.append(s);
  }

 private:
  std::string& out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  template <typename Int>
  bool integer(Int& value) {
    if (in_.size() < sizeof(Int)) return false;
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < sizeof(Int); ++i)
      v |= static_cast<std::uint64_t>(static_cast<unsigned char>(in_[i])) << (8 * i);
    value = static_cast<Int>(v);
    in_.remove_prefix(sizeof(Int));
    return true;
  }
  bool bytes(std::string_view& s) {
    std::uint32_t size = 0;
    if (!integer(size) || in_.size() < size) return false;
    s = in_.substr(0, size);
    in_.remove_prefix(size);
    return true;
  }
  bool done() const { return in_.empty(); }

 private:
  std::string_view in_;
};

std::int64_t to_ms(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

// A time an entry can hold: from 1970 to 2100. The clock counts
// nanoseconds in 64 bits (it ends in 2262), and 2100 leaves room for the
// longest stale window a u32 of seconds can add (136 years).
bool plausible_ms(std::int64_t ms) {
  constexpr std::int64_t kYear2100 = 4'102'444'800'000;  // ms since the epoch
  return ms >= 0 && ms < kYear2100;
}

Clock::time_point from_ms(std::int64_t ms) {
  return Clock::time_point(
      std::chrono::duration_cast<Clock::duration>(std::chrono::milliseconds(ms)));
}

std::string compress(std::string_view body, BodyCompression how) {
  std::string out;
  if (how == BodyCompression::zstd) {
    out.resize(ZSTD_compressBound(body.size()));
    std::size_t n = ZSTD_compress(out.data(), out.size(), body.data(), body.size(), 3);
    if (ZSTD_isError(n)) return {};
    out.resize(n);
  } else {
    out.resize(static_cast<std::size_t>(LZ4_compressBound(static_cast<int>(body.size()))));
    int n = LZ4_compress_default(body.data(), out.data(), static_cast<int>(body.size()),
                                 static_cast<int>(out.size()));
    if (n <= 0) return {};
    out.resize(static_cast<std::size_t>(n));
  }
  return out;
}

bool decompress(std::string_view in, std::uint32_t size, BodyCompression how, std::string& out) {
  out.resize(size);
  if (how == BodyCompression::zstd) {
    std::size_t n = ZSTD_decompress(out.data(), out.size(), in.data(), in.size());
    return !ZSTD_isError(n) && n == size;
  }
  int n = LZ4_decompress_safe(in.data(), out.data(), static_cast<int>(in.size()),
                              static_cast<int>(size));
  return n >= 0 && static_cast<std::uint32_t>(n) == size;
}

}  // namespace

std::string encode_entry(const Entry& entry, BodyCompression compression) {
  std::string compressed;
  if (compression != BodyCompression::none && entry.body.size() > kCompressAbove) {
    compressed = compress(entry.body, compression);
    // Not worth it (or failed): store the body as it is.
    if (compressed.empty() || compressed.size() >= entry.body.size())
      compression = BodyCompression::none;
  } else {
    compression = BodyCompression::none;
  }
  std::string out;
  out.reserve(64 + entry.head.size() + entry.fingerprint.size() + entry.body.size());
  out.append(kMagic, sizeof kMagic);
  Writer w(out);
  w.integer<std::uint8_t>(kEntryFormatVersion);
  w.integer<std::uint8_t>(static_cast<std::uint8_t>(compression));
  w.integer<std::int64_t>(to_ms(entry.stored_at));
  w.integer<std::int64_t>(to_ms(entry.expires_at));
  w.integer<std::uint32_t>(entry.initial_age_seconds);
  w.integer<std::uint32_t>(entry.stale_if_error_seconds);
  w.integer<std::uint32_t>(entry.stale_while_revalidate_seconds);
  w.integer<std::uint32_t>(entry.rebuild_ms);
  w.integer<std::uint32_t>(entry.generation);
  w.integer<std::uint16_t>(entry.status);
  w.integer<std::uint8_t>(entry.must_revalidate ? 1 : 0);
  w.bytes(entry.head);
  w.bytes(entry.fingerprint);
  w.integer<std::uint16_t>(static_cast<std::uint16_t>(entry.tags.size()));
  for (const auto& tag : entry.tags) w.bytes(tag);
  w.integer<std::uint16_t>(static_cast<std::uint16_t>(entry.vary.size()));
  for (const auto& name : entry.vary) w.bytes(name);
  w.integer<std::uint32_t>(static_cast<std::uint32_t>(entry.body.size()));
  w.bytes(compression == BodyCompression::none ? std::string_view(entry.body)
                                               : std::string_view(compressed));
  return out;
}

std::optional<Entry> decode_entry(std::string_view bytes, std::uint32_t max_body_bytes) {
  if (bytes.size() < sizeof kMagic || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
    return std::nullopt;
  Reader r(bytes.substr(sizeof kMagic));
  std::uint8_t version = 0, compression = 0;
  if (!r.integer(version) || version != kEntryFormatVersion) return std::nullopt;
  if (!r.integer(compression) || compression > static_cast<std::uint8_t>(BodyCompression::lz4))
    return std::nullopt;
  Entry e;
  std::int64_t stored = 0, expires = 0;
  std::uint16_t tag_count = 0;
  std::uint32_t body_size = 0;
  std::uint8_t must_revalidate = 0;
  std::string_view head, fingerprint, body;
  if (!r.integer(stored) || !r.integer(expires) || !r.integer(e.initial_age_seconds) ||
      !r.integer(e.stale_if_error_seconds) || !r.integer(e.stale_while_revalidate_seconds) ||
      !r.integer(e.rebuild_ms) || !r.integer(e.generation) || !r.integer(e.status) ||
      !r.integer(must_revalidate) || must_revalidate > 1 || !r.bytes(head) ||
      !r.bytes(fingerprint) || !r.integer(tag_count)) {
    return std::nullopt;
  }
  for (std::uint16_t i = 0; i < tag_count; ++i) {
    std::string_view tag;
    if (!r.bytes(tag)) return std::nullopt;
    e.tags.emplace_back(tag);
  }
  std::uint16_t vary_count = 0;
  if (!r.integer(vary_count)) return std::nullopt;
  for (std::uint16_t i = 0; i < vary_count; ++i) {
    std::string_view name;
    if (!r.bytes(name)) return std::nullopt;
    e.vary.emplace_back(name);
  }
  if (!r.integer(body_size) || body_size > kMaxBodyBytes || body_size > max_body_bytes ||
      !r.bytes(body) || !r.done()) {
    return std::nullopt;
  }
  auto how = static_cast<BodyCompression>(compression);
  if (how == BodyCompression::none) {
    if (body.size() != body_size) return std::nullopt;
    e.body.assign(body);
  } else if (!decompress(body, body_size, how, e.body)) {
    return std::nullopt;
  }
  e.head.assign(head);
  e.fingerprint.assign(fingerprint);
  e.must_revalidate = must_revalidate == 1;
  // Times outside 1970..2100 are damage, and converting them would
  // overflow (found by fuzz_entry_codec).
  if (!plausible_ms(stored) || !plausible_ms(expires)) return std::nullopt;
  e.stored_at = from_ms(stored);
  e.expires_at = from_ms(expires);
  return e;
}

}  // namespace cachecar::store
