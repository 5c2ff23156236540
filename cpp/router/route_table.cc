#include "router/route_table.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "core/json_field.h"
#include "providers/provider.h"
#include "core/glob.h"

namespace aigw::router {
namespace {

using nlohmann::json;

// Builds one route; every error names the route and, after it, where in the plan it is.
class RouteBuilder {
 public:
  RouteBuilder(Route& route, const std::unordered_map<std::string, const Provider*>& providers)
      : route_(route), providers_(providers) {}

  Node node(const json& j, const std::string& where) {
    if (!j.is_object()) fail("a plan node must be an object", where);
    Node n;
    const int64_t weight = getOr<int64_t>(j, "weight", 1);
    if (weight < 1 || weight > UINT32_MAX) fail("weight must be a positive integer", where);
    n.weight = static_cast<uint32_t>(weight);
    if (auto it = j.find("when"); it != j.end() && !it->is_null()) {
      if (!it->is_array()) fail("'when' must be a list of conditions", where);
      for (size_t i = 0; i < it->size(); ++i) {
        n.when.push_back(condition((*it)[i], where + ".when[" + std::to_string(i) + "]"));
      }
    }
    const std::string type = getOr<std::string>(j, "type", "");
    if (type == "target") {
      n.is_target = true;
      n.target = target(j, where);
    } else if (type == "group") {
      n.strategy = strategy(getOr<std::string>(j, "strategy", ""), where);
      auto children = j.find("children");
      if (children == j.end() || !children->is_array() || children->empty()) fail("empty group", where);
      for (size_t i = 0; i < children->size(); ++i) {
        n.children.push_back(node((*children)[i], where + ".children[" + std::to_string(i) + "]"));
      }
    } else {
      fail("unknown node type '" + type + "'", where);
    }
    return n;
  }

  [[noreturn]] void fail(const std::string& problem, const std::string& where = {}) const {
    throw std::runtime_error("route '" + route_.name + "': " + problem + (where.empty() ? "" : " (at " + where + ")"));
  }

 private:
  Target* target(const json& j, const std::string& where) {
    auto t = std::make_unique<Target>();
    const std::string provider = getOr<std::string>(j, "provider", "");
    auto it = providers_.find(provider);
    if (it == providers_.end()) fail("unknown provider '" + provider + "'", where);
    t->provider = it->second;
    t->model = getOr<std::string>(j, "model", "");
    if (std::count(t->model.begin(), t->model.end(), '*') > 1) {
      fail("target model '" + t->model + "' has more than one '*'", where);
    }
    t->label = provider + "/" + (t->model.empty() ? "*" : t->model);
    if (auto tr = j.find("transforms"); tr != j.end() && !tr->is_null()) {
      if (!tr->is_array()) fail("'transforms' must be a list", where);
      for (const json& x : *tr) {
        try {
          t->transforms.push_back(Transform::fromJson(x));
        } catch (const std::runtime_error& e) {
          fail(e.what(), where);
        }
      }
    }
    t->timeouts.connect_ms = getOr<uint64_t>(j, "connect_timeout_ms", 0);
    t->timeouts.first_byte_ms = getOr<uint64_t>(j, "first_byte_timeout_ms", 0);
    t->timeouts.idle_ms = getOr<uint64_t>(j, "idle_timeout_ms", 0);
    const int64_t max_in_flight = getOr<int64_t>(j, "max_in_flight", 0);
    const int64_t max_pending = getOr<int64_t>(j, "max_pending", 0);
    if (max_in_flight < 0 || max_pending < 0) fail("max_in_flight and max_pending cannot be negative", where);
    t->state = std::make_unique<TargetState>(breaker(j, where), max_in_flight, max_pending);
    route_.targets.push_back(std::move(t));
    return route_.targets.back().get();
  }

  BreakerSettings breaker(const json& target, const std::string& where) const {
    BreakerSettings b;
    auto it = target.find("breaker");
    if (it == target.end() || it->is_null()) return b;
    const json& j = *it;
    b.enabled = getOr<bool>(j, "enabled", b.enabled);
    b.consecutive_failures = getOr<uint32_t>(j, "consecutive_failures", b.consecutive_failures);
    b.failure_rate = getOr<double>(j, "failure_rate", b.failure_rate);
    b.min_requests = getOr<uint32_t>(j, "min_requests", b.min_requests);
    b.window_ms = getOr<uint64_t>(j, "window_ms", b.window_ms);
    b.ejection_ms = getOr<uint64_t>(j, "ejection_ms", b.ejection_ms);
    b.max_ejection_ms = getOr<uint64_t>(j, "max_ejection_ms", b.max_ejection_ms);
    if (b.failure_rate < 0 || b.failure_rate > 1) fail("breaker failure_rate must be within [0, 1]", where);
    if (b.failure_rate > 0 && b.window_ms == 0) fail("breaker window_ms must be positive", where);
    return b;
  }

  Condition condition(const json& j, const std::string& where) const {
    if (!j.is_object()) fail("a condition must be an object", where);
    Condition c;
    const std::string source = getOr<std::string>(j, "source", "");
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
    c.key = getOr<std::string>(j, "key", "");
    if (c.source != Condition::Source::Model && c.key.empty()) fail("condition on " + source + " needs a 'key'", where);
    // Header names are stored lower-cased (http::HeaderList).
    if (c.source == Condition::Source::Header) http::toLowerAscii(c.key);
    c.values = getOr<std::vector<std::string>>(j, "values", {});
    if (c.values.empty()) fail("condition without values", where);
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

RetryPolicy retryPolicy(const json& route, const RouteBuilder& b) {
  RetryPolicy p;
  auto it = route.find("retry");
  if (it == route.end() || it->is_null()) return p;
  const json& j = *it;
  p.attempts = getOr<int>(j, "attempts", p.attempts);
  p.on_connect = getOr<bool>(j, "on_connect", p.on_connect);
  p.on_timeout = getOr<bool>(j, "on_timeout", p.on_timeout);
  p.on_5xx = getOr<bool>(j, "on_5xx", p.on_5xx);
  p.on_429 = getOr<bool>(j, "on_429", p.on_429);
  p.backoff_base_ms = getOr<uint64_t>(j, "backoff_base_ms", p.backoff_base_ms);
  p.backoff_max_ms = getOr<uint64_t>(j, "backoff_max_ms", p.backoff_max_ms);
  p.budget_ratio = getOr<double>(j, "budget_ratio", p.budget_ratio);
  p.budget_min = getOr<int64_t>(j, "budget_min", p.budget_min);
  p.max_retry_after_ms = getOr<uint64_t>(j, "max_retry_after_ms", p.max_retry_after_ms);
  p.client_retries = getOr<bool>(j, "client_retries", p.client_retries);
  if (p.attempts < 1) b.fail("retry.attempts must be at least 1");
  if (p.budget_ratio < 0 || p.budget_min < 0) b.fail("the retry budget cannot be negative");
  return p;
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
  std::vector<json> fallbacks;  // resolved once every route exists
  for (size_t i = 0; i < routes.size(); ++i) {
    const json& j = routes[i];
    if (!j.is_object()) throw std::runtime_error("routes[" + std::to_string(i) + "] must be an object");
    auto route = std::make_unique<Route>();
    auto name = j.find("name");
    if (name == j.end() || !name->is_string() || name->get_ref<const std::string&>().empty()) {
      throw std::runtime_error("routes[" + std::to_string(i) + "]: missing name");
    }
    route->name = name->get<std::string>();
    RouteBuilder builder(*route, providers);
    try {
      const auto stars = std::count(route->name.begin(), route->name.end(), '*');
      if (stars > 1) builder.fail("more than one '*' in the name");
      route->pattern = stars == 1;
      route->aliases = getOr<std::vector<std::string>>(j, "aliases", {});
      for (const std::string& alias : route->aliases) {
        if (alias.empty() || alias.find('*') != std::string::npos) {
          builder.fail("alias '" + alias + "' must be a plain name");
        }
      }
      auto plan = j.find("plan");
      if (plan == j.end()) builder.fail("missing plan");
      route->plan = builder.node(*plan, "plan");
      route->retry = retryPolicy(j, builder);
      route->timeout_ms = getOr<uint64_t>(j, "timeout_ms", 0);
      if (auto g = j.find("guardrails"); g != j.end() && !g->is_null()) {
        route->guardrails = g->get<std::vector<std::string>>();
        route->guardrails_given = true;
      }
      fallbacks.push_back(getOr<json>(j, "fallbacks", json::object()));
      if (!fallbacks.back().is_object()) builder.fail("'fallbacks' must be an object");
    } catch (const json::exception& e) {
      builder.fail(e.what());
    }
    table->routes_.push_back(std::move(route));
  }

  for (size_t i = 0; i < table->routes_.size(); ++i) {
    Route& route = *table->routes_[i];
    RouteBuilder builder(route, providers);
    for (const auto& [kind, target] : fallbacks[i].items()) {
      const Route** slot = kind == "context_window_exceeded"    ? &route.fallback_context_window
                           : kind == "content_policy_violation" ? &route.fallback_content_policy
                           : kind == "unavailable"              ? &route.fallback_unavailable
                                                                : nullptr;
      if (!slot) builder.fail("unknown fallback '" + kind + "'");
      if (!target.is_string()) builder.fail("fallback '" + kind + "' must name a route");
      const std::string name = target.get<std::string>();
      const Route* to = table->byName(name);
      if (!to) builder.fail("fallback '" + kind + "' names an unknown route '" + name + "'");
      if (to == &route) builder.fail("fallback '" + kind + "' names the route itself");
      *slot = to;
    }
  }

  std::vector<std::string_view> pattern_names;
  for (const auto& route : table->routes_) {
    std::vector<std::string_view> names{route->name};
    names.insert(names.end(), route->aliases.begin(), route->aliases.end());
    for (std::string_view name : names) {
      const bool pattern = name.find('*') != std::string_view::npos;
      const bool taken = pattern ? std::find(pattern_names.begin(), pattern_names.end(), name) != pattern_names.end()
                                 : table->exact_.count(name) > 0;
      if (taken) {
        throw std::runtime_error("route '" + route->name + "': the name '" + std::string(name) + "' is already taken");
      }
      if (pattern) {
        pattern_names.push_back(name);
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
