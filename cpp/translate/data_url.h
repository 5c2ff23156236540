// Base64 data URLs ("data:image/png;base64,AAAA"), the way OpenAI requests carry inline images
// and files: shared by the translators that turn them into a provider's own blocks.
#pragma once

#include <string_view>

namespace aigw::translate {

// "data:image/png;base64,AAAA" -> media type and data; false when not a base64 data URL.
inline bool splitDataUrl(std::string_view url, std::string_view& media, std::string_view& data) {
  if (url.substr(0, 5) != "data:") return false;
  const size_t comma = url.find(',');
  if (comma == std::string_view::npos) return false;
  std::string_view head = url.substr(5, comma - 5);
  constexpr std::string_view kBase64 = ";base64";
  if (head.size() < kBase64.size() || head.substr(head.size() - kBase64.size()) != kBase64) return false;
  media = head.substr(0, head.size() - kBase64.size());
  data = url.substr(comma + 1);
  return !media.empty();
}

}  // namespace aigw::translate
