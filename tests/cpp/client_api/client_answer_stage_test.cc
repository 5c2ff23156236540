// ClientAnswerStage with the Anthropic encoder: what an Anthropic client receives for each kind of OpenAI-shaped write
// (whole answers, errors, streams, the gateway's own errors), and that same-API answers pass
// untouched.
#include "client_api/client_answer_stage.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>

#include "client_api/answer_stage_doubles.h"

namespace aigw {
namespace {

using nlohmann::json;

using testing_doubles::Source;
using testing_doubles::Wire;

class AnthropicAnswerStageTest : public ::testing::Test {
 protected:
  AnthropicAnswerStageTest() : bottom_(wire_), stage_(bottom_, clientEncoder(ApiShape::Anthropic)) { stage_.attach(source_, Endpoint::ChatCompletions); }
  http::HeaderList jsonHead() {
    http::HeaderList h;
    h.add("content-type", "application/json");
    return h;
  }
  http::HeaderList sseHead() {
    http::HeaderList h;
    h.add("content-type", "text/event-stream");
    return h;
  }
  Wire wire_;
  ResponseStage bottom_;
  Source source_;
  ClientAnswerStage stage_;
};

const char* kCompletion =
    R"({"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,)"
    R"("message":{"role":"assistant","content":"hi there"},"finish_reason":"stop"}],)"
    R"("usage":{"prompt_tokens":7,"completion_tokens":2,"total_tokens":9}})";

TEST_F(AnthropicAnswerStageTest, AWholeAnswerBecomesAMessage) {
  stage_.respond(200, jsonHead(), kCompletion);
  const json m = json::parse(wire_.body);
  EXPECT_EQ(wire_.status, 200);
  EXPECT_EQ(m["type"], "message");
  EXPECT_EQ(m["content"][0]["text"], "hi there");
  EXPECT_EQ(m["stop_reason"], "end_turn");
  EXPECT_EQ(m["usage"]["input_tokens"], 7);
}

TEST_F(AnthropicAnswerStageTest, AnAnswerWrittenInPiecesIsHeldThenTranslated) {
  stage_.writeHead(200, jsonHead(), -1);
  EXPECT_FALSE(stage_.headSent());
  const std::string text = kCompletion;
  stage_.writeBody(text.substr(0, 30));
  stage_.writeBody(text.substr(30));
  EXPECT_EQ(wire_.status, 0);
  stage_.endResponse();
  EXPECT_EQ(json::parse(wire_.body)["content"][0]["text"], "hi there");
}

struct ErrorCase {
  int status;
  const char* body;
  int want_status;
  const char* want_type;
};

class AnthropicAnswerStageErrors : public AnthropicAnswerStageTest, public ::testing::WithParamInterface<ErrorCase> {};

TEST_P(AnthropicAnswerStageErrors, OpenAiErrorsBecomeAnthropicErrors) {
  const ErrorCase& c = GetParam();
  stage_.respond(c.status, jsonHead(), c.body);
  EXPECT_EQ(wire_.status, c.want_status);
  const json e = json::parse(wire_.body);
  EXPECT_EQ(e["type"], "error");
  EXPECT_EQ(e["error"]["type"], c.want_type);
}

INSTANTIATE_TEST_SUITE_P(
    Table, AnthropicAnswerStageErrors,
    ::testing::Values(
        ErrorCase{400, R"({"error":{"message":"bad","type":"invalid_request_error"}})", 400, "invalid_request_error"},
        ErrorCase{404, R"({"error":{"message":"no model","type":"invalid_request_error"}})", 404, "not_found_error"},
        ErrorCase{429, R"({"error":{"message":"slow down","type":"rate_limit_error"}})", 429, "rate_limit_error"},
        ErrorCase{503, R"({"error":{"message":"busy","type":"service_unavailable_error"}})", 529, "overloaded_error"},
        ErrorCase{500, "not json at all", 500, "api_error"}));

TEST_F(AnthropicAnswerStageTest, AnAnswerThatIsNoCompletionIsABadGateway) {
  stage_.respond(200, jsonHead(), R"({"unexpected":true})");
  EXPECT_EQ(wire_.status, 502);
  EXPECT_EQ(json::parse(wire_.body)["error"]["type"], "api_error");
}

TEST_F(AnthropicAnswerStageTest, AStreamIsTranscodedEventByEvent) {
  stage_.writeHead(200, sseHead(), -1);
  EXPECT_EQ(wire_.type, "text/event-stream");
  const std::string head = R"({"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,)";
  stage_.writeBody("data: " + head + R"("delta":{"role":"assistant","content":""},"finish_reason":null}]})" + "\n\n");
  EXPECT_NE(wire_.body.find("event: message_start"), std::string::npos);
  stage_.writeBody("data: " + head + R"("delta":{"content":"Hel"},"finish_reason":null}]})" + "\n\ndata: " + head +
                   R"("delta":{"content":"lo"},"finish_reason":"stop"}]})" + "\n\n");
  EXPECT_NE(wire_.body.find(R"("text":"Hel")"), std::string::npos);
  stage_.writeBody("data: [DONE]\n\n");
  stage_.endResponse();
  EXPECT_NE(wire_.body.find("event: message_stop"), std::string::npos);
  EXPECT_NE(wire_.body.find(R"("stop_reason":"end_turn")"), std::string::npos);
  EXPECT_TRUE(wire_.ended);
}

TEST_F(AnthropicAnswerStageTest, AStreamCutWithoutDoneStillEndsWithAMessageOrAnError) {
  stage_.writeHead(200, sseHead(), -1);
  stage_.endResponse();
  EXPECT_NE(wire_.body.find("event: error"), std::string::npos);
}

TEST_F(AnthropicAnswerStageTest, ASameApiAnswerPassesUntouched) {
  source_.shape = ApiShape::Anthropic;
  const std::string native = R"({"type":"message","content":[{"type":"text","text":"x"}],"custom":1})";
  stage_.respond(200, jsonHead(), native);
  EXPECT_EQ(wire_.body, native);
  wire_ = Wire{};
  stage_.writeHead(529, jsonHead(), -1);
  stage_.writeBody(R"({"type":"error","error":{"type":"overloaded_error","message":"o"}})");
  stage_.endResponse();
  EXPECT_EQ(wire_.status, 529);
  EXPECT_EQ(json::parse(wire_.body)["error"]["type"], "overloaded_error");
}

TEST_F(AnthropicAnswerStageTest, TheGatewaysErrorEventEndingASameApiStreamIsTranslated) {
  source_.shape = ApiShape::Anthropic;
  stage_.writeHead(200, sseHead(), -1);
  stage_.writeBody("event: ping\ndata: {\"type\":\"ping\"}\n\n");
  source_.shape = ApiShape::OpenAi;  // the relay cut the stream with its own error
  stage_.writeBody(R"(data: {"error":{"message":"deadline","type":"timeout_error"}})" "\n\n");
  stage_.endResponse();
  EXPECT_EQ(wire_.body.find("event: ping"), 0u);
  EXPECT_NE(wire_.body.find("event: error"), std::string::npos);
  EXPECT_EQ(wire_.body.find("\"error\":{\"message\""), std::string::npos);  // no OpenAI-shaped event left
}

// How the relay cuts a stream whose upstream failed: a Restart, then its OpenAI-shaped error event.
TEST_F(AnthropicAnswerStageTest, TheGatewaysCutAfterARestartIsAnErrorEvent) {
  stage_.writeHead(200, sseHead(), -1);
  stage_.writeBody(R"(data: {"choices":[{"index":0,"delta":{"content":"a"},"finish_reason":null}]})" "\n\n");
  stage_.onEvent(AnswerEvent::Restart);
  stage_.writeBody(R"(data: {"error":{"message":"failed mid-stream","type":"upstream_error"}})" "\n\n");
  stage_.endResponse();
  EXPECT_NE(wire_.body.find("event: error"), std::string::npos);
  EXPECT_EQ(wire_.body.find("\"error\":{\"message\""), std::string::npos);  // no OpenAI-shaped event left
}

TEST_F(AnthropicAnswerStageTest, CountTokensAnswersPassAndTheirErrorsAreTranslated) {
  stage_.attach(source_, Endpoint::CountTokens);
  stage_.respond(200, jsonHead(), R"({"input_tokens":12})");
  EXPECT_EQ(wire_.body, R"({"input_tokens":12})");
  stage_.respond(503, jsonHead(), R"({"error":{"message":"none","type":"service_unavailable_error"}})");
  EXPECT_EQ(json::parse(wire_.body)["error"]["type"], "overloaded_error");
}

TEST_F(AnthropicAnswerStageTest, ARetryDropsWhatWasHeld) {
  stage_.writeHead(500, jsonHead(), -1);
  stage_.writeBody(R"({"error":)");
  stage_.onEvent(AnswerEvent::Restart);
  stage_.respond(200, jsonHead(), kCompletion);
  EXPECT_EQ(json::parse(wire_.body)["type"], "message");
}

}  // namespace
}  // namespace aigw
