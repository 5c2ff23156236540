// The byte-level rules of JSON string text that the reader (json_parse) and the writer
// (json_text) share: which bytes need care, and what a well-formed UTF-8 sequence is.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace aigw::json_bytes {

// Printable ASCII other than '"' and '\\': copied as it is, both ways.
inline bool plain(unsigned char c) { return c >= 0x20 && c < 0x80 && c != '"' && c != '\\'; }

// How many bytes from `from` are plain. Eight at a time (SWAR): most text in answers is
// plain, and this loop is where a 1 KB answer spends its time.
inline size_t plainRun(const char* from, const char* end) {
  constexpr uint64_t ones = 0x0101010101010101ULL;
  constexpr uint64_t highs = 0x8080808080808080ULL;
  const auto zeroByte = [](uint64_t v) { return (v - ones) & ~v & highs; };
  const char* p = from;
  while (end - p >= 8) {
    uint64_t x;
    std::memcpy(&x, p, 8);
    const uint64_t special =
        ((x - ones * 0x20) & ~x & highs) | zeroByte(x ^ (ones * '"')) | zeroByte(x ^ (ones * '\\')) | (x & highs);
    if (special != 0) break;
    p += 8;
  }
  while (p < end && plain(static_cast<unsigned char>(*p))) ++p;
  return static_cast<size_t>(p - from);
}

// Length of the well-formed UTF-8 sequence starting at text[i] (a byte >= 0x80), or 0 with
// *bad set to the length of its maximal ill-formed subpart (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF; Unicode 3.9 D93b).
inline size_t utf8Sequence(std::string_view text, size_t i, size_t* bad) {
  const auto at = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char c = at(i);
  size_t len = 0;
  unsigned char lo = 0x80, hi = 0xbf;  // allowed range of the second byte
  if (c >= 0xc2 && c <= 0xdf) {
    len = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    len = 3;
    if (c == 0xe0) lo = 0xa0;  // no overlong forms
    if (c == 0xed) hi = 0x9f;  // no surrogates
  } else if (c >= 0xf0 && c <= 0xf4) {
    len = 4;
    if (c == 0xf0) lo = 0x90;
    if (c == 0xf4) hi = 0x8f;  // nothing above U+10FFFF
  } else {
    *bad = 1;
    return 0;
  }
  for (size_t k = 1; k < len; ++k) {
    const size_t j = i + k;
    const unsigned char min = k == 1 ? lo : 0x80, max = k == 1 ? hi : 0xbf;
    if (j >= text.size() || at(j) < min || at(j) > max) {
      *bad = k;
      return 0;
    }
  }
  return len;
}

}  // namespace aigw::json_bytes
