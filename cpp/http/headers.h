// An ordered list of HTTP header fields. Names are stored lower-cased (HTTP field names are
// case-insensitive), so lookups are plain comparisons and serialized names are canonical.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aigw::http {

struct Header {
  std::string name;   // lower-case
  std::string value;
};

class HeaderList {
 public:
  void add(std::string name, std::string value) { fields_.push_back({std::move(name), std::move(value)}); }
  // First value of `name` (lower-case), or nullptr.
  const std::string* find(std::string_view name) const {
    for (const auto& h : fields_) {
      if (h.name == name) return &h.value;
    }
    return nullptr;
  }
  size_t count(std::string_view name) const {
    size_t n = 0;
    for (const auto& h : fields_) n += h.name == name ? 1 : 0;
    return n;
  }
  void remove(std::string_view name) {
    std::erase_if(fields_, [&](const Header& h) { return h.name == name; });
  }
  void set(std::string name, std::string value) {
    remove(name);
    add(std::move(name), std::move(value));
  }
  auto begin() const { return fields_.begin(); }
  auto end() const { return fields_.end(); }
  // Mutable iteration is for rewriting values; a name must stay lower-case.
  auto begin() { return fields_.begin(); }
  auto end() { return fields_.end(); }
  size_t size() const { return fields_.size(); }
  bool empty() const { return fields_.empty(); }
  void clear() { fields_.clear(); }
  void reserve(size_t n) { fields_.reserve(n); }

 private:
  std::vector<Header> fields_;
};

void toLowerAscii(std::string& s);
bool equalsIgnoreCase(std::string_view a, std::string_view b);
// True when the comma-separated list `value` contains `token` (case-insensitive).
bool headerHasToken(std::string_view value, std::string_view token);

}  // namespace aigw::http
