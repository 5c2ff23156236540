// ServerConnection over real loopback sockets, through a GatewayServer with the mock provider:
// keep-alive, pipelining, chunked bodies, Expect, framing errors, limits, HTTP/1.0 and HEAD.
// Timeouts, connection caps and backpressure are in server_connection_limits_test.cc.
#include "http/server_connection.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <thread>

#include "gateway_fixture.h"

namespace aigw {
namespace {

using testing::get;
using testing::mockConfig;
using testing::parseResponses;
using testing::post;
using testing::RawClient;
using testing::readResponses;
using testing::TestGateway;

const std::string kChat = R"({"model":"mock-gpt","messages":[{"role":"user","content":"hi"}]})";

void expectRequestId(const testing::ParsedResponse& r) {
  EXPECT_EQ(r.count("x-aigw-request-id"), 1u) << "status " << r.status;
  EXPECT_EQ(r.header("x-aigw-request-id").rfind("req_", 0), 0u) << r.header("x-aigw-request-id");
}

TEST(ServerConnection, ServesTwoRequestsOnOneKeepAliveConnection) {
  TestGateway gw(mockConfig());
  RawClient c(gw.port());
  ASSERT_TRUE(c.send(get("/health")));
  auto first = readResponses(c, 1);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].status, 200);
  EXPECT_FALSE(first[0].has("connection"));
  ASSERT_TRUE(c.send(post("/v1/chat/completions", kChat)));
  auto second = readResponses(c, 1);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].status, 200);
  EXPECT_FALSE(c.closed());
  EXPECT_NE(first[0].header("x-aigw-request-id"), second[0].header("x-aigw-request-id"));
  EXPECT_EQ(gw.stats()["connections_accepted"], 1);
}

TEST(ServerConnection, AnswersPipelinedRequestsInOrderFromOneWrite) {
  TestGateway gw(mockConfig());
  RawClient c(gw.port());
  // The first answer is the slowest, so order cannot come from timing.
  ASSERT_TRUE(c.send(post("/v1/chat/completions", kChat, "X-Mock-Latency-Ms: 150\r\n") + get("/v1/models") +
                     get("/nowhere")));
  auto rs = readResponses(c, 3);
  ASSERT_EQ(rs.size(), 3u);
  EXPECT_EQ(rs[0].status, 200);
  EXPECT_EQ(nlohmann::json::parse(rs[0].body)["object"], "chat.completion");
  EXPECT_EQ(rs[1].status, 200);
  EXPECT_EQ(nlohmann::json::parse(rs[1].body)["object"], "list");
  EXPECT_EQ(rs[2].status, 404);
  for (const auto& r : rs) expectRequestId(r);
  EXPECT_FALSE(c.closed());
}

TEST(ServerConnection, AnswersPipelinedRequestsSentByteByByte) {
  TestGateway gw(mockConfig());
  RawClient c(gw.port());
  const std::string all = get("/health") + post("/v1/chat/completions", kChat) + get("/v1/models/mock-gpt");
  for (char ch : all) {
    ASSERT_TRUE(c.send(std::string(1, ch)));
    std::this_thread::sleep_for(std::chrono::microseconds(200));  // the test is about slow arrival
  }
  auto rs = readResponses(c, 3);
  ASSERT_EQ(rs.size(), 3u);
  EXPECT_EQ(rs[0].status, 200);
  EXPECT_EQ(rs[1].status, 200);
  EXPECT_EQ(nlohmann::json::parse(rs[1].body)["object"], "chat.completion");
  EXPECT_EQ(rs[2].status, 200);
  EXPECT_EQ(nlohmann::json::parse(rs[2].body)["id"], "mock-gpt");
}

TEST(ServerConnection, AcceptsChunkedRequestBody) {
  TestGateway gw(mockConfig());
  RawClient c(gw.port());
  const std::string a = kChat.substr(0, 10), b = kChat.substr(10);
  char sizes[64];
  snprintf(sizes, sizeof(sizes), "%zx", a.size());
  std::string req = "POST /v1/chat/completions HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
  req += std::string(sizes) + ";ext=1\r\n" + a + "\r\n";
  snprintf(sizes, sizeof(sizes), "%zx", b.size());
  req += std::string(sizes) + "\r\n" + b + "\r\n0\r\n\r\n";
  ASSERT_TRUE(c.send(req));
  auto rs = readResponses(c, 1);
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].status, 200) << rs[0].body;
  EXPECT_EQ(nlohmann::json::parse(rs[0].body)["model"], "mock-gpt");
}

TEST(ServerConnection, Expect100ContinueGetsInterimResponseThenTheAnswer) {
  TestGateway gw(mockConfig());
  RawClient c(gw.port());
  ASSERT_TRUE(c.send("POST /v1/chat/completions HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: " +
                     std::to_string(kChat.size()) + "\r\n\r\n"));
  const std::string interim = c.readUntil("\r\n\r\n");
  EXPECT_EQ(interim, "HTTP/1.1 100 Continue\r\n\r\n");
  ASSERT_TRUE(c.send(kChat));
  auto rs = readResponses(c, 1);
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].status, 200);
  expectRequestId(rs[0]);
}

TEST(ServerConnection, ExpectWithOversizedBodyGets413InsteadOf100) {
  TestGateway gw(mockConfig(R"("max_body_bytes": 1024)"));
  RawClient c(gw.port());
  ASSERT_TRUE(c.send("POST /v1/chat/completions HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n"));
  const std::string raw = c.readAll(2000);
  EXPECT_EQ(raw.find("100 Continue"), std::string::npos);
  auto rs = parseResponses(raw);
  ASSERT_EQ(rs.size(), 1u) << raw;
  EXPECT_EQ(rs[0].status, 413);
  EXPECT_TRUE(c.closed());
}

// Each malformed request must produce exactly one 400 and a close: never a second response,
// even when the bytes after the bad framing look like a request of their own.
class MalformedFraming : public ::testing::TestWithParam<std::pair<const char*, std::string>> {};

TEST_P(MalformedFraming, GetsExactlyOne400AndClose) {
  TestGateway gw(mockConfig());
  RawClient c(gw.port());
  ASSERT_TRUE(c.send(GetParam().second));
  const std::string raw = c.readAll(2000);
  EXPECT_TRUE(c.closed()) << "connection left open";
  EXPECT_EQ(RawClient::countOf(raw, "HTTP/1.1"), 1) << raw;
  auto rs = parseResponses(raw);
  ASSERT_EQ(rs.size(), 1u) << raw;
  EXPECT_EQ(rs[0].status, 400) << raw;
  EXPECT_EQ(rs[0].header("connection"), "close");
  expectRequestId(rs[0]);
  EXPECT_EQ(nlohmann::json::parse(rs[0].body)["error"]["type"], "invalid_request_error");
  EXPECT_EQ(gw.stats()["framing_errors"], 1);
  EXPECT_EQ(gw.stats()["requests"], 0);
}

const std::string kSmuggled = "GET /health HTTP/1.1\r\nHost: t\r\n\r\n";

INSTANTIATE_TEST_SUITE_P(
    Server, MalformedFraming,
    ::testing::Values(
        std::make_pair("ContentLengthAndChunked",
                       "POST /v1/chat/completions HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nTransfer-Encoding: "
                       "chunked\r\n\r\n0\r\n\r\n" + kSmuggled),
        std::make_pair("ConflictingContentLength",
                       "POST /v1/chat/completions HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nContent-Length: "
                       "34\r\n\r\n" + kSmuggled),
        std::make_pair("ChunkedWithTrailingSpace",
                       "POST /v1/chat/completions HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked \r\n\r\n0\r\n\r\n" +
                           kSmuggled),
        std::make_pair("ObsFold", "GET /health HTTP/1.1\r\nHost: t\r\nX-A: a\r\n b\r\n\r\n" + kSmuggled),
        std::make_pair("BareLf", "GET /health HTTP/1.1\nHost: t\n\n" + kSmuggled),
        std::make_pair("SpaceBeforeColon", "GET /health HTTP/1.1\r\nHost : t\r\n\r\n" + kSmuggled),
        std::make_pair("NulInValue", std::string("GET /health HTTP/1.1\r\nHost: t\r\nX: a\0b\r\n\r\n", 42) + kSmuggled),
        std::make_pair("MissingHost", "GET /health HTTP/1.1\r\n\r\n" + kSmuggled),
        std::make_pair("DuplicateHost", "GET /health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n" + kSmuggled),
        std::make_pair("AbsoluteForm", "GET http://evil/health HTTP/1.1\r\nHost: t\r\n\r\n" + kSmuggled),
        std::make_pair("BadMethod", "G(T /health HTTP/1.1\r\nHost: t\r\n\r\n" + kSmuggled),
        std::make_pair("BadChunkSize",
                       "POST /v1/chat/completions HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n\r\n" +
                           kSmuggled),
        std::make_pair("LastChunkBareLf",
                       "POST /v1/chat/completions HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\n" +
                           kSmuggled)),
    [](const auto& info) { return std::string(info.param.first); });

TEST(ServerConnection, ValidRequestThenMalformedOneGetsTwoAnswersThenClose) {
  TestGateway gw(mockConfig());
  RawClient c(gw.port());
  ASSERT_TRUE(c.send(get("/health") + "GET /health HTTP/1.1\r\nHost: t\r\nX: a\r\n\tb\r\n\r\n" + kSmuggled));
  const std::string raw = c.readAll(2000);
  auto rs = parseResponses(raw);
  ASSERT_EQ(rs.size(), 2u) << raw;
  EXPECT_EQ(rs[0].status, 200);
  EXPECT_EQ(rs[1].status, 400);
  EXPECT_EQ(RawClient::countOf(raw, "HTTP/1.1"), 2);
  EXPECT_TRUE(c.closed());
}

TEST(ServerConnection, Http2PrefaceGets505AndClose) {
  TestGateway gw(mockConfig());
  RawClient c(gw.port());
  ASSERT_TRUE(c.send(std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") + std::string(9, '\0')));
  const std::string raw = c.readAll(2000);
  auto rs = parseResponses(raw);
  ASSERT_EQ(rs.size(), 1u) << raw;
  EXPECT_EQ(rs[0].status, 505);
  EXPECT_TRUE(c.closed());
}

// ---------------------------------------------------------------------------------------------
// Limits over sockets: one answer with the limit's status, then the connection closes.

struct LimitCase {
  const char* name;
  std::string request;
  int status;
};

class LimitOverSocket : public ::testing::TestWithParam<LimitCase> {};

TEST_P(LimitOverSocket, AnswersWithStatusAndCloses) {
  TestGateway gw(mockConfig(R"("max_header_bytes": 2048, "max_url_bytes": 256, "max_body_bytes": 1024)"));
  RawClient c(gw.port());
  ASSERT_TRUE(c.send(GetParam().request));
  const std::string raw = c.readAll(2000);
  auto rs = parseResponses(raw);
  ASSERT_EQ(rs.size(), 1u) << raw.substr(0, 300);
  EXPECT_EQ(rs[0].status, GetParam().status);
  EXPECT_EQ(rs[0].header("connection"), "close");
  expectRequestId(rs[0]);
  EXPECT_TRUE(c.closed());
  EXPECT_EQ(gw.stats()["limit_errors"], 1);
}

INSTANTIATE_TEST_SUITE_P(
    Server, LimitOverSocket,
    ::testing::Values(
        LimitCase{"HeaderBlock431", get("/health", "X-Big: " + std::string(3000, 'b') + "\r\n"), 431},
        LimitCase{"ManyHeaders431",
                  [] {
                    std::string h;
                    for (int i = 0; i < 200; ++i) h += "X-" + std::to_string(i) + ": 1\r\n";
                    return get("/health", h);
                  }(),
                  431},
        LimitCase{"Url414", get("/health?" + std::string(300, 'q')), 414},
        // Headers only: the 413 must not wait for a body that never comes.
        LimitCase{"ContentLength413",
                  "POST /v1/chat/completions HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n", 413},
        LimitCase{"ChunkedBody413",
                  "POST /v1/chat/completions HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n" +
                      std::string(1024, 'a') + "\r\n1\r\nb\r\n0\r\n\r\n",
                  413}),
    [](const auto& info) { return std::string(info.param.name); });

// After an early 413 the client may keep sending the body it announced. The server reads and
// discards it (lingering close) so its close does not become a reset that destroys the 413
// before the client reads it.
TEST(ServerConnection, ClientStillSendingABodyAfter413ReadsTheAnswer) {
  TestGateway gw(mockConfig(R"("max_body_bytes": 1024)"));
  RawClient c(gw.port());
  const size_t body_size = 4 * 1024 * 1024;
  ASSERT_TRUE(c.send("POST /v1/chat/completions HTTP/1.1\r\nHost: t\r\nContent-Length: " +
                     std::to_string(body_size) + "\r\n\r\n"));
  std::thread sender([&] {
    const std::string piece(64 * 1024, 'x');
    for (size_t sent = 0; sent < body_size; sent += piece.size()) {
      if (!c.send(piece)) break;
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let body bytes pile up first
  const std::string raw = c.readAll(3000);
  sender.join();
  auto rs = parseResponses(raw);
  ASSERT_EQ(rs.size(), 1u) << "reset=" << c.reset();
  EXPECT_EQ(rs[0].status, 413);
  EXPECT_TRUE(rs[0].complete);
  EXPECT_FALSE(c.reset());
}

// ---------------------------------------------------------------------------------------------
// HTTP/1.0 and HEAD

TEST(ServerConnection, Http10RequestGetsConnectionCloseAndIsClosed) {
  TestGateway gw(mockConfig());
  RawClient c(gw.port());
  ASSERT_TRUE(c.send("GET /health HTTP/1.0\r\n\r\n" + get("/health")));
  const std::string raw = c.readAll(2000);
  auto rs = parseResponses(raw);
  ASSERT_EQ(rs.size(), 1u) << raw;
  EXPECT_EQ(rs[0].status, 200);
  EXPECT_EQ(rs[0].header("connection"), "close");
  EXPECT_TRUE(rs[0].has("content-length"));
  EXPECT_TRUE(c.closed());
}

TEST(ServerConnection, Http10KeepAliveRequestIsKeptAlive) {
  TestGateway gw(mockConfig());
  RawClient c(gw.port());
  ASSERT_TRUE(c.send("GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  auto rs = readResponses(c, 1);
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].header("connection"), "keep-alive");
  ASSERT_TRUE(c.send("GET /health HTTP/1.0\r\n\r\n"));
  auto second = readResponses(c, 1);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].status, 200);
}

TEST(ServerConnection, Http10StreamIsCloseDelimited) {
  TestGateway gw(mockConfig());
  RawClient c(gw.port());
  const std::string body = R"({"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]})";
  ASSERT_TRUE(c.send("POST /v1/chat/completions HTTP/1.0\r\nContent-Length: " + std::to_string(body.size()) +
                     "\r\n\r\n" + body));
  const std::string raw = c.readAll(2000);
  auto rs = parseResponses(raw);
  ASSERT_EQ(rs.size(), 1u) << raw;
  EXPECT_FALSE(rs[0].has("transfer-encoding"));  // HTTP/1.0 has no chunked coding
  EXPECT_FALSE(rs[0].has("content-length"));
  EXPECT_NE(rs[0].body.find("data: [DONE]"), std::string::npos);
  EXPECT_TRUE(c.closed());
}

TEST(ServerConnection, HeadGetsHeadersWithoutBody) {
  TestGateway gw(mockConfig());
  RawClient c(gw.port());
  ASSERT_TRUE(c.send("HEAD /health HTTP/1.1\r\nHost: t\r\n\r\n" + get("/health")));
  auto rs = readResponses(c, 2, 3000, {true, false});
  ASSERT_EQ(rs.size(), 2u);
  EXPECT_EQ(rs[0].status, 200);
  EXPECT_GT(std::stoul(rs[0].header("content-length")), 0u);
  EXPECT_TRUE(rs[0].body.empty());
  expectRequestId(rs[0]);
  // The second response starts right after the first head: no stray body bytes in between.
  EXPECT_EQ(rs[1].status, 200);
  EXPECT_EQ(nlohmann::json::parse(rs[1].body)["status"], "ok");
}

TEST(ServerConnection, ConnectionCloseRequestIsAnsweredThenClosed) {
  TestGateway gw(mockConfig());
  RawClient c(gw.port());
  ASSERT_TRUE(c.send(get("/health", "Connection: close\r\n") + get("/health")));
  const std::string raw = c.readAll(2000);
  EXPECT_EQ(RawClient::countOf(raw, "HTTP/1.1"), 1) << raw;
  EXPECT_TRUE(c.closed());
}

TEST(ServerConnection, UpgradeRequestIsAnsweredAsPlainHttpAndClosed) {
  TestGateway gw(mockConfig());
  RawClient c(gw.port());
  ASSERT_TRUE(c.send(get("/health", "Connection: Upgrade\r\nUpgrade: websocket\r\n") + "\x81\x05hello"));
  const std::string raw = c.readAll(2000);
  auto rs = parseResponses(raw);
  ASSERT_EQ(rs.size(), 1u) << raw;
  EXPECT_EQ(rs[0].status, 200);
  EXPECT_EQ(rs[0].header("connection"), "close");
  EXPECT_TRUE(c.closed());
}

}  // namespace
}  // namespace aigw
