// GuardrailSet::fromJson takes the guardrails Python emits, every field of each kind present.
#include "guardrails/guardrail_set.h"

#include <gtest/gtest.h>

#include "config_fixture.h"
#include "required_fields.h"
#include "router/route_table.h"

namespace aigw::guardrails {
namespace {

using nlohmann::json;

TEST(GuardrailSet, EveryFieldOfEachKindIsRequired) {
  const json entries = testing::fixture("full")["guardrails"];  // one of each kind
  auto routes = router::RouteTable::fromJson(json::array(), {});
  testing::expectEveryFieldRequiredBy(entries, [&](const json& doc) {
    GuardrailSet::fromJson(doc, *routes, {{"openai", nullptr}});
  });
}

}  // namespace
}  // namespace aigw::guardrails
