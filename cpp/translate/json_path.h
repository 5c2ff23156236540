// Field paths for error messages ("messages[2].content[0].type"), built only when a field is
// refused, so the translators' happy path allocates nothing for them.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace aigw::translate {

inline void appendPathPart(std::string& out, std::string_view key) {
  if (!out.empty()) out += '.';
  out += key;
}
inline void appendPathPart(std::string& out, const char* key) {
  appendPathPart(out, std::string_view(key));
}
inline void appendPathPart(std::string& out, size_t index) {
  out += '[';
  out += std::to_string(index);
  out += ']';
}

// jsonPath("messages", 2, "content", 0, "type") == "messages[2].content[0].type"
template <typename... Parts>
std::string jsonPath(const Parts&... parts) {
  std::string out;
  (appendPathPart(out, parts), ...);
  return out;
}

}  // namespace aigw::translate
