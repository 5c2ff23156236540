// PriceTable: lookup precedence (exact, pattern, version suffix, provider prefix), the cost of
// one answer's usage (cached tokens included) and the decimal format of x-aigw-cost-usd.
#include "cost/price_table.h"

#include <gtest/gtest.h>

#include "config_fixture.h"
#include "required_fields.h"

namespace aigw::cost {
namespace {

// A table of these entries; the prices a lookup test does not look at (output, cached_input)
// are 0 where it leaves them out.
PriceTable table(const char* json) {
  nlohmann::json entries = nlohmann::json::parse(json);
  for (auto& [name, price] : entries.items()) {
    if (price.is_object()) price = testing::overlay({{"output", 0}, {"cached_input", 0}}, price);
  }
  return PriceTable::fromJson(entries);
}

TEST(PriceTable, ExactNameBeatsPattern) {
  auto t = table(R"({"gpt-4o": {"input": 2.5, "output": 10}, "gpt-4o*": {"input": 1, "output": 1},
                     "gpt-4o-mini": {"input": 0.15, "output": 0.6}})");
  ASSERT_NE(t.find("gpt-4o"), nullptr);
  EXPECT_DOUBLE_EQ(t.find("gpt-4o")->input, 2.5);
  EXPECT_DOUBLE_EQ(t.find("gpt-4o-mini")->input, 0.15);
  EXPECT_DOUBLE_EQ(t.find("gpt-4o-audio")->input, 1);
}

TEST(PriceTable, LongerPatternIsMoreSpecific) {
  auto t = table(R"({"*": {"input": 9}, "claude-*": {"input": 3}, "claude-3-5-*": {"input": 0.8}})");
  EXPECT_DOUBLE_EQ(t.find("claude-3-5-haiku")->input, 0.8);
  EXPECT_DOUBLE_EQ(t.find("claude-opus-4")->input, 3);
  EXPECT_DOUBLE_EQ(t.find("llama")->input, 9);
}

TEST(PriceTable, PatternOnFullNameBeatsStrippedExactName) {
  auto t = table(R"({"gpt-4o": {"input": 2.5}, "gpt-4o-2024-*": {"input": 5}})");
  EXPECT_DOUBLE_EQ(t.find("gpt-4o-2024-05-13")->input, 5);
}

TEST(PriceTable, CachedInputDefaultsToInput) {
  // Python's defaults (tests/cpp/fixtures/prices.yaml): m has no cached_input.
  auto t = PriceTable::fromJson(testing::fixture("prices")["pricing"]);
  EXPECT_DOUBLE_EQ(t.find("m")->cached_input, 2);
  EXPECT_DOUBLE_EQ(t.find("n")->cached_input, 0.5);
}

TEST(PriceTable, DateSuffixesAreStripped) {
  auto t = table(R"({"gpt-4o": {"input": 2.5}, "claude-3-5-haiku": {"input": 0.8}, "gpt-4": {"input": 30},
                     "mistral-large": {"input": 2}, "gemini-2.5-flash": {"input": 0.3},
                     "gemini-2.0-flash": {"input": 0.1}})");
  EXPECT_DOUBLE_EQ(t.find("gpt-4o-2024-08-06")->input, 2.5);
  EXPECT_DOUBLE_EQ(t.find("claude-3-5-haiku-20241022")->input, 0.8);
  EXPECT_DOUBLE_EQ(t.find("claude-3-5-haiku-latest")->input, 0.8);
  EXPECT_DOUBLE_EQ(t.find("gpt-4-0613")->input, 30);
  EXPECT_DOUBLE_EQ(t.find("mistral-large-2411")->input, 2);
  EXPECT_DOUBLE_EQ(t.find("mistral-large-latest")->input, 2);
  EXPECT_DOUBLE_EQ(t.find("gemini-2.5-flash-preview-05-20")->input, 0.3);
  EXPECT_DOUBLE_EQ(t.find("gemini-2.0-flash-001")->input, 0.1);
  EXPECT_EQ(t.find("gpt-4o-mini"), nullptr);  // "-mini" is no version
  EXPECT_EQ(t.find("gpt-4o-2024-08"), nullptr);
}

TEST(PriceTable, ProviderPrefixIsStrippedLast) {
  auto t = table(R"({"gpt-4o": {"input": 2.5}, "openai/gpt-4o": {"input": 3}, "claude-sonnet-4": {"input": 3}})");
  EXPECT_DOUBLE_EQ(t.find("openai/gpt-4o")->input, 3);
  EXPECT_DOUBLE_EQ(t.find("azure/gpt-4o")->input, 2.5);
  EXPECT_DOUBLE_EQ(t.find("azure/gpt-4o-2024-11-20")->input, 2.5);
  EXPECT_DOUBLE_EQ(t.find("bedrock/anthropic/claude-sonnet-4-20250514")->input, 3);
  EXPECT_EQ(t.find("openai/"), nullptr);
}

TEST(PriceTable, UnknownModelHasNoPrice) {
  auto t = table(R"({"gpt-4o": {"input": 2.5}})");
  EXPECT_EQ(t.find("llama-3-70b"), nullptr);
  EXPECT_EQ(t.find(""), nullptr);
  EXPECT_EQ(PriceTable().find("gpt-4o"), nullptr);
}

// What the core cannot read. Names and ranges (two '*', a negative price) are Python's to check
// (tests/python/cost/test_cost.py, test_pricing_problems_are_reported_with_their_paths), and the
// section is always there.
TEST(PriceTable, MalformedEntriesAreRefused) {
  EXPECT_THROW(table(R"({"m": {"input": "1"}})"), std::runtime_error);
  EXPECT_THROW(table(R"({"m": 1})"), std::runtime_error);
  EXPECT_THROW(PriceTable::fromJson(nlohmann::json()), std::runtime_error);
}

TEST(PriceTable, EveryFieldOfAPriceIsRequired) {
  const nlohmann::json doc = {{"pricing", testing::fixture("full")["pricing"]}};  // its keys are names
  testing::expectEveryFieldRequiredBy(
      doc, [](const nlohmann::json& d) { PriceTable::fromJson(d.value("pricing", nlohmann::json())); });
}

TEST(StripVersionSuffix, OneSuffixAtATime) {
  EXPECT_EQ(stripVersionSuffix("gpt-4o-2024-08-06"), "gpt-4o");
  EXPECT_EQ(stripVersionSuffix("claude-opus-4-1-20250805"), "claude-opus-4-1");
  EXPECT_EQ(stripVersionSuffix("gemini-2.5-pro-preview-06-05"), "gemini-2.5-pro-preview");
  EXPECT_EQ(stripVersionSuffix("gemini-2.5-pro-preview"), "gemini-2.5-pro");
  EXPECT_EQ(stripVersionSuffix("o3-mini"), "o3-mini");
  EXPECT_EQ(stripVersionSuffix("claude-opus-4"), "claude-opus-4");
  EXPECT_EQ(stripVersionSuffix("gpt-3.5-turbo-0125"), "gpt-3.5-turbo");
  EXPECT_EQ(stripVersionSuffix("2024"), "2024");
}

TEST(AnswerCost, UncachedCachedAndCompletionTokens) {
  const Price p{2.5, 10, 1.25};
  // (1000 - 400) * 2.5 + 400 * 1.25 + 200 * 10 = 1500 + 500 + 2000 = 4000 per million.
  EXPECT_NEAR(answerCost(p, CallUsage{1000, 200, 400}), 0.004, 1e-15);
  EXPECT_NEAR(answerCost(p, CallUsage{1000, 200, -1}), 0.0045, 1e-15);
  EXPECT_NEAR(answerCost(p, CallUsage{1000, -1, -1}), 0.0025, 1e-15);  // embeddings
  EXPECT_NEAR(answerCost(p, CallUsage{-1, 100, -1}), 0.001, 1e-15);
  EXPECT_EQ(answerCost(p, CallUsage{}), -1);
  // More cached than prompt tokens (a confused upstream): never below the all-cached price.
  EXPECT_NEAR(answerCost(p, CallUsage{100, 0, 500}), 100 * 1.25 / 1e6, 1e-15);
}

TEST(FormatUsd, PlainDecimalWithoutExponent) {
  EXPECT_EQ(formatUsd(0.000123), "0.000123");
  EXPECT_EQ(formatUsd(1.5), "1.5");
  EXPECT_EQ(formatUsd(2), "2");
  EXPECT_EQ(formatUsd(0), "0");
  EXPECT_EQ(formatUsd(2e-8), "0.00000002");
  EXPECT_EQ(formatUsd(1e-11), "0");
  EXPECT_EQ(formatUsd(123456.0000001), "123456.0000001");
  EXPECT_EQ(formatUsd(-3), "0");
  char small[4];
  EXPECT_EQ(formatUsd(0.5, small, sizeof(small)), 3u);  // truncated, still terminated
  EXPECT_STREQ(small, "0.5");
}

}  // namespace
}  // namespace aigw::cost
