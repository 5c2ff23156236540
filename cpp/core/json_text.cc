#include "core/json_text.h"

#include <charconv>
#include <cmath>

#include "core/json_bytes.h"

namespace aigw {

using json_bytes::utf8Sequence;

// Output is always valid JSON: ill-formed UTF-8 (which can arrive in header values, upstream
// bodies or config text) is replaced by U+FFFD rather than copied into the document.
void appendJsonString(std::string& out, std::string_view text) {
  static const char kHex[] = "0123456789abcdef";
  out.push_back('"');
  size_t run_start = 0;
  const char* const end = text.data() + text.size();
  for (size_t i = 0; i < text.size(); ++i) {
    i += json_bytes::plainRun(text.data() + i, end);  // copied with the run, below
    if (i == text.size()) break;
    const auto c = static_cast<unsigned char>(text[i]);
    const char* esc = nullptr;
    switch (c) {
      case '"': esc = "\\\""; break;
      case '\\': esc = "\\\\"; break;
      case '\n': esc = "\\n"; break;
      case '\r': esc = "\\r"; break;
      case '\t': esc = "\\t"; break;
      case '\b': esc = "\\b"; break;
      case '\f': esc = "\\f"; break;
      default:
        if (c >= 0x20 && c < 0x80) continue;
        if (c >= 0x80) {
          size_t bad = 0;
          const size_t len = utf8Sequence(text, i, &bad);
          if (len > 0) {
            i += len - 1;
            continue;
          }
          out.append(text.data() + run_start, i - run_start);
          out.append("\xef\xbf\xbd");
          i += bad - 1;
          run_start = i + 1;
          continue;
        }
    }
    out.append(text.data() + run_start, i - run_start);
    if (esc != nullptr) {
      out.append(esc);
    } else {
      char u[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xf]};
      out.append(u, 6);
    }
    run_start = i + 1;
  }
  out.append(text.data() + run_start, text.size() - run_start);
  out.push_back('"');
}

void appendJsonNumber(std::string& out, int64_t value) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof(buf), value);
  out.append(buf, res.ptr);
}

void appendJsonNumber(std::string& out, double value) {
  if (!std::isfinite(value)) {
    out.append("0");
    return;
  }
  char buf[32];
  auto res = std::to_chars(buf, buf + sizeof(buf), value);
  out.append(buf, res.ptr);
}

void appendJsonStringOrNull(std::string& out, std::string_view text) {
  if (text.empty()) {
    out.append("null");
  } else {
    appendJsonString(out, text);
  }
}

void appendJsonNumberOrNull(std::string& out, int64_t value) {
  if (value < 0) {
    out.append("null");
  } else {
    appendJsonNumber(out, value);
  }
}

void appendJsonNumberOrNull(std::string& out, double value) {
  if (value < 0) {
    out.append("null");
  } else {
    appendJsonNumber(out, value);
  }
}

}  // namespace aigw

namespace aigw {
namespace {

size_t skipSpace(std::string_view s, size_t i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
  return i;
}

// One past the end of the string literal starting at s[i] == '"', or npos.
size_t skipString(std::string_view s, size_t i) {
  for (++i; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == '"') {
      return i + 1;
    }
  }
  return std::string_view::npos;
}

// One past the end of the JSON value starting at s[i], or npos.
size_t skipValue(std::string_view s, size_t i) {
  if (i >= s.size()) return std::string_view::npos;
  if (s[i] == '"') return skipString(s, i);
  if (s[i] == '{' || s[i] == '[') {
    int depth = 0;
    for (; i < s.size(); ++i) {
      const char c = s[i];
      if (c == '"') {
        i = skipString(s, i);
        if (i == std::string_view::npos) return i;
        --i;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if ((c == '}' || c == ']') && --depth == 0) {
        return i + 1;
      }
    }
    return std::string_view::npos;
  }
  while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ' ' && s[i] != '\t' && s[i] != '\n' &&
         s[i] != '\r') {
    ++i;
  }
  return i;
}

}  // namespace

// A key may appear more than once, and parsers disagree on which copy counts (nlohmann and
// Python keep the last, others the first): every copy is replaced, so all of them read the
// new value. A key spelled with escapes ("mo\u0064el") might be `key` in disguise; rather than
// decode it, the splice is refused and the caller re-encodes the document.
bool replaceTopLevelString(std::string_view json, std::string_view key, std::string_view value, std::string* out) {
  size_t i = skipSpace(json, 0);
  if (i >= json.size() || json[i] != '{') return false;
  i = skipSpace(json, i + 1);
  std::string literal;
  appendJsonString(literal, value);
  std::string result;
  size_t copied = 0;  // json[0, copied) is in result already
  while (i < json.size() && json[i] == '"') {
    const size_t key_end = skipString(json, i);
    if (key_end == std::string_view::npos) return false;
    const std::string_view raw_key = json.substr(i + 1, key_end - i - 2);
    if (raw_key.find('\\') != std::string_view::npos) return false;
    i = skipSpace(json, key_end);
    if (i >= json.size() || json[i] != ':') return false;
    const size_t value_start = skipSpace(json, i + 1);
    const size_t value_end = skipValue(json, value_start);
    if (value_end == std::string_view::npos) return false;
    if (raw_key == key) {
      if (copied == 0) result.reserve(json.size() + literal.size());
      result.append(json.substr(copied, value_start - copied));
      result.append(literal);
      copied = value_end;
    }
    i = skipSpace(json, value_end);
    if (i < json.size() && json[i] == ',') i = skipSpace(json, i + 1);
  }
  if (copied == 0) return false;
  result.append(json.substr(copied));
  *out = std::move(result);
  return true;
}

}  // namespace aigw
