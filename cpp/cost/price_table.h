// Model prices (USD per million tokens) compiled from the config's merged pricing table, and
// the cost of one answer's token usage. Read-only after construction; shared by all workers.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/call.h"

namespace aigw::cost {

// USD per million tokens.
struct Price {
  double input = 0;
  double output = 0;
  double cached_input = 0;  // a prompt token read from the provider's prompt cache
};

class PriceTable {
 public:
  // `table`: {"<model or pattern with one '*'>": {"input", "output", "cached_input"}, ...}.
  // Throws std::runtime_error on a malformed entry (Python validated it already).
  static PriceTable fromJson(const nlohmann::json& table);

  // The price of `model`, or null. Tried in order, each step exact names first, then patterns
  // (the one with the longest literal part first): the name; the name without version
  // suffixes (-2024-08-06, -20241022, -0613, -001, -latest, -preview ...); and the same two
  // again without a "provider/" prefix (the part after the last '/').
  const Price* find(std::string_view model) const;

  bool empty() const { return exact_.empty() && patterns_.empty(); }

 private:
  struct NameHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Pattern {
    std::string glob;
    size_t literal;  // characters other than '*': more is more specific
    Price price;
  };
  const Price* findOne(std::string_view name) const;

  std::unordered_map<std::string, Price, NameHash, std::equal_to<>> exact_;
  std::vector<Pattern> patterns_;
};

// `model` without one trailing version suffix ("-2024-08-06", "-20241022", "-0613", "-2411",
// "-001", "-05-20", "-latest", "-preview", "-exp"), or `model` itself when it has none.
std::string_view stripVersionSuffix(std::string_view model);

// USD for the usage of one answer at `price`: uncached prompt tokens at the input price,
// cached prompt tokens at the cached price, completion tokens at the output price.
// -1 when the usage has no token count at all. This is the one place cost is computed:
// a custom cost hook (with the Python hook layer) replaces its result.
double answerCost(const Price& price, const CallUsage& usage);

// Writes `usd` as a plain decimal (no exponent, at most 10 decimals, trailing zeros dropped:
// "0.000123", "1.5", "0") into `buf` and returns its length. `size` >= 32 is always enough
// for amounts below 1e12.
size_t formatUsd(double usd, char* buf, size_t size);
std::string formatUsd(double usd);

}  // namespace aigw::cost
