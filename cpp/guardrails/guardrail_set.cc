#include "guardrails/guardrail_set.h"

#include <algorithm>
#include <stdexcept>

#include "core/json_field.h"
#include "guardrails/builtins.h"
#include "router/route_table.h"

namespace aigw::guardrails {
namespace {

using nlohmann::json;

bool before(const Guardrail* a, const Guardrail* b) {
  const auto& x = a->settings();
  const auto& y = b->settings();
  return x.priority != y.priority ? x.priority < y.priority : x.index < y.index;
}

void insertSorted(std::vector<const Guardrail*>& list, const Guardrail* g) {
  list.insert(std::upper_bound(list.begin(), list.end(), g, before), g);
}

GuardrailSettings settingsFrom(const json& j, const std::string& where, std::vector<std::string>& problems) {
  GuardrailSettings s;
  s.name = field<std::string>(j, "name");
  s.kind = field<std::string>(j, "kind");
  s.stages = 0;
  for (const std::string& stage : field<std::vector<std::string>>(j, "stages")) {
    if (stage == "input") {
      s.stages |= static_cast<uint8_t>(Stage::Input);
    } else if (stage == "output") {
      s.stages |= static_cast<uint8_t>(Stage::Output);
    } else if (stage == "stream") {
      s.stages |= static_cast<uint8_t>(Stage::Stream);
    } else if (stage == "during") {
      s.stages |= static_cast<uint8_t>(Stage::During);
    } else {
      problems.push_back(where + ".stages: unknown stage '" + stage + "' (input, during, output, stream)");
    }
  }
  s.priority = field<int64_t>(j, "priority");
  const std::string action = field<std::string>(j, "action");
  if (action != "block" && action != "redact") problems.push_back(where + ".action: must be block or redact");
  s.redact = action == "redact";
  const std::string on_error = field<std::string>(j, "on_error");
  if (on_error != "block" && on_error != "allow") problems.push_back(where + ".on_error: must be block or allow");
  s.fail_open = on_error == "allow";
  s.is_default = field<bool>(j, "default");
  s.request_selectable = field<bool>(j, "request_selectable");
  s.passthrough = field<bool>(j, "passthrough");
  s.everywhere = field<bool>(j, "everywhere");
  const json& b = fieldValue(j, "block");
  s.block.status = field<int>(b, "status");
  s.block.message = fieldOrNone<std::string>(b, "message", "");
  s.block.type = field<std::string>(b, "type");
  s.block.code = field<std::string>(b, "code");
  return s;
}

}  // namespace

bool Selection::contains(const Guardrail* g) const {
  const auto& s = g->settings();
  const auto& list = s.at(Stage::Input)    ? input
                     : s.at(Stage::During) ? during
                     : s.at(Stage::Output) ? output
                                           : stream;
  return std::find(list.begin(), list.end(), g) != list.end();
}

void Selection::add(const Guardrail* g) {
  if (contains(g)) return;
  const auto& s = g->settings();
  if (s.at(Stage::Input)) insertSorted(input, g);
  if (s.at(Stage::During)) insertSorted(during, g);
  if (s.at(Stage::Output)) insertSorted(output, g);
  if (s.at(Stage::Stream)) {
    insertSorted(stream, g);
    window = std::max(window, g->lookback());
  }
}

std::unique_ptr<GuardrailSet> GuardrailSet::fromJson(const json& entries, const router::RouteTable& routes,
                                                    const std::unordered_map<std::string, const Provider*>& providers) {
  auto set = std::make_unique<GuardrailSet>();
  std::vector<std::string> problems;
  if (!entries.is_array()) throw std::runtime_error("guardrails: must be a list");
  for (size_t i = 0; i < entries.size(); ++i) {
    const json& j = entries[i];
    const std::string where = "guardrails[" + std::to_string(i) + "]";
    try {
      const size_t before = problems.size();
      GuardrailSettings s = settingsFrom(j, where, problems);
      s.index = static_cast<uint32_t>(i);
      if (problems.size() != before) continue;
      std::unique_ptr<Guardrail> g = makeBuiltin(std::move(s), j, where, providers, problems);
      if (!g) continue;
      set->by_name_[g->name()] = g.get();
      if (g->settings().at(Stage::During)) set->has_during_ = true;
      set->all_.push_back(std::move(g));
    } catch (const std::exception& e) {
      problems.push_back(where + ": " + e.what());
    }
  }
  for (const auto& g : set->all_) {
    if (g->settings().is_default) set->defaults_.add(g.get());
  }
  const auto& list = routes.routes();
  for (size_t i = 0; i < list.size(); ++i) {
    const router::Route& route = *list[i];
    if (!route.guardrails_given) continue;
    Selection sel;
    for (const std::string& name : route.guardrails) {
      const Guardrail* g = set->byName(name);
      if (g == nullptr) {
        problems.push_back("route '" + route.name + "'.guardrails: unknown guardrail '" + name + "'");
        continue;
      }
      sel.add(g);
    }
    for (const auto& g : set->all_) {
      if (g->settings().everywhere) sel.add(g.get());
    }
    set->routes_.emplace(&route, std::move(sel));
  }
  if (!problems.empty()) {
    std::string message = std::to_string(problems.size()) + " guardrail problem(s): ";
    for (size_t i = 0; i < problems.size(); ++i) message += (i ? "; " : "") + problems[i];
    throw std::runtime_error(message);
  }
  return set;
}

const Selection& GuardrailSet::forRoute(const router::Route* route) const {
  if (route != nullptr) {
    auto it = routes_.find(route);
    if (it != routes_.end()) return it->second;
  }
  return defaults_;
}

const Guardrail* GuardrailSet::byName(std::string_view name) const {
  auto it = by_name_.find(std::string(name));
  return it == by_name_.end() ? nullptr : it->second;
}

json GuardrailSet::statsJson() const {
  json out = json::object();
  for (const auto& g : all_) {
    const GuardrailCounters& c = g->counters();
    json stages = json::array();
    for (Stage s : {Stage::Input, Stage::During, Stage::Output, Stage::Stream}) {
      if (g->settings().at(s)) stages.push_back(stageName(s));
    }
    out[g->name()] = {{"kind", g->settings().kind},
                      {"stages", std::move(stages)},
                      {"runs", c.runs.load(std::memory_order_relaxed)},
                      {"blocks", c.blocks.load(std::memory_order_relaxed)},
                      {"redactions", c.redactions.load(std::memory_order_relaxed)},
                      {"errors", c.errors.load(std::memory_order_relaxed)},
                      {"timeouts", c.timeouts.load(std::memory_order_relaxed)},
                      {"duration_us", c.duration_us.load(std::memory_order_relaxed)},
                      {"upstream_cancels", c.upstream_cancels.load(std::memory_order_relaxed)}};
  }
  return out;
}

const char* stageName(Stage s) {
  switch (s) {
    case Stage::Input: return "input";
    case Stage::Output: return "output";
    case Stage::Stream: return "stream";
    case Stage::During: return "during";
  }
  return "input";
}

const char* verdictName(Verdict v) {
  switch (v) {
    case Verdict::Allow: return "allow";
    case Verdict::Block: return "block";
    case Verdict::Rewrite: return "rewrite";
    case Verdict::Redact: return "redact";
  }
  return "allow";
}

}  // namespace aigw::guardrails
