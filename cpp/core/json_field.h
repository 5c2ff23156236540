// Reading fields of the core config. Python writes every field the core reads, resolved
// (python/aigw/config.py): a missing field is a programming error, so it throws, naming the key.
#pragma once

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>

namespace aigw {

// Every error is a std::runtime_error naming the key (nlohmann's own do not for a wrong type).

// The JSON value of `key`, which must be there.
inline const nlohmann::json& fieldValue(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) throw std::runtime_error(std::string("expected an object with field '") + key + "'");
  auto it = j.find(key);
  if (it == j.end()) throw std::runtime_error(std::string("missing field '") + key + "'");
  return *it;
}

template <typename T>
T field(const nlohmann::json& j, const char* key) {
  const nlohmann::json& value = fieldValue(j, key);
  try {
    return value.template get<T>();
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(std::string("field '") + key + "': " + e.what());
  }
}

// A field that must be there and whose null means "none" (a target without a model, a server
// without tls ...): `none` then, the value otherwise.
template <typename T>
T fieldOrNone(const nlohmann::json& j, const char* key, T none) {
  return fieldValue(j, key).is_null() ? none : field<T>(j, key);
}

}  // namespace aigw
