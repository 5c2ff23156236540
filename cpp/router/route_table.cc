#include "router/route_table.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <iterator>
#include <stdexcept>

#include "core/glob.h"
#include "core/json_field.h"
#include "providers/provider.h"

namespace aigw::router {
namespace {

using nlohmann::json;

// An error that already names its route (and where in the plan it is).
struct RouteError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Builds one route; every error names the route and, after it, where in the plan it is.
class RouteBuilder {
 public:
  RouteBuilder(Route& route, const std::unordered_map<std::string, const Provider*>& providers)
      : route_(route), providers_(providers) {}

  // The error of `read` (a missing field, a wrong type ...), named after the route and `where`.
  template <typename Read>
  auto within(const std::string& where, Read&& read) -> decltype(read()) {
    try {
      return read();
    } catch (const RouteError&) {
      throw;
    } catch (const std::exception& e) {
      fail(e.what(), where);
    }
  }

  Node node(const json& j, const std::string& where) {
    return within(where, [&] { return readNode(j, where); });
  }

  [[noreturn]] void fail(const std::string& problem, const std::string& where = {}) const {
    throw RouteError("route '" + route_.name + "': " + problem + (where.empty() ? "" : " (at " + where + ")"));
  }

 private:
  Node readNode(const json& j, const std::string& where) {
    Node n;
    const std::string type = field<std::string>(j, "type");
    if (type != "target" && type != "group") fail("unknown node type '" + type + "'", where);
    n.weight = field<uint32_t>(j, "weight");
    if (const json& when = fieldValue(j, "when"); !when.is_null()) {
      for (size_t i = 0; i < when.size(); ++i) {
        n.when.push_back(condition(when[i], where + ".when[" + std::to_string(i) + "]"));
      }
    }
    if (type == "target") {
      n.is_target = true;
      n.target = target(j, where);
    } else if (type == "group") {
      n.strategy = strategy(field<std::string>(j, "strategy"), where);
      const json& children = fieldValue(j, "children");
      for (size_t i = 0; i < children.size(); ++i) {
        n.children.push_back(node(children[i], where + ".children[" + std::to_string(i) + "]"));
      }
    }
    return n;
  }

  Target* target(const json& j, const std::string& where) {
    auto t = std::make_unique<Target>();
    const std::string provider = field<std::string>(j, "provider");
    auto it = providers_.find(provider);
    if (it == providers_.end()) fail("unknown provider '" + provider + "'", where);
    t->provider = it->second;
    t->model = fieldOrNone<std::string>(j, "model", "");
    t->label = provider + "/" + (t->model.empty() ? "*" : t->model);
    for (const json& x : fieldValue(j, "transforms")) t->transforms.push_back(Transform::fromJson(x));
    t->timeouts.connect_ms = field<uint64_t>(j, "connect_timeout_ms");
    t->timeouts.first_byte_ms = field<uint64_t>(j, "first_byte_timeout_ms");
    t->timeouts.idle_ms = field<uint64_t>(j, "idle_timeout_ms");
    t->state = std::make_unique<TargetState>(breaker(fieldValue(j, "breaker")), field<int64_t>(j, "max_in_flight"),
                                             field<int64_t>(j, "max_pending"));
    route_.targets.push_back(std::move(t));
    return route_.targets.back().get();
  }

  static BreakerSettings breaker(const json& j) {
    BreakerSettings b;
    b.enabled = field<bool>(j, "enabled");
    b.consecutive_failures = field<uint32_t>(j, "consecutive_failures");
    b.failure_rate = field<double>(j, "failure_rate");
    b.min_requests = field<uint32_t>(j, "min_requests");
    b.window_ms = field<uint64_t>(j, "window_ms");
    b.ejection_ms = field<uint64_t>(j, "ejection_ms");
    b.max_ejection_ms = field<uint64_t>(j, "max_ejection_ms");
    return b;
  }

  Condition condition(const json& j, const std::string& where) const {
    Condition c;
    const std::string source = field<std::string>(j, "source");
    if (source == "model") {
      c.source = Condition::Source::Model;
    } else if (source == "header") {
      c.source = Condition::Source::Header;
    } else if (source == "metadata") {
      c.source = Condition::Source::Metadata;
    } else {
      fail("unknown condition source '" + source + "'", where);
    }
    if (c.source == Condition::Source::Metadata) route_.needs_metadata = true;
    c.key = field<std::string>(j, "key");
    // Header names are stored lower-cased (http::HeaderList).
    if (c.source == Condition::Source::Header) http::toLowerAscii(c.key);
    c.values = field<std::vector<std::string>>(j, "values");
    return c;
  }

  Strategy strategy(const std::string& name, const std::string& where) const {
    static const std::pair<const char*, Strategy> kStrategies[] = {
        {"single", Strategy::Single},           {"fallback", Strategy::Fallback},
        {"weighted", Strategy::Weighted},       {"conditional", Strategy::Conditional},
        {"least_latency", Strategy::LeastLatency}, {"least_busy", Strategy::LeastBusy}};
    for (const auto& [n, s] : kStrategies) {
      if (name == n) return s;
    }
    fail("unknown strategy '" + name + "'", where);
  }

  Route& route_;
  const std::unordered_map<std::string, const Provider*>& providers_;
};

RetryPolicy retryPolicy(const json& j) {
  RetryPolicy p;
  p.attempts = field<int>(j, "attempts");
  p.on_connect = field<bool>(j, "on_connect");
  p.on_timeout = field<bool>(j, "on_timeout");
  p.on_5xx = field<bool>(j, "on_5xx");
  p.on_429 = field<bool>(j, "on_429");
  p.backoff_base_ms = field<uint64_t>(j, "backoff_base_ms");
  p.backoff_max_ms = field<uint64_t>(j, "backoff_max_ms");
  p.budget_ratio = field<double>(j, "budget_ratio");
  p.budget_min = field<int64_t>(j, "budget_min");
  p.max_retry_after_ms = field<uint64_t>(j, "max_retry_after_ms");
  p.client_retries = field<bool>(j, "client_retries");
  return p;
}

// The error classes a route may fall back on, as the config names them.
constexpr const char* kFallbackKinds[] = {"context_window_exceeded", "content_policy_violation", "unavailable"};

// The route each error class falls back to, by name ("": none): resolved once every route exists.
using FallbackNames = std::array<std::string, std::size(kFallbackKinds)>;

FallbackNames fallbackNames(const json& j) {
  FallbackNames names;
  for (size_t k = 0; k < names.size(); ++k) names[k] = fieldOrNone<std::string>(j, kFallbackKinds[k], "");
  return names;
}

}  // namespace

const char* strategyName(Strategy s) {
  switch (s) {
    case Strategy::Single: return "single";
    case Strategy::Fallback: return "fallback";
    case Strategy::Weighted: return "weighted";
    case Strategy::Conditional: return "conditional";
    case Strategy::LeastLatency: return "least_latency";
    case Strategy::LeastBusy: return "least_busy";
  }
  return "single";
}

void TargetState::recordTtfb(uint64_t ttfb_us) {
  const auto sample = static_cast<int64_t>(ttfb_us);
  int64_t current = ewma_ttfb_us.load(std::memory_order_relaxed);
  int64_t next;
  do {
    next = current < 0 ? sample : std::llround(0.8 * static_cast<double>(current) + 0.2 * static_cast<double>(sample));
  } while (!ewma_ttfb_us.compare_exchange_weak(current, next, std::memory_order_relaxed));
}

void TargetState::setLastError(std::string error, uint64_t wall_ms) {
  std::lock_guard<std::mutex> lock(error_mu_);
  last_error_ = std::move(error);
  last_error_ms_ = wall_ms;
}

std::string TargetState::lastError(uint64_t* wall_ms) const {
  std::lock_guard<std::mutex> lock(error_mu_);
  if (wall_ms) *wall_ms = last_error_ms_;
  return last_error_;
}

std::string Target::upstreamModel(std::string_view requested, std::string_view captured) const {
  // For exact routes `captured` is the requested name, so one rule covers both kinds.
  if (model.empty()) return std::string(captured);
  const size_t star = model.find('*');
  if (star == std::string::npos) return model;
  std::string out = model.substr(0, star);
  out += captured;
  out += std::string_view(model).substr(star + 1);
  return out;
}

std::unique_ptr<RouteTable> RouteTable::fromJson(const nlohmann::json& routes,
                                                 const std::unordered_map<std::string, const Provider*>& providers) {
  if (!routes.is_array()) throw std::runtime_error("routes must be a list");
  auto table = std::make_unique<RouteTable>();
  std::vector<FallbackNames> fallbacks;  // resolved once every route exists
  for (size_t i = 0; i < routes.size(); ++i) {
    const json& j = routes[i];
    auto route = std::make_unique<Route>();
    try {
      route->name = field<std::string>(j, "name");
    } catch (const std::runtime_error& e) {
      throw std::runtime_error("routes[" + std::to_string(i) + "]: " + e.what());
    }
    RouteBuilder builder(*route, providers);
    builder.within({}, [&] {
      route->pattern = route->name.find('*') != std::string::npos;
      route->aliases = field<std::vector<std::string>>(j, "aliases");
      route->plan = builder.node(fieldValue(j, "plan"), "plan");
      route->retry = retryPolicy(fieldValue(j, "retry"));
      route->timeout_ms = field<uint64_t>(j, "timeout_ms");
      route->drop_params = field<std::vector<std::string>>(j, "drop_params");
      if (const json& g = fieldValue(j, "guardrails"); !g.is_null()) {
        route->guardrails = g.get<std::vector<std::string>>();
        route->guardrails_given = true;
      }
      fallbacks.push_back(fallbackNames(fieldValue(j, "fallbacks")));
    });
    table->routes_.push_back(std::move(route));
  }

  for (size_t i = 0; i < table->routes_.size(); ++i) {
    Route& route = *table->routes_[i];
    RouteBuilder builder(route, providers);
    const Route** slots[] = {&route.fallback_context_window, &route.fallback_content_policy,
                             &route.fallback_unavailable};
    for (size_t k = 0; k < std::size(slots); ++k) {
      const std::string& name = fallbacks[i][k];
      if (name.empty()) continue;
      *slots[k] = table->byName(name);
      if (*slots[k] == nullptr) {
        builder.fail(std::string("fallback '") + kFallbackKinds[k] + "' names an unknown route '" + name + "'");
      }
    }
  }

  for (const auto& route : table->routes_) {
    std::vector<std::string_view> names{route->name};
    names.insert(names.end(), route->aliases.begin(), route->aliases.end());
    for (std::string_view name : names) {
      if (name.find('*') != std::string_view::npos) {
        table->patterns_.push_back(route.get());
      } else {
        table->exact_.emplace(std::string(name), route.get());
        table->listed_.emplace_back(name);
        table->listed_routes_.push_back(route.get());
      }
    }
  }
  // The more literal characters a pattern has, the more specific it is.
  std::stable_sort(table->patterns_.begin(), table->patterns_.end(),
                   [](const Route* a, const Route* b) { return a->name.size() > b->name.size(); });
  return table;
}

const Route* RouteTable::resolve(std::string_view model, std::string_view* captured) const {
  if (auto it = exact_.find(model); it != exact_.end()) {
    if (captured) *captured = model;
    return it->second;
  }
  for (const Route* route : patterns_) {
    if (globMatch(route->name, model, captured)) return route;
  }
  return nullptr;
}

const Route* RouteTable::byName(std::string_view name) const {
  for (const auto& route : routes_) {
    if (route->name == name) return route.get();
  }
  return nullptr;
}

}  // namespace aigw::router
