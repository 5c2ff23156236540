#include "core/glob.h"

namespace aigw {

bool globMatch(std::string_view pattern, std::string_view text, std::string_view* captured) {
  const size_t star = pattern.find('*');
  if (star == std::string_view::npos) return pattern == text;
  if (pattern.find('*', star + 1) == std::string_view::npos) {
    // One '*' (every route pattern): a prefix and a suffix that must not overlap.
    const std::string_view prefix = pattern.substr(0, star);
    const std::string_view suffix = pattern.substr(star + 1);
    if (text.size() < prefix.size() + suffix.size() || !text.starts_with(prefix) || !text.ends_with(suffix)) {
      return false;
    }
    if (captured) *captured = text.substr(prefix.size(), text.size() - prefix.size() - suffix.size());
    return true;
  }
  // Several '*': greedy matching that backtracks only to the last '*' seen, which is enough
  // because a later '*' can absorb anything an earlier one would have.
  size_t p = 0, t = 0;
  size_t last_star = std::string_view::npos, resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      last_star = p++;
      resume = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (last_star != std::string_view::npos) {
      p = last_star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace aigw
