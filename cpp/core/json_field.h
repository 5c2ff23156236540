// Reading optional fields of a JSON document (the core config): null counts as absent.
#pragma once

#include <nlohmann/json.hpp>

namespace aigw {

template <typename T>
T getOr(const nlohmann::json& j, const char* key, T fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  return it->template get<T>();
}

}  // namespace aigw
