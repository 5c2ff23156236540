#include "cost/usage_book.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <map>
#include <tuple>
#include <vector>

namespace aigw::cost {
namespace {

// Sums of floating-point dollars pick up noise in the 17th digit: report whole picodollars.
double roundUsd(double usd) { return std::round(usd * 1e12) / 1e12; }

nlohmann::json totalsJson(const UsageTotals& t) {
  return {{"requests", t.requests},
          {"prompt_tokens", t.prompt_tokens},
          {"completion_tokens", t.completion_tokens},
          {"cached_tokens", t.cached_tokens},
          {"cost_usd", roundUsd(t.cost_usd)},
          {"unpriced_requests", t.unpriced_requests}};
}

}  // namespace

void UsageTotals::add(const UsageTotals& o) {
  requests += o.requests;
  prompt_tokens += o.prompt_tokens;
  completion_tokens += o.completion_tokens;
  cached_tokens += o.cached_tokens;
  cost_usd += o.cost_usd;
  unpriced_requests += o.unpriced_requests;
}

int32_t utcDay(uint64_t unix_seconds) { return static_cast<int32_t>(unix_seconds / 86400); }

std::string dayString(int32_t day) {
  const time_t t = static_cast<time_t>(day) * 86400;
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
  return buf;
}

size_t UsageBook::KeyHash::operator()(const KeyView& k) const {
  size_t h = std::hash<std::string_view>{}(k.model);
  h ^= std::hash<std::string_view>{}(k.provider) + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  h ^= static_cast<size_t>(k.day) + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  return h;
}

void UsageBook::record(int32_t day, std::string_view provider, std::string_view model, const CallUsage& usage,
                       double cost_usd) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = rows_.find(KeyView{day, provider, model});
  if (it == rows_.end()) it = rows_.emplace(Key{day, std::string(provider), std::string(model)}, UsageTotals{}).first;
  UsageTotals& t = it->second;
  ++t.requests;
  if (usage.prompt_tokens > 0) t.prompt_tokens += static_cast<uint64_t>(usage.prompt_tokens);
  if (usage.completion_tokens > 0) t.completion_tokens += static_cast<uint64_t>(usage.completion_tokens);
  if (usage.cached_tokens > 0) t.cached_tokens += static_cast<uint64_t>(usage.cached_tokens);
  if (cost_usd >= 0) {
    t.cost_usd += cost_usd;
  } else {
    ++t.unpriced_requests;
  }
}

std::string UsageBook::json(const Filter& filter) const {
  std::vector<std::tuple<std::string, std::string, std::string, UsageTotals>> rows;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    rows.reserve(rows_.size());
    for (const auto& [key, totals] : rows_) {
      if (!filter.provider.empty() && key.provider != filter.provider) continue;
      if (!filter.model.empty() && key.model != filter.model) continue;
      rows.emplace_back(std::string(), key.provider, key.model, totals);
      std::get<0>(rows.back()) = dayString(key.day);
      if (!filter.day.empty() && std::get<0>(rows.back()) != filter.day) rows.pop_back();
    }
  }
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
    return std::tie(std::get<0>(a), std::get<1>(a), std::get<2>(a)) <
           std::tie(std::get<0>(b), std::get<1>(b), std::get<2>(b));
  });
  UsageTotals total;
  std::map<std::string, UsageTotals> by_model, by_provider, by_day;
  nlohmann::json list = nlohmann::json::array();
  for (const auto& [day, provider, model, t] : rows) {
    total.add(t);
    by_model[model].add(t);
    by_provider[provider].add(t);
    by_day[day].add(t);
    nlohmann::json row = {{"day", day}, {"provider", provider}, {"model", model}};
    row.update(totalsJson(t));
    list.push_back(std::move(row));
  }
  auto group = [](const std::map<std::string, UsageTotals>& m) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [k, t] : m) out[k] = totalsJson(t);
    return out;
  };
  nlohmann::json j;
  j["total"] = totalsJson(total);
  j["by_model"] = group(by_model);
  j["by_provider"] = group(by_provider);
  j["by_day"] = group(by_day);
  j["rows"] = std::move(list);
  return j.dump();
}

}  // namespace aigw::cost
