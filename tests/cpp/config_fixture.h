// Core config documents for C++ tests, as Python emits them: the core has no defaults of its
// own, so a test either loads a fixture or writes the fields it is about and completes the rest.
//
// tests/cpp/fixtures/<name>.json is the core document of <name>.yaml beside it, written by
// tests/python/config/test_cpp_fixtures.py (which fails when one is stale):
//   mock   the mock provider for "mock-gpt" and "*" (gateway_fixture.h: mockConfig)
//   parts  one part of each kind at the schema's defaults: what complete*() fills in
//   full   every section and field set: what config_test.cc takes apart
// Free of GoogleTest: the fuzz targets use it too.
#pragma once

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace aigw::testing {

// The repository's root, from where this header is, tests/cpp (CMake compiles with absolute
// paths, so the tests find their files from any working directory).
inline std::string sourceRoot() {
  const std::string here = __FILE__;
  return here.substr(0, here.rfind('/')) + "/../..";
}

inline nlohmann::json readJsonFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  return nlohmann::json::parse(text.str());
}

// tests/cpp/fixtures/<name>.json.
inline nlohmann::json fixture(const std::string& name) {
  return readJsonFile(sourceRoot() + "/tests/cpp/fixtures/" + name + ".json");
}

// The embedded default config's document (python/aigw/data/default_core.json).
inline nlohmann::json defaultCoreDocument() {
  return readJsonFile(sourceRoot() + "/python/aigw/data/default_core.json");
}

// `base` with the fields of `given` over it, objects field by field (arrays and values are
// replaced; a null in `given` is kept, unlike a JSON merge patch).
inline nlohmann::json overlay(nlohmann::json base, const nlohmann::json& given) {
  if (!base.is_object() || !given.is_object()) return given;
  for (const auto& [key, value] : given.items()) {
    base[key] = base.contains(key) ? overlay(base[key], value) : value;
  }
  return base;
}

namespace detail {

inline const nlohmann::json& parts() {
  static const nlohmann::json p = fixture("parts");
  return p;
}

// A part without the fields that say which thing it is: a test that leaves one out gets an
// error, not the part's.
inline nlohmann::json anonymous(nlohmann::json part, std::initializer_list<const char*> identity) {
  for (const char* key : identity) part.erase(key);
  return part;
}

inline const nlohmann::json* partOfKind(const char* section, const nlohmann::json& given) {
  if (!given.is_object() || !given.contains("kind")) return nullptr;
  for (const auto& part : parts()[section]) {
    if (part["kind"] == given["kind"]) return &part;
  }
  return nullptr;
}

}  // namespace detail

using Completion = nlohmann::json (*)(const nlohmann::json&);

// Each item of a list completed (anything else as given).
inline nlohmann::json completeEach(const nlohmann::json& given, Completion complete) {
  if (!given.is_array()) return given;
  nlohmann::json out = nlohmann::json::array();
  for (const auto& item : given) out.push_back(complete(item));
  return out;
}

// A request transform with the fields it leaves out ("op" and "path" are the test's).
inline nlohmann::json completeTransform(const nlohmann::json& given) {
  const nlohmann::json& part = detail::parts()["routes"][2]["plan"]["children"][0]["transforms"][0];
  return given.is_object() ? overlay(detail::anonymous(part, {"op", "path"}), given) : given;
}

// A condition of a `when` list with the fields it leaves out ("source" and "values" are the
// test's; a model condition has no key).
inline nlohmann::json completeCondition(const nlohmann::json& given) {
  const nlohmann::json& part = detail::parts()["routes"][3]["plan"]["children"][0]["when"][0];
  return given.is_object() ? overlay(detail::anonymous(part, {"source", "values"}), given) : given;
}

// A plan node ("type": "target" or "group", children included) with the fields it leaves out.
inline nlohmann::json completeNode(const nlohmann::json& given) {
  const nlohmann::json& one_target = detail::parts()["routes"][0]["plan"]["children"][0];
  const nlohmann::json& group = detail::parts()["routes"][1]["plan"];
  const std::string type = given.is_object() ? given.value("type", "") : "";
  if (type != "target" && type != "group") return given;
  nlohmann::json out = type == "target" ? overlay(detail::anonymous(one_target, {"provider"}), given)
                                        : overlay(detail::anonymous(group, {"strategy", "children"}), given);
  const std::pair<const char*, Completion> lists[] = {
      {"transforms", completeTransform}, {"when", completeCondition}, {"children", completeNode}};
  for (const auto& [key, complete] : lists) {
    if (given.contains(key)) out[key] = completeEach(given[key], complete);
  }
  return out;
}

// A route (its plan included) with the fields it leaves out.
inline nlohmann::json completeRoute(const nlohmann::json& given) {
  nlohmann::json out = overlay(detail::anonymous(detail::parts()["routes"][0], {"name", "plan"}), given);
  if (given.is_object() && given.contains("plan")) out["plan"] = completeNode(given["plan"]);
  return out;
}

inline nlohmann::json completeRoutes(const nlohmann::json& given) { return completeEach(given, completeRoute); }

// A guardrail of a known kind with the fields it leaves out. What a guardrail checks (its
// phrases, patterns, presets, limits) is the test's to say: left out, it is empty.
inline nlohmann::json completeGuardrail(const nlohmann::json& given) {
  const nlohmann::json* part = detail::partOfKind("guardrails", given);
  if (part == nullptr) return given;
  nlohmann::json base = detail::anonymous(*part, {"name", "provider"});
  for (const char* key : {"phrases", "patterns", "presets"}) {
    if (base.contains(key)) base[key] = nlohmann::json::array();
  }
  for (const char* key : {"max_input_tokens", "max_messages", "max_input_bytes"}) {
    if (base.contains(key)) base[key] = 0;
  }
  return overlay(base, given);
}

inline nlohmann::json completeGuardrails(const nlohmann::json& given) {
  return completeEach(given, completeGuardrail);
}

inline nlohmann::json completeProvider(const nlohmann::json& given) {
  const nlohmann::json* part = detail::partOfKind("providers", given);
  return part == nullptr ? given : overlay(detail::anonymous(*part, {"name", "base_url"}), given);
}

// The server section; a `tls` object gets the fields it leaves out too.
inline nlohmann::json completeServer(const nlohmann::json& given) {
  const nlohmann::json& part = detail::parts()["server"];
  nlohmann::json out = overlay(detail::anonymous(part, {"tls"}), given);
  out["tls"] = nullptr;
  if (given.is_object() && given.contains("tls")) {
    const nlohmann::json& tls = given["tls"];
    out["tls"] = tls.is_object() ? overlay(detail::anonymous(part["tls"], {"cert", "key"}), tls) : tls;
  }
  return out;
}

// A whole core document with every field it leaves out: sections from the parts fixture,
// each provider, route and guardrail completed. `default_provider` left out is chosen as
// Python chooses it (Config.effective_default_provider): the first openai provider, else the
// first one.
inline nlohmann::json completeConfig(const nlohmann::json& given) {
  const nlohmann::json& p = detail::parts();
  nlohmann::json out = overlay(nlohmann::json{{"version", p["version"]},
                                              {"providers", nlohmann::json::array()},
                                              {"routes", nlohmann::json::array()},
                                              {"pricing", nlohmann::json::object()},
                                              {"guardrails", nlohmann::json::array()},
                                              {"hooks", p["hooks"]},
                                              {"log", p["log"]}},
                               given);
  out["server"] = completeServer(given.value("server", nlohmann::json::object()));
  const nlohmann::json providers = out["providers"] = completeEach(out["providers"], completeProvider);
  out["routes"] = completeRoutes(out["routes"]);
  out["guardrails"] = completeGuardrails(out["guardrails"]);
  if (!given.contains("default_provider") && !providers.empty()) {
    out["default_provider"] = providers[0].value("name", "");
    for (const auto& provider : providers) {
      if (provider.value("kind", "") == "openai") {
        out["default_provider"] = provider.value("name", "");
        break;
      }
    }
  }
  return out;
}

inline std::string completeConfig(const std::string& given) {
  return completeConfig(nlohmann::json::parse(given)).dump();
}

// A route to one target like the mock fixture's: one attempt, no circuit breaker, no deadline
// (for tests that are not about routing). `model` empty: the name the client asked for.
inline nlohmann::json directRoute(const std::string& name, const std::string& provider, const std::string& model = "") {
  nlohmann::json route = fixture("mock")["routes"][0];
  route["name"] = name;
  nlohmann::json& target = route["plan"]["children"][0];
  target["provider"] = provider;
  target["model"] = model.empty() ? nlohmann::json() : nlohmann::json(model);
  return route;
}

}  // namespace aigw::testing
