// Reading a member of a JSON document that came from a client or an upstream, whatever its shape:
// nlohmann's const operator[] is undefined behaviour for a missing key, and the data plane
// throws no exceptions, so every read goes through here.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace aigw::translate {

// The member `key` of `obj`, or a null value when `obj` is no object or has no such member.
inline const nlohmann::json& member(const nlohmann::json& obj, std::string_view key) {
  static const nlohmann::json kNull;
  if (!obj.is_object()) return kNull;
  auto it = obj.find(key);
  return it == obj.end() ? kNull : *it;
}

// The string `key` of `obj`, or `fallback` when it is missing or no string.
inline std::string_view memberString(const nlohmann::json& obj, std::string_view key, std::string_view fallback = {}) {
  const nlohmann::json& v = member(obj, key);
  return v.is_string() ? std::string_view(v.get_ref<const std::string&>()) : fallback;
}

}  // namespace aigw::translate
