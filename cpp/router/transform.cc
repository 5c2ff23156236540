#include "router/transform.h"

#include <stdexcept>
#include <string_view>

#include "core/json_field.h"

namespace aigw::router {
namespace {

using nlohmann::json;

// Splits "a.b.c" into its parent segments ("a", "b") and its last key ("c").
struct SplitPath {
  std::vector<std::string_view> parents;
  std::string_view key;
};

SplitPath splitPath(std::string_view path) {
  SplitPath out;
  for (size_t dot; (dot = path.find('.')) != std::string_view::npos; path.remove_prefix(dot + 1)) {
    out.parents.push_back(path.substr(0, dot));
  }
  out.key = path;
  return out;
}

// The object holding the last key of `path`, or null when some segment is missing or not an
// object. With `create`, missing segments become empty objects (non-objects are never replaced).
json* parentOf(json& body, const SplitPath& path, bool create) {
  json* node = &body;
  for (std::string_view segment : path.parents) {
    if (!node->is_object()) return nullptr;
    auto it = node->find(segment);
    if (it == node->end()) {
      if (!create) return nullptr;
      node = &(*node)[std::string(segment)];
      *node = json::object();
    } else {
      node = &*it;
    }
  }
  return node->is_object() ? node : nullptr;
}

// Whether parentOf(..., create = true) would succeed, without creating anything.
bool canCreate(const json& body, const SplitPath& path) {
  const json* node = &body;
  for (std::string_view segment : path.parents) {
    if (!node->is_object()) return false;
    auto it = node->find(segment);
    if (it == node->end()) return true;
    node = &*it;
  }
  return node->is_object();
}

bool exists(json& body, std::string_view path) {
  const SplitPath split = splitPath(path);
  json* parent = parentOf(body, split, false);
  return parent && parent->contains(split.key);
}

bool apply(const Transform& t, json& body) {
  if (!t.if_present.empty() && !exists(body, t.if_present)) return false;
  if (!t.if_absent.empty() && exists(body, t.if_absent)) return false;
  const SplitPath path = splitPath(t.path);
  switch (t.op) {
    case Transform::Op::Set: {
      json* parent = parentOf(body, path, true);
      if (!parent) return false;
      auto it = parent->find(path.key);
      if (it != parent->end() && *it == t.value) return false;
      (*parent)[std::string(path.key)] = t.value;
      return true;
    }
    case Transform::Op::Drop: {
      json* parent = parentOf(body, path, false);
      return parent && parent->erase(std::string(path.key)) > 0;
    }
    case Transform::Op::Rename: {
      if (t.to == t.path) return false;
      json* parent = parentOf(body, path, false);
      if (!parent) return false;
      auto it = parent->find(path.key);
      const SplitPath to = splitPath(t.to);
      // Checked first so that a destination that cannot exist does not lose the value.
      if (it == parent->end() || !canCreate(body, to)) return false;
      json value = std::move(*it);
      parent->erase(it);
      (*parentOf(body, to, true))[std::string(to.key)] = std::move(value);
      return true;
    }
  }
  return false;
}

}  // namespace

Transform Transform::fromJson(const json& j) {
  Transform t;
  const std::string op = field<std::string>(j, "op");
  if (op == "set") {
    t.op = Op::Set;
  } else if (op == "drop") {
    t.op = Op::Drop;
  } else if (op == "rename") {
    t.op = Op::Rename;
  } else {
    throw std::runtime_error("transform: unknown op '" + op + "'");
  }
  t.path = field<std::string>(j, "path");
  t.to = fieldOrNone<std::string>(j, "to", "");
  t.value = fieldValue(j, "value");
  t.if_present = fieldOrNone<std::string>(j, "if_present", "");
  t.if_absent = fieldOrNone<std::string>(j, "if_absent", "");
  return t;
}

bool applyTransforms(const std::vector<Transform>& transforms, json& body) {
  bool changed = false;
  for (const Transform& t : transforms) changed |= apply(t, body);
  return changed;
}

}  // namespace aigw::router
