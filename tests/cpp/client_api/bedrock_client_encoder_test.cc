// ClientAnswerStage with the Bedrock encoder: what a client of the gateway's Converse API
// receives for each kind of OpenAI-shaped write: Converse answers, ConverseStream event-stream
// frames (exceptions inside the stream once it began) and errors with x-amzn-errortype.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "client_api/answer_stage_doubles.h"
#include "client_api/client_answer_stage.h"
#include "http/aws_event_stream.h"

namespace aigw {
namespace {

using nlohmann::json;
using testing_doubles::Source;
using testing_doubles::Wire;

struct Frame {
  std::string kind;  // the event or exception type
  bool exception = false;
  json payload;
};

std::vector<Frame> frames(std::string_view bytes) {
  std::vector<Frame> out;
  http::AwsEventStreamDecoder decoder(
      [](void* ctx, const http::AwsEventStreamMessage& m) {
        const bool exception = m.message_type == "exception";
        static_cast<std::vector<Frame>*>(ctx)->push_back(
            {std::string(exception ? m.exception_type : m.event_type), exception, json::parse(m.payload)});
      },
      &out);
  EXPECT_TRUE(decoder.feed(bytes)) << decoder.error();
  EXPECT_TRUE(decoder.idle());
  return out;
}

class BedrockAnswerStageTest : public ::testing::Test {
 protected:
  BedrockAnswerStageTest() : bottom_(wire_), stage_(bottom_, clientEncoder(ApiShape::Bedrock)) {
    stage_.attach(source_, Endpoint::ChatCompletions);
  }
  static http::HeaderList head(const char* type) {
    http::HeaderList h;
    h.add("content-type", type);
    return h;
  }
  std::string errorType() const {
    const std::string* v = wire_.head.find("x-amzn-errortype");
    return v == nullptr ? "" : *v;
  }
  Wire wire_;
  ResponseStage bottom_;
  Source source_;
  ClientAnswerStage stage_;
};

TEST_F(BedrockAnswerStageTest, AWholeAnswerBecomesAConverseResponse) {
  stage_.respond(200, head("application/json"),
                 R"({"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,)"
                 R"("message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function",)"
                 R"("function":{"name":"get_weather","arguments":"{\"city\":\"mock\"}"}}]},"finish_reason":"tool_calls"}],)"
                 R"("usage":{"prompt_tokens":7,"completion_tokens":2,"total_tokens":9}})");
  EXPECT_EQ(wire_.status, 200);
  EXPECT_EQ(wire_.type, "application/json");
  const json c = json::parse(wire_.body);
  EXPECT_EQ(c["output"]["message"]["content"][0]["toolUse"],
            json::parse(R"({"toolUseId":"call_1","name":"get_weather","input":{"city":"mock"}})"));
  EXPECT_EQ(c["stopReason"], "tool_use");
  EXPECT_EQ(c["usage"]["inputTokens"], 7);
  EXPECT_EQ(c["usage"]["outputTokens"], 2);
}

struct ErrorCase {
  int status;
  const char* body;
  const char* want_type;
  const char* want_message;
};

class BedrockAnswerStageErrors : public BedrockAnswerStageTest, public ::testing::WithParamInterface<ErrorCase> {};

TEST_P(BedrockAnswerStageErrors, OpenAiErrorsBecomeBedrockErrors) {
  const ErrorCase& c = GetParam();
  stage_.respond(c.status, head("application/json"), c.body);
  EXPECT_EQ(wire_.status, c.status);
  EXPECT_EQ(errorType(), c.want_type);
  EXPECT_EQ(json::parse(wire_.body), json({{"message", c.want_message}}));
}

INSTANTIATE_TEST_SUITE_P(
    Table, BedrockAnswerStageErrors,
    ::testing::Values(ErrorCase{400, R"({"error":{"message":"bad","type":"invalid_request_error"}})",
                                "ValidationException", "bad"},
                      ErrorCase{404, R"({"error":{"message":"no model"}})", "ResourceNotFoundException", "no model"},
                      ErrorCase{429, R"({"error":{"message":"slow down"}})", "ThrottlingException", "slow down"},
                      ErrorCase{503, R"({"error":{"message":"busy"}})", "ServiceUnavailableException", "busy"},
                      ErrorCase{504, R"({"error":{"message":"late"}})", "ModelTimeoutException", "late"},
                      ErrorCase{500, "not json at all", "InternalServerException", "not json at all"}));

TEST_F(BedrockAnswerStageTest, AnAnswerThatIsNoCompletionIsABadGatewayInBedrocksShape) {
  stage_.respond(200, head("application/json"), R"({"unexpected":true})");
  EXPECT_EQ(wire_.status, 502);
  EXPECT_EQ(errorType(), "ModelErrorException");
  EXPECT_NE(json::parse(wire_.body)["message"].get<std::string>().find("could not be translated"), std::string::npos);
}

TEST_F(BedrockAnswerStageTest, AStreamBecomesEventStreamFrames) {
  stage_.writeHead(200, head("text/event-stream"), -1);
  EXPECT_EQ(wire_.type, "application/vnd.amazon.eventstream");
  const std::string chunk = R"({"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,)";
  stage_.writeBody("data: " + chunk + R"("delta":{"role":"assistant","content":""},"finish_reason":null}]})" + "\n\n");
  stage_.writeBody("data: " + chunk + R"("delta":{"content":"Hel"},"finish_reason":null}]})" + "\n\ndata: " + chunk +
                   R"("delta":{"content":"lo"},"finish_reason":"stop"}]})" + "\n\n");
  stage_.writeBody(R"(data: {"id":"c1","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2}})" "\n\n");
  stage_.writeBody("data: [DONE]\n\n");
  stage_.endResponse();
  const std::vector<Frame> got = frames(wire_.body);
  std::vector<std::string> kinds;
  std::string text;
  for (const Frame& f : got) {
    kinds.push_back(f.kind);
    if (f.kind == "contentBlockDelta") text += f.payload["delta"]["text"].get<std::string>();
  }
  EXPECT_EQ(kinds, (std::vector<std::string>{"messageStart", "contentBlockDelta", "contentBlockDelta",
                                             "contentBlockStop", "messageStop", "metadata"}));
  EXPECT_EQ(text, "Hello");
  EXPECT_EQ(got.back().payload["usage"]["inputTokens"], 3);
  EXPECT_TRUE(wire_.ended);
}

TEST_F(BedrockAnswerStageTest, AnErrorInsideAStreamIsAnExceptionFrame) {
  stage_.writeHead(200, head("text/event-stream"), -1);
  stage_.writeBody(R"(data: {"choices":[{"index":0,"delta":{"content":"a"},"finish_reason":null}]})" "\n\n");
  stage_.writeBody(R"(data: {"error":{"message":"slow down","type":"rate_limit_error"}})" "\n\n");
  stage_.endResponse();
  const std::vector<Frame> got = frames(wire_.body);
  ASSERT_FALSE(got.empty());
  EXPECT_TRUE(got.back().exception);
  EXPECT_EQ(got.back().kind, "throttlingException");
  EXPECT_EQ(got.back().payload["message"], "slow down");
}

// How the relay cuts a stream whose upstream failed: a Restart (drop what the failed attempt
// left), then the gateway's OpenAI-shaped error event, which still reaches the client as a frame.
TEST_F(BedrockAnswerStageTest, TheGatewaysCutAfterARestartIsAnExceptionFrame) {
  stage_.writeHead(200, head("text/event-stream"), -1);
  stage_.writeBody(R"(data: {"choices":[{"index":0,"delta":{"content":"a"},"finish_reason":null}]})" "\n\ndata: {\"cho");
  stage_.onEvent(AnswerEvent::Restart);
  stage_.writeBody(R"(data: {"error":{"message":"failed mid-stream","type":"upstream_error"}})" "\n\n");
  stage_.endResponse();
  const std::vector<Frame> got = frames(wire_.body);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[1].kind, "contentBlockDelta");
  EXPECT_TRUE(got[2].exception);
  EXPECT_EQ(got[2].kind, "modelStreamErrorException");
  EXPECT_EQ(got[2].payload["message"], "failed mid-stream");
}

TEST_F(BedrockAnswerStageTest, AStreamCutBeforeAnyAnswerEndsWithAnException) {
  stage_.writeHead(200, head("text/event-stream"), -1);
  stage_.endResponse();
  const std::vector<Frame> got = frames(wire_.body);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0].exception);
}

}  // namespace
}  // namespace aigw
