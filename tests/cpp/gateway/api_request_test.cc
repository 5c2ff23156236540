// The API request filter and built-in routes over sockets: endpoint and method checks, JSON
// validation with OpenAI's statuses and error shape, model resolution, /v1/models, /health.
#include "gateway/api_request.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "gateway_fixture.h"

namespace aigw {
namespace {

using nlohmann::json;
using testing::mockConfig;
using testing::RawClient;
using testing::readResponses;
using testing::TestGateway;

testing::ParsedResponse send(TestGateway& gw, const std::string& raw) {
  RawClient c(gw.port());
  EXPECT_TRUE(c.send(raw));
  auto rs = readResponses(c, 1);
  EXPECT_EQ(rs.size(), 1u);
  return rs.empty() ? testing::ParsedResponse{} : rs[0];
}

testing::ParsedResponse postJson(TestGateway& gw, const std::string& path, const std::string& body) {
  return send(gw, testing::post(path, body));
}

json errorOf(const testing::ParsedResponse& r) {
  EXPECT_EQ(r.header("content-type"), "application/json");
  EXPECT_FALSE(r.header("x-aigw-request-id").empty());
  json j = json::parse(r.body);
  const json& e = j["error"];
  EXPECT_TRUE(e["message"].is_string());
  EXPECT_TRUE(e.contains("type") && e.contains("code") && e.contains("param")) << r.body;
  return e;
}

TEST(ApiRequest, OnlyPassThroughBodiesThatAreNoJsonStream) {
  // Every client API the gateway reads is held whole, whatever content-type the client sent;
  // a pass-through upload that is no JSON streams.
  const struct {
    const char* target;
    const char* content_type;
    bool streams;
  } cases[] = {
      {"/v1/chat/completions", "text/plain", false},
      {"/v1/messages", "text/plain", false},
      {"/v1/messages/count_tokens", "text/plain", false},
      {"/v1beta/models/gemini-2.0-flash:generateContent", "text/plain", false},
      {"/model/anthropic.claude-3-haiku/converse", "text/plain", false},
      {"/v1/models", "text/plain", false},
      {"/v1/files", "multipart/form-data; boundary=x", true},
      {"/v1/files", "application/json", false},
  };
  for (const auto& c : cases) {
    http::Request head;
    head.method = "POST";
    head.target = c.target;
    head.headers.add("content-length", "10");
    head.headers.add("content-type", c.content_type);
    EXPECT_EQ(shouldStreamRequestBody(head), c.streams) << c.target;
  }
}

TEST(ApiRequest, UnknownModelIs404ModelNotFoundWithoutCatchAll) {
  TestGateway gw(mockConfig("", /*wildcard=*/false));
  auto r = postJson(gw, "/v1/chat/completions", R"({"model":"gpt-nope","messages":[{"role":"user","content":"x"}]})");
  EXPECT_EQ(r.status, 404);
  json e = errorOf(r);
  EXPECT_EQ(e["code"], "model_not_found");
  EXPECT_EQ(e["type"], "invalid_request_error");
  EXPECT_NE(e["message"].get<std::string>().find("gpt-nope"), std::string::npos);
  auto ok = postJson(gw, "/v1/chat/completions", R"({"model":"mock-gpt","messages":[{"role":"user","content":"x"}]})");
  EXPECT_EQ(ok.status, 200);
}

TEST(ApiRequest, UnknownModelErrorEchoesABoundedName) {
  TestGateway gw(mockConfig("", /*wildcard=*/false));
  const std::string model(500, 'x');  // under the name limit, over the echo bound
  auto r = postJson(gw, "/v1/chat/completions",
                    R"({"model":")" + model + R"(","messages":[{"role":"user","content":"x"}]})");
  EXPECT_EQ(r.status, 404);
  const std::string message = errorOf(r)["message"];
  EXPECT_LT(message.size(), 400u) << message;
  EXPECT_NE(message.find("(+244 bytes)"), std::string::npos) << message;
}

TEST(ApiRequest, HugeModelNameGetsASmallError) {
  TestGateway gw(mockConfig());
  const std::string model(8 << 20, 'm');
  RawClient c(gw.port());
  ASSERT_TRUE(c.send(testing::post("/v1/chat/completions",
                                   R"({"model":")" + model + R"(","messages":[{"role":"user","content":"x"}]})")));
  auto rs = readResponses(c, 1, /*timeout_ms=*/30000);  // 8 MB to read: slow under TSan
  ASSERT_EQ(rs.size(), 1u);
  const auto& r = rs[0];
  EXPECT_EQ(r.status, 400);
  EXPECT_LT(r.body.size(), 1024u);
  EXPECT_EQ(errorOf(r)["param"], "model");
}

TEST(ApiRequest, ModelNameCannotInjectAResponseHeader) {
  TestGateway gw(mockConfig());
  auto r = postJson(gw, "/v1/chat/completions",
                    R"({"model":"mock-gpt\r\nx-injected: 1","messages":[{"role":"user","content":"x"}]})");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.header("x-injected").empty());
  EXPECT_EQ(r.header("x-aigw-model"), "mock-gpt??x-injected: 1");
}

TEST(ApiRequest, CatchAllModelServesAnyName) {
  TestGateway gw(mockConfig());
  auto r = postJson(gw, "/v1/chat/completions", R"({"model":"anything","messages":[{"role":"user","content":"x"}]})");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body)["model"], "anything");
}

TEST(ApiRequest, RoutedModelNameIsRewrittenToTheUpstreamName) {
  TestGateway gw(testing::completeConfig(R"({"server":{"host":"127.0.0.1","port":0,"workers":1},
    "providers":[{"name":"mock","kind":"mock"}],
    "routes":[)" + testing::directRoute("fast", "mock", "mock-fast-v2").dump() + "]}"));
  auto r = postJson(gw, "/v1/chat/completions", R"({"model":"fast","messages":[{"role":"user","content":"x"}]})");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("x-aigw-model"), "mock-fast-v2");
  EXPECT_EQ(json::parse(r.body)["model"], "mock-fast-v2");
}

TEST(ApiRequest, WrongMethodIs405WithAllow) {
  TestGateway gw(mockConfig());
  auto r = send(gw, testing::get("/v1/chat/completions"));
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.header("allow"), "POST");
  EXPECT_EQ(errorOf(r)["code"], "method_not_allowed");
  auto h = send(gw, testing::post("/health", "{}"));
  EXPECT_EQ(h.status, 405);
  EXPECT_EQ(h.header("allow"), "GET, HEAD");
}

TEST(ApiRequest, UnknownPathIs404) {
  TestGateway gw(mockConfig());
  auto r = postJson(gw, "/v1/chat/completion", "{}");
  EXPECT_EQ(r.status, 404);
  json e = errorOf(r);
  EXPECT_EQ(e["code"], "unknown_url");
  EXPECT_NE(e["message"].get<std::string>().find("POST /v1/chat/completion"), std::string::npos);
}

TEST(ApiRequest, UnversionedPathsAreAccepted) {
  TestGateway gw(mockConfig());
  EXPECT_EQ(postJson(gw, "/chat/completions", R"({"model":"m","messages":[{"role":"user","content":"x"}]})").status, 200);
  EXPECT_EQ(postJson(gw, "/embeddings", R"({"model":"m","input":"x"})").status, 200);
  EXPECT_EQ(postJson(gw, "/v1/chat/completions?api-version=1", R"({"model":"m","messages":[{"role":"user","content":"x"}]})").status, 200);
}

TEST(ApiRequest, BadJsonIs400InvalidJson) {
  TestGateway gw(mockConfig());
  auto r = postJson(gw, "/v1/chat/completions", R"({"model":"m","messages":[)");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(errorOf(r)["code"], "invalid_json");
  auto empty = postJson(gw, "/v1/chat/completions", "");
  EXPECT_EQ(empty.status, 400);
  EXPECT_EQ(errorOf(empty)["code"], "invalid_json");
}

// A body nested a million levels deep crashed the gateway (stack overflow copying it): it is a
// 400 now, before any stage builds the document.
TEST(ApiRequest, DeeplyNestedBodyIs400InvalidJson) {
  TestGateway gw(mockConfig());
  const std::string deep = R"({"model":"mock-gpt","messages":[{"role":"user","content":"x"}],"x":)" +
                           std::string(1000000, '[') + std::string(1000000, ']') + "}";
  auto r = postJson(gw, "/v1/chat/completions", deep);
  EXPECT_EQ(r.status, 400);
  json e = errorOf(r);
  EXPECT_EQ(e["code"], "invalid_json");
  EXPECT_NE(e["message"].get<std::string>().find("nested deeper than"), std::string::npos);
}

TEST(ApiRequest, NonObjectBodyIs400) {
  TestGateway gw(mockConfig());
  auto r = postJson(gw, "/v1/chat/completions", "[1,2]");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(errorOf(r)["code"], "invalid_type");
}

TEST(ApiRequest, MissingModelIs400WithParam) {
  TestGateway gw(mockConfig());
  auto r = postJson(gw, "/v1/chat/completions", R"({"messages":[{"role":"user","content":"x"}]})");
  EXPECT_EQ(r.status, 400);
  json e = errorOf(r);
  EXPECT_EQ(e["param"], "model");
  EXPECT_EQ(e["code"], "missing_required_parameter");
  auto typed = postJson(gw, "/v1/chat/completions", R"({"model":7,"messages":[{"role":"user","content":"x"}]})");
  EXPECT_EQ(typed.status, 400);
  EXPECT_EQ(errorOf(typed)["code"], "invalid_type");
}

TEST(ApiRequest, MissingMessagesIs400WithParam) {
  TestGateway gw(mockConfig());
  auto r = postJson(gw, "/v1/chat/completions", R"({"model":"m"})");
  EXPECT_EQ(r.status, 400);
  json e = errorOf(r);
  EXPECT_EQ(e["param"], "messages");
  EXPECT_EQ(e["code"], "missing_required_parameter");
  EXPECT_EQ(e["type"], "invalid_request_error");
}

struct BadField {
  const char* name;
  const char* path;
  const char* body;
  const char* param;
  const char* code;
};

class ApiRequestBadField : public ::testing::TestWithParam<BadField> {};

TEST_P(ApiRequestBadField, Is400NamingTheParam) {
  TestGateway gw(mockConfig());
  auto r = postJson(gw, GetParam().path, GetParam().body);
  EXPECT_EQ(r.status, 400) << r.body;
  json e = errorOf(r);
  EXPECT_EQ(e["param"], GetParam().param) << r.body;
  EXPECT_EQ(e["code"], GetParam().code) << r.body;
}

INSTANTIATE_TEST_SUITE_P(
    Gateway, ApiRequestBadField,
    ::testing::Values(
        BadField{"MessagesNotArray", "/v1/chat/completions", R"({"model":"m","messages":"hi"})", "messages", "invalid_type"},
        BadField{"MessagesEmpty", "/v1/chat/completions", R"({"model":"m","messages":[]})", "messages", "empty_array"},
        BadField{"MessageNotObject", "/v1/chat/completions", R"({"model":"m","messages":["hi"]})", "messages[0]", "invalid_type"},
        BadField{"MessageWithoutRole", "/v1/chat/completions", R"({"model":"m","messages":[{"content":"x"}]})",
                 "messages[0].role", "missing_required_parameter"},
        BadField{"UnknownRole", "/v1/chat/completions",
                 R"({"model":"m","messages":[{"role":"user","content":"a"},{"role":"robot","content":"x"}]})",
                 "messages[1].role", "invalid_value"},
        BadField{"StreamNotBoolean", "/v1/chat/completions",
                 R"({"model":"m","stream":"yes","messages":[{"role":"user","content":"x"}]})", "stream", "invalid_type"},
        BadField{"CompletionsWithoutPrompt", "/v1/completions", R"({"model":"m"})", "prompt", "missing_required_parameter"},
        BadField{"EmbeddingsWithoutInput", "/v1/embeddings", R"({"model":"m"})", "input", "missing_required_parameter"},
        BadField{"EmbeddingsInputNumber", "/v1/embeddings", R"({"model":"m","input":5})", "input", "invalid_type"},
        BadField{"ContentNumber", "/v1/chat/completions", R"({"model":"m","messages":[{"role":"user","content":5}]})",
                 "messages[0].content", "invalid_type"},
        BadField{"ContentObject", "/v1/chat/completions",
                 R"({"model":"m","messages":[{"role":"user","content":"a"},{"content":{"x":1},"role":"user"}]})",
                 "messages[1].content", "invalid_type"},
        BadField{"ContentBoolean", "/v1/chat/completions",
                 R"({"model":"m","messages":[{"role":"user","content":true}]})", "messages[0].content", "invalid_type"},
        // A repeated key, on every endpoint and at any depth: one rule (docs/http.md).
        BadField{"DuplicateModel", "/v1/chat/completions",
                 R"({"model":"mock-gpt","messages":[{"role":"user","content":"x"}],"model":"gpt-4o"})", "model",
                 "duplicate_key"},
        BadField{"DuplicateMessages", "/v1/chat/completions",
                 R"({"model":"m","messages":[{"role":"user","content":"x"}],"messages":[]})", "messages", "duplicate_key"},
        BadField{"DuplicateStream", "/v1/chat/completions",
                 R"({"model":"m","stream":false,"messages":[{"role":"user","content":"x"}],"stream":true})", "stream",
                 "duplicate_key"},
        BadField{"DuplicateTools", "/v1/chat/completions",
                 R"({"model":"m","tools":[],"messages":[{"role":"user","content":"x"}],"tools":[{}]})", "tools",
                 "duplicate_key"},
        BadField{"DuplicateContentInAMessage", "/v1/chat/completions",
                 R"({"model":"m","messages":[{"role":"user","content":"hi","content":"PRIVATE KEY"}]})", "content",
                 "duplicate_key"},
        BadField{"DuplicateDeepInATool", "/v1/chat/completions",
                 R"({"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"a","name":"b"}}]})",
                 "name", "duplicate_key"},
        BadField{"DuplicateModelCompletions", "/v1/completions", R"({"model":"m","prompt":"x","model":"n"})", "model",
                 "duplicate_key"},
        BadField{"DuplicateModelEmbeddings", "/v1/embeddings", R"({"model":"m","input":"x","model":"n"})", "model",
                 "duplicate_key"},
        BadField{"DuplicateModelPassthrough", "/v1/responses", R"({"model":"m","input":"x","model":"n"})", "model",
                 "duplicate_key"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(BuiltinRoutes, ModelsListsConfiguredNamesButNotTheCatchAll) {
  TestGateway gw(mockConfig());
  auto r = send(gw, testing::get("/v1/models"));
  ASSERT_EQ(r.status, 200);
  json j = json::parse(r.body);
  EXPECT_EQ(j["object"], "list");
  ASSERT_EQ(j["data"].size(), 1u);
  EXPECT_EQ(j["data"][0]["id"], "mock-gpt");
  EXPECT_EQ(j["data"][0]["owned_by"], "mock");
  EXPECT_EQ(send(gw, testing::get("/v1/models/mock-gpt")).status, 200);
  auto missing = send(gw, testing::get("/v1/models/other"));
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(errorOf(missing)["code"], "model_not_found");
}

TEST(BuiltinRoutes, HealthReportsWorkersAndProviders) {
  TestGateway gw(mockConfig());
  auto r = send(gw, testing::get("/health"));
  ASSERT_EQ(r.status, 200);
  json j = json::parse(r.body);
  EXPECT_EQ(j["status"], "ok");
  EXPECT_EQ(j["workers"], 1);
  ASSERT_EQ(j["providers"].size(), 1u);
  EXPECT_EQ(j["providers"][0]["kind"], "mock");
}

}  // namespace
}  // namespace aigw
