// Route tables for router tests: providers that only have a name, and tables built from the
// core config's "routes" JSON (completed with the schema's defaults).
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <unordered_map>

#include "config_fixture.h"
#include "providers/provider.h"
#include "router/route_table.h"

namespace aigw::router::testing {

// Routing never calls a provider; it only needs its identity and name.
class NamedProvider : public Provider {
 public:
  explicit NamedProvider(std::string name) : Provider(std::move(name)) {}
  const char* kind() const override { return "named"; }
  ProviderCallPtr start(CallContext&, const CallRequest&, CallObserver&) const override { return nullptr; }
};

struct Providers {
  NamedProvider openai{"openai"};
  NamedProvider azure{"azure"};
  NamedProvider anthropic{"anthropic"};
  std::unordered_map<std::string, const Provider*> map() const {
    return {{"openai", &openai}, {"azure", &azure}, {"anthropic", &anthropic}};
  }
};

// The fields a route or plan node leaves out are the schema's (config_fixture.h).
inline std::unique_ptr<RouteTable> buildTable(const Providers& providers, const std::string& routes_json) {
  return RouteTable::fromJson(aigw::testing::completeRoutes(nlohmann::json::parse(routes_json)), providers.map());
}

// The message fromJson throws for `routes_json`, or "" when it does not throw.
inline std::string buildError(const Providers& providers, const std::string& routes_json) {
  try {
    buildTable(providers, routes_json);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

}  // namespace aigw::router::testing
