// Glob matching and the route table's name resolution. The input is lines: the requested model
// name, then up to eight routes ("name|alias|alias"). Properties:
//  - globMatch agrees with a reference matcher built differently (split the pattern at '*',
//    anchor the first and last pieces, find the others leftmost in between), for every route
//    name against the model and against each other; a one-'*' match captures exactly the
//    middle, a several-'*' match leaves `captured` alone;
//  - RouteTable::resolve picks what the documented order says (exact name or alias, else the
//    longest matching pattern, config order breaking ties), with the same captured part, and
//    the target's upstream model follows from it.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "../cpp/config_fixture.h"
#include "fuzz_check.h"
#include "providers/provider.h"
#include "core/glob.h"
#include "router/route_table.h"

namespace {

using aigw::globMatch;
using aigw::router::Route;
using aigw::router::RouteTable;

bool referenceGlob(std::string_view pattern, std::string_view text) {
  std::vector<std::string_view> pieces;
  size_t start = 0;
  while (true) {
    const size_t star = pattern.find('*', start);
    pieces.push_back(pattern.substr(start, star == std::string_view::npos ? std::string_view::npos : star - start));
    if (star == std::string_view::npos) break;
    start = star + 1;
  }
  if (pieces.size() == 1) return pattern == text;
  const std::string_view first = pieces.front(), last = pieces.back();
  if (text.size() < first.size() + last.size() || !text.starts_with(first) || !text.ends_with(last)) return false;
  std::string_view middle = text.substr(first.size(), text.size() - first.size() - last.size());
  for (size_t i = 1; i + 1 < pieces.size(); ++i) {
    const size_t at = middle.find(pieces[i]);
    if (at == std::string_view::npos) return false;
    middle.remove_prefix(at + pieces[i].size());
  }
  return true;
}

void checkGlob(std::string_view pattern, std::string_view text) {
  const std::string_view kUntouched = "untouched";
  std::string_view captured = kUntouched;
  const bool match = globMatch(pattern, text, &captured);
  FUZZ_CHECK(match == referenceGlob(pattern, text), "globMatch('%.*s', '%.*s') = %d", static_cast<int>(pattern.size()),
             pattern.data(), static_cast<int>(text.size()), text.data(), match);
  FUZZ_CHECK(globMatch(pattern, text) == match, "the answer depends on asking for the capture");
  const size_t stars = std::count(pattern.begin(), pattern.end(), '*');
  if (!match || stars != 1) {
    FUZZ_CHECK(captured.data() == kUntouched.data(), "captured set without a one-'*' match");
    return;
  }
  const size_t star = pattern.find('*');
  const std::string_view prefix = pattern.substr(0, star), suffix = pattern.substr(star + 1);
  FUZZ_CHECK(captured.size() == text.size() - prefix.size() - suffix.size() &&
                 captured.data() == text.data() + prefix.size(),
             "captured the wrong part");
}

// Routing never calls a provider; it only needs one to exist.
class NamedProvider final : public aigw::Provider {
 public:
  NamedProvider() : Provider("p") {}
  const char* kind() const override { return "named"; }
  aigw::ProviderCallPtr start(aigw::CallContext&, const aigw::CallRequest&, aigw::CallObserver&) const override {
    return nullptr;
  }
};

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    const size_t end = s.find(sep, start);
    out.push_back(s.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return out;
    start = end + 1;
  }
}

// The target model of route i: none (the captured part or the name), fixed, or with a '*'.
const char* targetModel(size_t i) {
  static const char* kModels[] = {nullptr, "fixed-model", "up-*-stream"};
  return kModels[i % 3];
}

// Whether Python's config would take these names (aigw/_config/route_checks.py): the core
// takes them as given, so the reference is only asked about tables a config can make.
bool validNames(const std::vector<std::vector<std::string_view>>& routes) {
  std::vector<std::string_view> seen;
  for (const auto& names : routes) {
    for (size_t i = 0; i < names.size(); ++i) {
      const size_t stars = std::count(names[i].begin(), names[i].end(), '*');
      if (names[i].empty() || stars > (i == 0 ? 1u : 0u)) return false;  // aliases are exact
      if (std::find(seen.begin(), seen.end(), names[i]) != seen.end()) return false;
      seen.push_back(names[i]);
    }
  }
  return true;
}

void checkResolve(std::string_view model, const std::vector<std::vector<std::string_view>>& routes) {
  if (!validNames(routes)) return;
  nlohmann::json doc = nlohmann::json::array();
  for (size_t i = 0; i < routes.size(); ++i) {
    nlohmann::json target = {{"type", "target"}, {"provider", "p"}};
    if (targetModel(i) != nullptr) target["model"] = targetModel(i);
    nlohmann::json route = {{"name", std::string(routes[i][0])}, {"plan", target}};
    nlohmann::json aliases = nlohmann::json::array();
    for (size_t a = 1; a < routes[i].size(); ++a) aliases.push_back(std::string(routes[i][a]));
    route["aliases"] = aliases;
    doc.push_back(route);
  }
  const NamedProvider provider;
  std::unique_ptr<RouteTable> table = RouteTable::fromJson(aigw::testing::completeRoutes(doc), {{"p", &provider}});
  // The reference: exact names and aliases first, then patterns, longest first, config order.
  const Route* want = nullptr;
  std::string want_captured;
  for (size_t i = 0; i < routes.size() && want == nullptr; ++i) {
    for (std::string_view name : routes[i]) {
      if (name.find('*') == std::string_view::npos && name == model) {
        want = table->routes()[i].get();
        want_captured = std::string(model);
        break;
      }
    }
  }
  if (want == nullptr) {
    std::vector<size_t> order;
    for (size_t i = 0; i < routes.size(); ++i) {
      if (routes[i][0].find('*') != std::string_view::npos) order.push_back(i);
    }
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return routes[a][0].size() > routes[b][0].size(); });
    for (size_t i : order) {
      const std::string_view name = routes[i][0];
      if (!referenceGlob(name, model)) continue;
      const size_t star = name.find('*');
      want = table->routes()[i].get();
      want_captured = std::string(model.substr(star, model.size() - (name.size() - 1)));
      break;
    }
  }
  std::string_view captured;
  const Route* got = table->resolve(model, &captured);
  FUZZ_CHECK(got == want, "resolve('%.*s') picked route '%s', not '%s'", static_cast<int>(model.size()), model.data(),
             got ? got->name.c_str() : "(none)", want ? want->name.c_str() : "(none)");
  if (got == nullptr) return;
  FUZZ_CHECK(captured == want_captured, "captured '%.*s', not '%s'", static_cast<int>(captured.size()),
             captured.data(), want_captured.c_str());
  const auto& target = *got->targets.front();
  const std::string upstream = target.upstreamModel(model, captured);
  std::string want_upstream = want_captured;
  if (!target.model.empty()) {
    const size_t star = target.model.find('*');
    want_upstream = star == std::string::npos ? target.model
                                              : target.model.substr(0, star) + want_captured + target.model.substr(star + 1);
  }
  FUZZ_CHECK(upstream == want_upstream, "upstream model '%s', not '%s'", upstream.c_str(), want_upstream.c_str());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> lines = split(input, '\n');
  const std::string_view model = lines[0];
  std::vector<std::vector<std::string_view>> routes;
  for (size_t i = 1; i < lines.size() && routes.size() < 8; ++i) {
    if (!lines[i].empty()) routes.push_back(split(lines[i], '|'));
  }
  for (const auto& names : routes) {
    for (std::string_view name : names) {
      checkGlob(name, model);
      checkGlob(model, name);
    }
  }
  checkResolve(model, routes);
  return 0;
}
