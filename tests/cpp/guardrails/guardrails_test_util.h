// Builds guardrail sets from core-config JSON for the unit tests.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <memory>
#include <string>

#include "config_fixture.h"
#include "guardrails/guardrail.h"
#include "guardrails/guardrail_set.h"
#include "router/route_table.h"

namespace aigw::guardrails::testing {

struct Built {
  std::unique_ptr<router::RouteTable> routes;
  std::unique_ptr<GuardrailSet> set;
};

// The fields an entry leaves out are the schema's (config_fixture.h).
inline Built build(const std::string& guardrails_json) {
  Built b;
  b.routes = router::RouteTable::fromJson(nlohmann::json::array(), {});
  b.set =
      GuardrailSet::fromJson(aigw::testing::completeGuardrails(nlohmann::json::parse(guardrails_json)), *b.routes, {});
  return b;
}

// An asynchronous check a test answers itself; cancel() raises the flag it was given.
class FakeCheck final : public AsyncCheck {
 public:
  explicit FakeCheck(bool* cancelled) : cancelled_(cancelled) {}
  void cancel() override { *cancelled_ = true; }

 private:
  bool* cancelled_;
};

}  // namespace aigw::guardrails::testing
