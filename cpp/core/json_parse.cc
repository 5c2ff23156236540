#include "core/json_parse.h"

#include "core/json_bytes.h"

#include <locale.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace aigw {

namespace {

using json = nlohmann::json;

// strtod in the "C" locale whatever the process's is: nlohmann swaps '.' for the locale's
// decimal point before its strtod, which comes to the same value.
locale_t cLocale() {
  static const locale_t c = newlocale(LC_ALL_MASK, "C", static_cast<locale_t>(nullptr));
  return c;
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void appendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

class Parser {
 public:
  explicit Parser(std::string_view text) : p_(text.data()), end_(text.data() + text.size()) {}

  json run();

 private:
  void skipSpace() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }
  bool skipByteOrderMark();
  // A value that opens no container into `slot`; false on bad text.
  bool scalar(json& slot);
  bool string(std::string& out);
  bool stringTail(const char* start, std::string& out);
  bool escape(std::string& out);
  bool literal(const char* word, size_t n) {
    if (static_cast<size_t>(end_ - p_) < n || std::memcmp(p_, word, n) != 0) return false;
    p_ += n;
    return true;
  }
  bool number(json& slot);

  const char* p_;
  const char* end_;
  std::string key_;
};

bool Parser::skipByteOrderMark() {
  if (p_ == end_ || static_cast<unsigned char>(*p_) != 0xEF) return true;
  return literal("\xEF\xBB\xBF", 3);
}

bool Parser::scalar(json& slot) {
  switch (*p_) {
    case '"': {
      std::string s;
      if (!string(s)) return false;
      slot = std::move(s);
      return true;
    }
    case 't':
      if (!literal("true", 4)) return false;
      slot = true;
      return true;
    case 'f':
      if (!literal("false", 5)) return false;
      slot = false;
      return true;
    case 'n':
      if (!literal("null", 4)) return false;
      slot = nullptr;
      return true;
    default:
      return number(slot);
  }
}

bool Parser::string(std::string& out) {
  ++p_;  // the opening quote
  const char* start = p_;
  const char* s = p_ + json_bytes::plainRun(p_, end_);
  if (s < end_ && *s == '"') {
    out.assign(start, s);
    p_ = s + 1;
    return true;
  }
  p_ = s;
  return stringTail(start, out);
}

// The careful way, from the first byte that is not plain ASCII text.
bool Parser::stringTail(const char* start, std::string& out) {
  out.assign(start, p_);
  while (p_ < end_) {
    const size_t run = json_bytes::plainRun(p_, end_);
    out.append(p_, run);
    p_ += run;
    if (p_ == end_) break;
    const unsigned char c = static_cast<unsigned char>(*p_);
    if (c == '"') {
      ++p_;
      return true;
    }
    if (c == '\\') {
      if (!escape(out)) return false;
    } else if (c < 0x20) {
      return false;
    } else {
      size_t bad = 0;
      const size_t n = json_bytes::utf8Sequence(std::string_view(p_, static_cast<size_t>(end_ - p_)), 0, &bad);
      if (n == 0) return false;
      out.append(p_, n);
      p_ += n;
    }
  }
  return false;
}

bool Parser::escape(std::string& out) {
  ++p_;  // the backslash
  if (p_ == end_) return false;
  const char c = *p_++;
  switch (c) {
    case '"': out.push_back('"'); return true;
    case '\\': out.push_back('\\'); return true;
    case '/': out.push_back('/'); return true;
    case 'b': out.push_back('\b'); return true;
    case 'f': out.push_back('\f'); return true;
    case 'n': out.push_back('\n'); return true;
    case 'r': out.push_back('\r'); return true;
    case 't': out.push_back('\t'); return true;
    case 'u': break;
    default: return false;
  }
  const auto hex4 = [this](uint32_t* v) {
    if (end_ - p_ < 4) return false;
    uint32_t r = 0;
    for (int i = 0; i < 4; ++i) {
      const int h = hexValue(p_[i]);
      if (h < 0) return false;
      r = (r << 4) | static_cast<uint32_t>(h);
    }
    p_ += 4;
    *v = r;
    return true;
  };
  uint32_t cp = 0;
  if (!hex4(&cp)) return false;
  if (cp >= 0xDC00 && cp <= 0xDFFF) return false;  // a low surrogate first
  if (cp >= 0xD800 && cp <= 0xDBFF) {
    uint32_t low = 0;
    if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return false;
    p_ += 2;
    if (!hex4(&low) || low < 0xDC00 || low > 0xDFFF) return false;
    cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
  }
  appendUtf8(out, cp);
  return true;
}

bool Parser::number(json& slot) {
  const char* start = p_;
  const bool negative = p_ < end_ && *p_ == '-';
  if (negative) ++p_;
  if (p_ == end_) return false;
  if (*p_ == '0') {
    ++p_;
  } else if (*p_ >= '1' && *p_ <= '9') {
    while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
  } else {
    return false;
  }
  const char* int_end = p_;
  bool is_float = false;
  if (p_ < end_ && *p_ == '.') {
    ++p_;
    if (p_ == end_ || *p_ < '0' || *p_ > '9') return false;
    while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    is_float = true;
  }
  if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
    ++p_;
    if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
    if (p_ == end_ || *p_ < '0' || *p_ > '9') return false;
    while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    is_float = true;
  }
  if (!is_float) {
    // nlohmann: strtoull / strtoll when they do not overflow, a float otherwise.
    uint64_t v = 0;
    bool overflow = false;
    for (const char* d = negative ? start + 1 : start; d < int_end; ++d) {
      const uint64_t digit = static_cast<uint64_t>(*d - '0');
      if (v > (UINT64_MAX - digit) / 10) {
        overflow = true;
        break;
      }
      v = v * 10 + digit;
    }
    if (!overflow && !negative) {
      slot = static_cast<json::number_unsigned_t>(v);
      return true;
    }
    if (!overflow && v <= static_cast<uint64_t>(INT64_MAX) + 1) {
      slot = static_cast<json::number_integer_t>(v == static_cast<uint64_t>(INT64_MAX) + 1 ? INT64_MIN
                                                                                           : -static_cast<int64_t>(v));
      return true;
    }
  }
  const size_t n = static_cast<size_t>(p_ - start);
  char small[64];
  std::string large;
  char* text = small;
  if (n < sizeof small) {
    std::memcpy(small, start, n);
    small[n] = '\0';
  } else {
    large.assign(start, n);
    text = large.data();
  }
  const double d = strtod_l(text, nullptr, cLocale());
  if (!std::isfinite(d)) return false;  // nlohmann: "number overflow"
  slot = d;
  return true;
}

json Parser::run() {
  json discarded(json::value_t::discarded);
  json root;
  // The open containers, innermost last: values go only into the innermost, so a pointer to
  // an outer one (an element of its own parent) stays valid until it closes.
  std::vector<json*> open;
  json* slot = &root;
  if (!skipByteOrderMark()) return discarded;
  for (;;) {
    // A value into *slot.
    skipSpace();
    if (p_ == end_) return discarded;
    if (*p_ == '{' || *p_ == '[') {
      const bool object = *p_ == '{';
      *slot = object ? json::object() : json::array();
      ++p_;
      skipSpace();
      if (p_ < end_ && *p_ == (object ? '}' : ']')) {
        ++p_;  // an empty container is a whole value
      } else {
        open.push_back(slot);
        if (object) {
          if (p_ == end_ || *p_ != '"' || !string(key_)) return discarded;
          skipSpace();
          if (p_ == end_ || *p_ != ':') return discarded;
          ++p_;
          slot = &(*slot)[key_];
        } else {
          slot = &slot->get_ref<json::array_t&>().emplace_back();
        }
        continue;
      }
    } else {
      if (!scalar(*slot)) return discarded;
    }
    // After a whole value: the next member or element, or the end of containers.
    for (;;) {
      skipSpace();
      // nlohmann's lexer reads a NUL byte as the end of its input, whatever follows.
      if (open.empty()) return p_ == end_ || *p_ == '\0' ? std::move(root) : discarded;
      if (p_ == end_) return discarded;
      json* top = open.back();
      const bool object = top->is_object();
      if (*p_ == ',') {
        ++p_;
        if (object) {
          skipSpace();
          if (p_ == end_ || *p_ != '"' || !string(key_)) return discarded;
          skipSpace();
          if (p_ == end_ || *p_ != ':') return discarded;
          ++p_;
          slot = &(*top)[key_];
        } else {
          slot = &top->get_ref<json::array_t&>().emplace_back();
        }
        break;
      }
      if (*p_ != (object ? '}' : ']')) return discarded;
      ++p_;
      open.pop_back();
    }
  }
}

}  // namespace

json parseJson(std::string_view text) { return Parser(text).run(); }

}  // namespace aigw
