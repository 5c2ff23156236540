// Per-target request transforms: set, drop or rename body fields, optionally only when another
// field is present or absent. Paths are top-level keys or dotted paths into nested objects
// ("stream_options.include_usage"); a path through a non-object is left alone.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace aigw::router {

struct Transform {
  enum class Op { Set, Drop, Rename };
  Op op = Op::Set;
  std::string path;        // the field to set, drop or rename
  std::string to;          // Rename: the new path
  nlohmann::json value;    // Set: the value
  std::string if_present;  // non-empty: apply only when this path exists
  std::string if_absent;   // non-empty: apply only when this path does not exist

  // Parses {"op": "set"|"drop"|"rename", "path", "to", "value", "if_present", "if_absent"},
  // every field present ("" / null where it does not apply). Throws std::runtime_error naming
  // the problem.
  static Transform fromJson(const nlohmann::json& j);
};

// Applies the transforms in order to a JSON object. Returns true when anything changed.
bool applyTransforms(const std::vector<Transform>& transforms, nlohmann::json& body);

}  // namespace aigw::router
