// The cost hook's snapshot (what Python sees of an answer) and how its result is read.
#include "cost/cost_hook.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace aigw::cost {
namespace {

TEST(CostHookSnapshot, CarriesTheAnswerAndLeavesCredentialsOut) {
  http::HeaderList headers;
  headers.add("authorization", "Bearer sk-secret");
  headers.add("x-api-key", "k");
  headers.add("cookie", "c=1");
  headers.add("x-team", "ml");
  const nlohmann::json metadata = {{"customer", "acme"}};
  const Price price{2.0, 8.0, 1.0};
  CostHookInput in;
  in.request_id = "req-1";
  in.endpoint = "chat.completions";
  in.provider = "openai";
  in.model = "gpt-4o-2024-08-06";
  in.requested_model = "gpt-4o";
  in.route = "gpt-4o";
  in.stream = true;
  in.status = 200;
  in.usage = CallUsage{100, 20, 40};
  in.price = &price;
  in.table_cost_usd = 0.00034;
  in.headers = &headers;
  in.metadata = &metadata;
  const auto j = nlohmann::json::parse(costHookSnapshot(in));
  EXPECT_EQ(j["request_id"], "req-1");
  EXPECT_EQ(j["endpoint"], "chat.completions");
  EXPECT_EQ(j["provider"], "openai");
  EXPECT_EQ(j["model"], "gpt-4o-2024-08-06");
  EXPECT_EQ(j["requested_model"], "gpt-4o");
  EXPECT_EQ(j["route"], "gpt-4o");
  EXPECT_EQ(j["stream"], true);
  EXPECT_EQ(j["status"], 200);
  EXPECT_EQ(j["partial"], false);
  EXPECT_EQ(j["usage"], nlohmann::json({{"prompt_tokens", 100}, {"completion_tokens", 20}, {"cached_tokens", 40}}));
  EXPECT_EQ(j["price"], nlohmann::json({{"input", 2.0}, {"output", 8.0}, {"cached_input", 1.0}}));
  EXPECT_DOUBLE_EQ(j["table_cost_usd"].get<double>(), 0.00034);
  EXPECT_EQ(j["headers"], nlohmann::json({{"x-team", "ml"}}));
  EXPECT_EQ(j["metadata"], metadata);
}

TEST(CostHookSnapshot, UnknownsAreNull) {
  CostHookInput in;
  in.request_id = "req-2";
  in.usage = CallUsage{-1, 5, -1};
  const auto j = nlohmann::json::parse(costHookSnapshot(in));
  EXPECT_TRUE(j["endpoint"].is_null());
  EXPECT_TRUE(j["provider"].is_null());
  EXPECT_TRUE(j["model"].is_null());
  EXPECT_TRUE(j["route"].is_null());
  EXPECT_TRUE(j["usage"]["prompt_tokens"].is_null());
  EXPECT_EQ(j["usage"]["completion_tokens"], 5);
  EXPECT_TRUE(j["usage"]["cached_tokens"].is_null());
  EXPECT_TRUE(j["price"].is_null());
  EXPECT_TRUE(j["table_cost_usd"].is_null());
  EXPECT_EQ(j["headers"], nlohmann::json::object());
  EXPECT_TRUE(j["metadata"].is_null());
}

TEST(CostHookResult, UsesTheHooksCostAndFallsBackOnAnythingElse) {
  EXPECT_DOUBLE_EQ(costHookResult(R"({"cost_usd": 0.25})", 1.0), 0.25);
  EXPECT_DOUBLE_EQ(costHookResult(R"({"cost_usd": 0})", 1.0), 0.0);
  EXPECT_DOUBLE_EQ(costHookResult(R"({"cost_usd": 1e-07})", 1.0), 1e-7);
  EXPECT_LT(costHookResult(R"({"cost_usd": null})", 1.0), 0);  // unpriced
  EXPECT_DOUBLE_EQ(costHookResult(R"({"cost_usd": -2})", 1.0), 1.0);
  EXPECT_DOUBLE_EQ(costHookResult(R"({"cost_usd": "3"})", 1.0), 1.0);
  EXPECT_DOUBLE_EQ(costHookResult(R"({})", 1.0), 1.0);
  EXPECT_DOUBLE_EQ(costHookResult("not json", 1.0), 1.0);
}

}  // namespace
}  // namespace aigw::cost
