#include "core/echo.h"

namespace aigw {

std::string echoed(std::string_view value, size_t max) {
  if (value.size() <= max) return std::string(value);
  size_t cut = max;
  // Back up over UTF-8 continuation bytes so the cut never splits a character.
  while (cut > 0 && (static_cast<unsigned char>(value[cut]) & 0xC0) == 0x80) --cut;
  std::string out(value.substr(0, cut));
  out.append("\xE2\x80\xA6(+");  // "…"
  out.append(std::to_string(value.size() - cut));
  out.append(" bytes)");
  return out;
}

std::string echoedHeaderValue(std::string_view value, size_t max) {
  std::string out = echoed(value, max);
  for (char& c : out) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && u != '\t') || u == 0x7f) c = '?';
  }
  return out;
}

}  // namespace aigw
