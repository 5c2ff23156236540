// Token and cost totals of answered requests, by UTC day, provider and model: what
// gw.usage() and GET /v1/usage report. Shared by every worker of one gateway.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/call.h"

namespace aigw::cost {

struct UsageTotals {
  uint64_t requests = 0;
  uint64_t prompt_tokens = 0;
  uint64_t completion_tokens = 0;
  uint64_t cached_tokens = 0;
  double cost_usd = 0;
  uint64_t unpriced_requests = 0;  // answered, but no cost: no usage reported or no price known

  void add(const UsageTotals& o);
};

// Days since 1970-01-01 (UTC) of a Unix time, and back to "YYYY-MM-DD".
int32_t utcDay(uint64_t unix_seconds);
std::string dayString(int32_t day);

class UsageBook {
 public:
  // Thread-safe; one short critical section. Allocates only for a (day, provider, model) it has
  // not seen. `cost_usd` < 0: unknown.
  void record(int32_t day, std::string_view provider, std::string_view model, const CallUsage& usage, double cost_usd);

  // Empty fields match everything.
  struct Filter {
    std::string_view day;  // "YYYY-MM-DD"
    std::string_view provider;
    std::string_view model;
  };
  // {"total": T, "by_model": {model: T}, "by_provider": {provider: T}, "by_day": {day: T},
  //  "rows": [{"day", "provider", "model", ...T}]}, T = the fields of UsageTotals.
  std::string json(const Filter& filter = {}) const;

 private:
  struct Key {
    int32_t day;
    std::string provider;
    std::string model;
  };
  struct KeyView {
    int32_t day;
    std::string_view provider;
    std::string_view model;
  };
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(const KeyView& k) const;
    size_t operator()(const Key& k) const { return (*this)(KeyView{k.day, k.provider, k.model}); }
  };
  struct KeyEq {
    using is_transparent = void;
    static KeyView view(const Key& k) { return {k.day, k.provider, k.model}; }
    static KeyView view(const KeyView& k) { return k; }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      const KeyView x = view(a), y = view(b);
      return x.day == y.day && x.provider == y.provider && x.model == y.model;
    }
  };

  mutable std::mutex mutex_;
  std::unordered_map<Key, UsageTotals, KeyHash, KeyEq> rows_;
};

}  // namespace aigw::cost
