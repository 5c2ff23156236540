#include "cost/price_table.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "core/glob.h"
#include "core/json_field.h"

namespace aigw::cost {
namespace {

bool allDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// "-dddd-dd-dd" / "-dd-dd": digit groups of these sizes joined by '-'.
bool digitGroups(std::string_view s, std::initializer_list<size_t> sizes) {
  size_t pos = 0;
  for (size_t n : sizes) {
    if (pos >= s.size() || s[pos] != '-') return false;
    ++pos;
    if (pos + n > s.size() || !allDigits(s.substr(pos, n))) return false;
    pos += n;
  }
  return pos == s.size();
}

Price priceFrom(const std::string& name, const nlohmann::json& entry) {
  try {
    return Price{field<double>(entry, "input"), field<double>(entry, "output"), field<double>(entry, "cached_input")};
  } catch (const std::runtime_error& e) {
    throw std::runtime_error("pricing '" + name + "': " + e.what());
  }
}

}  // namespace

PriceTable PriceTable::fromJson(const nlohmann::json& table) {
  PriceTable t;
  if (!table.is_object()) throw std::runtime_error("pricing: expected an object");
  for (const auto& [name, entry] : table.items()) {
    const Price price = priceFrom(name, entry);
    if (name.find('*') == std::string::npos) {
      t.exact_[name] = price;
    } else {
      t.patterns_.push_back(Pattern{name, name.size() - 1, price});
    }
  }
  std::stable_sort(t.patterns_.begin(), t.patterns_.end(),
                   [](const Pattern& a, const Pattern& b) { return a.literal > b.literal; });
  return t;
}

const Price* PriceTable::findOne(std::string_view name) const {
  if (auto it = exact_.find(name); it != exact_.end()) return &it->second;
  for (const Pattern& p : patterns_) {
    if (globMatch(p.glob, name)) return &p.price;
  }
  return nullptr;
}

std::string_view stripVersionSuffix(std::string_view model) {
  const size_t dash = model.rfind('-');
  if (dash == std::string_view::npos || dash == 0) return model;
  const std::string_view last = model.substr(dash + 1);
  if (last == "latest" || last == "preview" || last == "exp") return model.substr(0, dash);
  if (allDigits(last) && (last.size() == 3 || last.size() == 4 || last.size() == 8)) return model.substr(0, dash);
  // Dates written with dashes: "-2024-08-06", and previews' "-05-20".
  if (model.size() > 11 && digitGroups(model.substr(model.size() - 11), {4, 2, 2})) {
    return model.substr(0, model.size() - 11);
  }
  if (model.size() > 6 && digitGroups(model.substr(model.size() - 6), {2, 2})) return model.substr(0, model.size() - 6);
  return model;
}

const Price* PriceTable::find(std::string_view model) const {
  if (model.empty() || empty()) return nullptr;
  for (int pass = 0; pass < 2; ++pass) {
    std::string_view name = model;
    if (pass == 1) {
      const size_t slash = model.rfind('/');
      if (slash == std::string_view::npos) break;
      name = model.substr(slash + 1);
    }
    // The name, then each shorter form without a version suffix ("-preview-05-20" is two).
    for (int i = 0; i < 4 && !name.empty(); ++i) {
      if (const Price* p = findOne(name)) return p;
      const std::string_view shorter = stripVersionSuffix(name);
      if (shorter.size() == name.size()) break;
      name = shorter;
    }
  }
  return nullptr;
}

double answerCost(const Price& price, const CallUsage& usage) {
  if (usage.prompt_tokens < 0 && usage.completion_tokens < 0) return -1;
  const double prompt = static_cast<double>(std::max<int64_t>(usage.prompt_tokens, 0));
  const double cached = std::min(static_cast<double>(std::max<int64_t>(usage.cached_tokens, 0)), prompt);
  const double completion = static_cast<double>(std::max<int64_t>(usage.completion_tokens, 0));
  return ((prompt - cached) * price.input + cached * price.cached_input + completion * price.output) / 1e6;
}

size_t formatUsd(double usd, char* buf, size_t size) {
  if (size == 0) return 0;
  if (!std::isfinite(usd) || usd < 0) usd = 0;
  int n = std::snprintf(buf, size, "%.10f", usd);
  if (n < 0) n = 0;
  size_t len = std::min(static_cast<size_t>(n), size - 1);
  if (std::string_view(buf, len).find('.') != std::string_view::npos) {
    while (len > 0 && buf[len - 1] == '0') --len;
    if (len > 0 && buf[len - 1] == '.') --len;
  }
  buf[len] = '\0';
  return len;
}

std::string formatUsd(double usd) {
  char buf[64];
  const size_t n = formatUsd(usd, buf, sizeof(buf));
  return std::string(buf, n);
}

}  // namespace aigw::cost
