// Per-target request transforms: set, drop and rename on top-level and dotted paths, with
// if_present / if_absent guards, and the errors of their config.
#include "router/transform.h"

#include <gtest/gtest.h>

#include "config_fixture.h"
#include "required_fields.h"

namespace aigw::router {
namespace {

using nlohmann::json;

// The fields a transform leaves out are the schema's (config_fixture.h).
std::vector<Transform> parse(const json& list) {
  std::vector<Transform> out;
  for (const json& t : list) out.push_back(Transform::fromJson(testing::completeTransform(t)));
  return out;
}

TEST(Transform, DropResponseFormatWhenToolsArePresent) {
  const auto t = parse(json::parse(R"([{"op":"drop","path":"response_format","if_present":"tools"}])"));
  json with_tools = {{"model", "m"}, {"tools", json::array()}, {"response_format", {{"type", "json_object"}}}};
  EXPECT_TRUE(applyTransforms(t, with_tools));
  EXPECT_FALSE(with_tools.contains("response_format"));
  json without_tools = {{"model", "m"}, {"response_format", {{"type", "json_object"}}}};
  EXPECT_FALSE(applyTransforms(t, without_tools));
  EXPECT_TRUE(without_tools.contains("response_format"));
}

TEST(Transform, RenameMaxTokensToMaxCompletionTokens) {
  const auto t = parse(json::parse(R"([{"op":"rename","path":"max_tokens","to":"max_completion_tokens"}])"));
  json body = {{"model", "o1"}, {"max_tokens", 100}};
  EXPECT_TRUE(applyTransforms(t, body));
  EXPECT_EQ(body, json({{"model", "o1"}, {"max_completion_tokens", 100}}));
  // Nothing to rename: nothing changes.
  EXPECT_FALSE(applyTransforms(t, body));
  // The destination is overwritten.
  json both = {{"max_tokens", 1}, {"max_completion_tokens", 2}};
  EXPECT_TRUE(applyTransforms(t, both));
  EXPECT_EQ(both, json({{"max_completion_tokens", 1}}));
}

TEST(Transform, SetCreatesIntermediateObjects) {
  const auto t = parse(json::parse(R"([{"op":"set","path":"stream_options.include_usage","value":true,"if_present":"stream"}])"));
  json body = {{"stream", true}};
  EXPECT_TRUE(applyTransforms(t, body));
  EXPECT_EQ(body["stream_options"], json({{"include_usage", true}}));
  EXPECT_FALSE(applyTransforms(t, body));  // already so
  json kept = {{"stream", true}, {"stream_options", {{"other", 1}}}};
  EXPECT_TRUE(applyTransforms(t, kept));
  EXPECT_EQ(kept["stream_options"], json({{"other", 1}, {"include_usage", true}}));
  json no_stream = {{"model", "m"}};
  EXPECT_FALSE(applyTransforms(t, no_stream));
}

TEST(Transform, SetLeavesNonObjectsAlone) {
  const auto t = parse(json::parse(R"([{"op":"set","path":"a.b.c","value":1}])"));
  json body = {{"a", {{"b", "text"}}}};
  EXPECT_FALSE(applyTransforms(t, body));
  EXPECT_EQ(body, json({{"a", {{"b", "text"}}}}));
  json not_object = json::array({1, 2});
  EXPECT_FALSE(applyTransforms(t, not_object));
}

TEST(Transform, SetOverwritesAndTakesAnyJsonValue) {
  const auto t = parse(json::parse(R"([{"op":"set","path":"temperature","value":0.2},
                                      {"op":"set","path":"extra","value":{"k":[1,2]}},
                                      {"op":"set","path":"gone","value":null,"if_absent":"keep"}])"));
  json body = {{"temperature", 1.0}};
  EXPECT_TRUE(applyTransforms(t, body));
  EXPECT_EQ(body, json::parse(R"({"temperature":0.2,"extra":{"k":[1,2]},"gone":null})"));
}

TEST(Transform, DottedDropAndRename) {
  const auto t = parse(json::parse(R"([{"op":"drop","path":"metadata.secret"},
                                      {"op":"rename","path":"a.b","to":"x.y.z"},
                                      {"op":"drop","path":"missing.deep.path"}])"));
  json body = json::parse(R"({"metadata":{"secret":1,"user":"u"},"a":{"b":[1],"c":2}})");
  EXPECT_TRUE(applyTransforms(t, body));
  EXPECT_EQ(body, json::parse(R"({"metadata":{"user":"u"},"a":{"c":2},"x":{"y":{"z":[1]}}})"));
}

TEST(Transform, RenameKeepsTheValueWhenTheDestinationCannotExist) {
  const auto t = parse(json::parse(R"([{"op":"rename","path":"a","to":"b.c"}])"));
  json body = {{"a", 1}, {"b", "scalar"}};
  EXPECT_FALSE(applyTransforms(t, body));
  EXPECT_EQ(body, json({{"a", 1}, {"b", "scalar"}}));
}

TEST(Transform, GuardsTestDottedPaths) {
  const auto t = parse(json::parse(R"([{"op":"set","path":"flag","value":1,"if_present":"a.b"},
                                      {"op":"set","path":"other","value":2,"if_absent":"a.c"}])"));
  json body = json::parse(R"({"a":{"b":null}})");
  EXPECT_TRUE(applyTransforms(t, body));
  EXPECT_EQ(body["flag"], 1);
  EXPECT_EQ(body["other"], 2);
  json blocked = json::parse(R"({"a":{"c":0}})");
  EXPECT_FALSE(applyTransforms(t, blocked));
}

TEST(Transform, AppliesInOrder) {
  const auto t = parse(json::parse(R"([{"op":"rename","path":"max_tokens","to":"max_completion_tokens"},
                                      {"op":"drop","path":"temperature","if_present":"max_completion_tokens"}])"));
  json body = {{"max_tokens", 5}, {"temperature", 0.5}};
  EXPECT_TRUE(applyTransforms(t, body));
  EXPECT_EQ(body, json({{"max_completion_tokens", 5}}));
}

TEST(Transform, ConfigErrors) {
  for (const char* bad : {R"({"op":"move","path":"a"})", R"({"path":"a"})", R"({"op":"drop"})",
                          R"({"op":"rename","path":"a"})", R"({"op":"set","path":"a"})", R"({"op":"drop","path":1})",
                          R"("drop a")"}) {
    EXPECT_THROW(Transform::fromJson(json::parse(bad)), std::runtime_error) << bad;
  }
  const Transform t = Transform::fromJson(
      testing::completeTransform(json::parse(R"({"op":"rename","path":"a","to":"b","if_absent":null})")));
  EXPECT_EQ(t.op, Transform::Op::Rename);
  EXPECT_EQ(t.to, "b");
  EXPECT_TRUE(t.if_absent.empty());
}

TEST(Transform, EveryFieldIsRequired) {
  // set, rename and drop, as Python emits them (tests/cpp/fixtures/full.yaml).
  // The document is held: a range-for over a part of a temporary would outlive it.
  const json full = testing::fixture("full");
  for (const json& op : full["routes"][0]["plan"]["children"][0]["transforms"]) {
    testing::expectEveryFieldRequiredBy(op, [](const json& doc) { Transform::fromJson(doc); });
  }
}

}  // namespace
}  // namespace aigw::router
