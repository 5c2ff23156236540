// pick() and unavailableReason(): the runtime half of the route table (route_table.h).
#include <algorithm>
#include <cstdio>
#include <limits>

#include "core/glob.h"
#include "router/route_table.h"

namespace aigw::router {
namespace {

bool contains(const std::vector<const Target*>* list, const Target* t) {
  return list && std::find(list->begin(), list->end(), t) != list->end();
}

bool anyGlob(const std::vector<std::string>& globs, std::string_view text) {
  return std::any_of(globs.begin(), globs.end(), [&](const std::string& g) { return globMatch(g, text); });
}

// One pass of a pick: either avoiding the targets this request saw fail, or allowing them.
class Picker {
 public:
  Picker(const PickInput& in, bool allow_failed) : in_(in), allow_failed_(allow_failed) {}

  const Target* choose(const Node& node) const {
    if (node.is_target) return available(*node.target) ? node.target : nullptr;
    std::vector<const Node*> order;
    for (const Node& child : node.children) {
      if (node.strategy == Strategy::Conditional && !matches(child.when)) continue;
      if (eligible(child)) order.push_back(&child);
    }
    switch (node.strategy) {
      case Strategy::Single:
      case Strategy::Fallback:
      case Strategy::Conditional:
        break;  // config order
      case Strategy::Weighted:
        order = weightedOrder(std::move(order));
        break;
      case Strategy::LeastLatency:
        // An untried target (no sample) counts as the fastest, so every target gets measured.
        std::stable_sort(order.begin(), order.end(),
                         [&](const Node* a, const Node* b) { return minLatency(*a) < minLatency(*b); });
        break;
      case Strategy::LeastBusy:
        if (in_.rng) std::shuffle(order.begin(), order.end(), *in_.rng);  // ties at random
        std::stable_sort(order.begin(), order.end(),
                         [&](const Node* a, const Node* b) { return busy(*a) < busy(*b); });
        break;
    }
    // Each eligible child can serve; trying the rest in order only matters when another worker
    // changed a target's state between the eligibility check and the descent.
    for (const Node* child : order) {
      if (const Target* t = choose(*child)) return t;
    }
    return nullptr;
  }

 private:
  bool available(const Target& t) const {
    const TargetState& s = *t.state;
    return in_.now_ns >= s.not_before_ns.load(std::memory_order_relaxed) && !contains(in_.skip, &t) &&
           (allow_failed_ || !contains(in_.failed, &t)) && s.breaker.available(in_.now_ns);
  }

  // Calls f(target) for every available target `node` could pick from.
  template <typename F>
  void forEachAvailable(const Node& node, F&& f) const {
    if (node.is_target) {
      if (available(*node.target)) f(*node.target);
      return;
    }
    for (const Node& child : node.children) {
      if (node.strategy == Strategy::Conditional && !matches(child.when)) continue;
      forEachAvailable(child, f);
    }
  }

  bool eligible(const Node& node) const {
    bool any = false;
    forEachAvailable(node, [&](const Target&) { any = true; });
    return any;
  }

  int64_t minLatency(const Node& node) const {
    int64_t best = std::numeric_limits<int64_t>::max();
    forEachAvailable(node, [&](const Target& t) {
      best = std::min<int64_t>(best, std::max<int64_t>(0, t.state->ewma_ttfb_us.load(std::memory_order_relaxed)));
    });
    return best;
  }

  int64_t busy(const Node& node) const {
    int64_t sum = 0;
    forEachAvailable(node, [&](const Target& t) { sum += t.state->in_flight.load(std::memory_order_relaxed); });
    return sum;
  }

  // A weighted random draw without replacement: the first is the pick, the rest are spares.
  std::vector<const Node*> weightedOrder(std::vector<const Node*> pool) const {
    if (!in_.rng) return pool;
    std::vector<const Node*> order;
    while (!pool.empty()) {
      uint64_t total = 0;
      for (const Node* n : pool) total += n->weight;
      uint64_t r = std::uniform_int_distribution<uint64_t>(0, total - 1)(*in_.rng);
      auto it = pool.begin();
      while (r >= (*it)->weight) r -= (*it++)->weight;
      order.push_back(*it);
      pool.erase(it);
    }
    return order;
  }

  bool matches(const std::vector<Condition>& when) const {
    return std::all_of(when.begin(), when.end(), [&](const Condition& c) { return matches(c); });
  }

  bool matches(const Condition& c) const {
    switch (c.source) {
      case Condition::Source::Model:
        return anyGlob(c.values, in_.model);
      case Condition::Source::Header: {
        const std::string* value = in_.headers ? in_.headers->find(c.key) : nullptr;
        return value && anyGlob(c.values, *value);
      }
      case Condition::Source::Metadata: {
        if (!in_.metadata || !in_.metadata->is_object()) return false;
        auto it = in_.metadata->find(c.key);
        if (it == in_.metadata->end()) return false;
        if (it->is_string()) return anyGlob(c.values, it->get_ref<const std::string&>());
        if (it->is_number() || it->is_boolean()) return anyGlob(c.values, it->dump());
        return false;
      }
    }
    return false;
  }

  const PickInput& in_;
  const bool allow_failed_;
};

std::string seconds(uint64_t ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", static_cast<double>(ms) / 1000.0);
  return buf;
}

std::string targetReason(const Target& t, uint64_t now_ns) {
  const TargetState& s = *t.state;
  const CircuitBreaker::Snapshot b = s.breaker.snapshot(now_ns);
  if (b.state == BreakerState::Open) {
    const BreakerSettings& settings = s.breaker.settings();
    const bool by_count = settings.consecutive_failures > 0 && b.consecutive_failures >= settings.consecutive_failures;
    return "ejected for " + seconds(b.ejected_for_ms) + " (" +
           (by_count ? std::to_string(b.consecutive_failures) + " consecutive failures"
                     : std::to_string(b.window_failures) + " of " + std::to_string(b.window_requests) +
                           " recent requests failed") +
           ")";
  }
  if (b.state == BreakerState::HalfOpen && !s.breaker.available(now_ns)) return "half-open, a probe is in flight";
  const uint64_t not_before = s.not_before_ns.load(std::memory_order_relaxed);
  if (now_ns < not_before) {
    return "rate-limited by the provider for " + seconds((not_before - now_ns + 999999) / 1000000) +
           " more (Retry-After)";
  }
  const ConcurrencyLimit& limit = s.limit;
  if (limit.maxInFlight() > 0 && limit.inFlight() >= limit.maxInFlight()) {
    return "at its concurrency cap (" + std::to_string(limit.inFlight()) + " in flight, " +
           std::to_string(limit.pending()) + " pending)";
  }
  return "available";
}

}  // namespace

const Target* pick(const Route& route, const PickInput& in) {
  if (const Target* t = Picker(in, false).choose(route.plan)) return t;
  if (!in.failed || in.failed->empty()) return nullptr;
  return Picker(in, true).choose(route.plan);
}

std::string unavailableReason(const Route& route, uint64_t now_ns) {
  std::string out;
  for (const auto& t : route.targets) {
    if (!out.empty()) out += "; ";
    out += t->label + ": " + targetReason(*t, now_ns);
  }
  return out;
}

}  // namespace aigw::router
