// The gateway relaying upstream answers end to end: a real GatewayServer with an `openai`
// provider pointed at a scripted upstream, driven by a raw client.
#include "gateway/exchange.h"

#include <gtest/gtest.h>

#include "config_fixture.h"
#include "gateway/gateway_server.h"
#include "test_client.h"
#include "upstream/scripted_upstream.h"

namespace aigw {
namespace {

using testing::chunkedResponse;
using testing::okResponse;
using testing::rawResponse;
using testing::RawClient;
using testing::ScriptedUpstream;

std::unique_ptr<GatewayServer> startGateway(int upstream_port, int* port, const std::string& extra = "") {
  const std::string config = testing::completeConfig(R"({
    "server": {"host": "127.0.0.1", "port": 0, "workers": 1},
    "providers": [{"name": "up", "kind": "openai", "api_key": "sk-up",
                   "base_url": "http://127.0.0.1:)" + std::to_string(upstream_port) + R"(/v1")" + extra + R"(}],
    "routes": [)" + testing::directRoute("alias", "up", "gpt-4o").dump() + "," +
                                                      testing::directRoute("*", "up").dump() + R"(]
  })");
  std::string error;
  auto server = GatewayServer::create(config, &error);
  EXPECT_TRUE(server) << error;
  if (!server) return nullptr;
  *port = server->start(&error);
  EXPECT_GT(*port, 0) << error;
  return server;
}

std::string chat(const std::string& model, bool stream) {
  const std::string body = R"({"model":")" + model + R"(","stream":)" + (stream ? "true" : "false") +
                           R"(,"messages":[{"role":"user","content":"hi"}]})";
  return "POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\ncontent-type: application/json\r\n"
         "authorization: Bearer client-secret\r\ncontent-length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

TEST(ExchangeRelay, ProxiesAnAnswerWithTheUpstreamModelAndKey) {
  const std::string answer = R"({"id":"c1","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4}})";
  ScriptedUpstream upstream({okResponse(answer, "set-cookie: s=1\r\nx-ratelimit-remaining-requests: 99\r\n")});
  int port = 0;
  auto gw = startGateway(upstream.port(), &port);
  ASSERT_TRUE(gw);
  RawClient client(port);
  ASSERT_TRUE(client.send(chat("alias", false)));
  std::string resp = client.readUntil(answer);
  EXPECT_EQ(resp.rfind("HTTP/1.1 200", 0), 0u) << resp;
  EXPECT_NE(resp.find("content-length: " + std::to_string(answer.size()) + "\r\n"), std::string::npos) << resp;
  EXPECT_NE(resp.find("x-aigw-provider: up\r\n"), std::string::npos) << resp;
  EXPECT_NE(resp.find("x-aigw-model: gpt-4o\r\n"), std::string::npos) << resp;
  EXPECT_NE(resp.find("x-ratelimit-remaining-requests: 99\r\n"), std::string::npos) << resp;
  EXPECT_EQ(resp.find("set-cookie"), std::string::npos) << resp;
  auto requests = upstream.receivedRequests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_NE(requests[0].find("\"model\":\"gpt-4o\""), std::string::npos) << requests[0];
  EXPECT_NE(requests[0].find("authorization: Bearer sk-up\r\n"), std::string::npos) << requests[0];
  EXPECT_EQ(requests[0].find("client-secret"), std::string::npos) << requests[0];
  gw->stop(1000);
}

TEST(ExchangeRelay, SecondRequestReusesTheUpstreamConnection) {
  ScriptedUpstream upstream({okResponse("{\"n\":1}"), okResponse("{\"n\":2}")});
  int port = 0;
  auto gw = startGateway(upstream.port(), &port);
  ASSERT_TRUE(gw);
  RawClient client(port);
  client.send(chat("alias", false));
  EXPECT_NE(client.readUntil("{\"n\":1}").find("200"), std::string::npos);
  client.send(chat("alias", false));
  EXPECT_NE(client.readUntil("{\"n\":2}").find("200"), std::string::npos);
  EXPECT_EQ(upstream.accepted(), 1);
  gw->stop(1000);
}

TEST(ExchangeRelay, StreamsEventsAsTheyArrive) {
  const std::vector<std::string> events = {"data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\n",
                                           "data: {\"choices\":[{\"delta\":{\"content\":\"b\"}}]}\n\n",
                                           "data: [DONE]\n\n"};
  ScriptedUpstream upstream({chunkedResponse(events)});
  int port = 0;
  auto gw = startGateway(upstream.port(), &port);
  ASSERT_TRUE(gw);
  RawClient client(port);
  client.send(chat("alias", true));
  std::string resp = client.readUntil("0\r\n\r\n");
  EXPECT_EQ(resp.rfind("HTTP/1.1 200", 0), 0u) << resp;
  EXPECT_NE(resp.find("content-type: text/event-stream"), std::string::npos) << resp;
  EXPECT_NE(resp.find("transfer-encoding: chunked"), std::string::npos) << resp;
  for (const auto& e : events) EXPECT_NE(resp.find(e), std::string::npos) << e;
  gw->stop(1000);
}

TEST(ExchangeRelay, RefusedUpstreamIsA502NamingTheProvider) {
  testing::RefusingPort refusing;
  int port = 0;
  auto gw = startGateway(refusing.port(), &port);
  ASSERT_TRUE(gw);
  RawClient client(port);
  client.send(chat("alias", false));
  std::string resp = client.readUntil("}}");
  EXPECT_EQ(resp.rfind("HTTP/1.1 502", 0), 0u) << resp;
  EXPECT_NE(resp.find("provider 'up' failed"), std::string::npos) << resp;
  EXPECT_NE(resp.find("\"type\":\"upstream_error\""), std::string::npos) << resp;
  gw->stop(1000);
}

TEST(ExchangeRelay, SilentUpstreamIsA504) {
  ScriptedUpstream upstream({testing::neverAnswer()});
  int port = 0;
  auto gw = startGateway(upstream.port(), &port, R"(, "first_byte_timeout_ms": 150)");
  ASSERT_TRUE(gw);
  RawClient client(port);
  client.send(chat("alias", false));
  std::string resp = client.readUntil("}}");
  EXPECT_EQ(resp.rfind("HTTP/1.1 504", 0), 0u) << resp;
  EXPECT_NE(resp.find("no response within 150 ms"), std::string::npos) << resp;
  gw->stop(1000);
}

TEST(ExchangeRelay, UpstreamErrorStatusIsRelayedAsIs) {
  const std::string body = R"({"error":{"message":"Rate limit reached","type":"requests"}})";
  ScriptedUpstream upstream({rawResponse("HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/json\r\n"
                                         "retry-after: 20\r\ncontent-length: " +
                                         std::to_string(body.size()) + "\r\n\r\n" + body)});
  int port = 0;
  auto gw = startGateway(upstream.port(), &port);
  ASSERT_TRUE(gw);
  RawClient client(port);
  client.send(chat("alias", false));
  std::string resp = client.readUntil(body);
  EXPECT_EQ(resp.rfind("HTTP/1.1 429", 0), 0u) << resp;
  EXPECT_NE(resp.find("retry-after: 20\r\n"), std::string::npos) << resp;
  gw->stop(1000);
}

TEST(ExchangeRelay, StreamCutMidwayEndsWithAnErrorEvent) {
  // Two events, then the upstream closes in the middle of the chunked body.
  std::string head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n";
  std::string ev = "data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n\n";
  char size[16];
  snprintf(size, sizeof(size), "%zx\r\n", ev.size());
  ScriptedUpstream upstream({rawResponse(head + size + ev + "\r\n" + "40\r\ndata: {\"cut").thenClose()});
  int port = 0;
  auto gw = startGateway(upstream.port(), &port);
  ASSERT_TRUE(gw);
  RawClient client(port);
  client.send(chat("alias", true));
  std::string resp = client.readUntil("0\r\n\r\n");
  EXPECT_EQ(resp.rfind("HTTP/1.1 200", 0), 0u) << resp;
  EXPECT_NE(resp.find(ev), std::string::npos) << resp;
  EXPECT_NE(resp.find("failed mid-stream"), std::string::npos) << resp;
  EXPECT_NE(resp.find("0\r\n\r\n"), std::string::npos) << "the stream must still end cleanly: " << resp;
  gw->stop(1000);
}

TEST(ExchangeRelay, FixedLengthBodyCutMidwayIsACleanBadGateway) {
  ScriptedUpstream upstream({rawResponse("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n"
                                         "{\"partial\":")
                                 .thenClose()});
  int port = 0;
  auto gw = startGateway(upstream.port(), &port);
  ASSERT_TRUE(gw);
  RawClient client(port);
  client.send(chat("alias", false));
  // Whole answers are held until complete, so the truncated one never reaches the client.
  std::string resp = client.readUntil("upstream_error");
  EXPECT_EQ(resp.rfind("HTTP/1.1 502", 0), 0u) << resp;
  EXPECT_EQ(resp.find("partial"), std::string::npos) << resp;
  gw->stop(1000);
}

TEST(ExchangeRelay, ClientLeavingMidStreamClosesTheUpstreamConnection) {
  ScriptedUpstream upstream({chunkedResponse({"data: {\"a\":1}\n\n", std::string(200, 'x')}).stallAfter(120),
                             okResponse("{}")});
  int port = 0;
  auto gw = startGateway(upstream.port(), &port);
  ASSERT_TRUE(gw);
  {
    RawClient client(port);
    client.send(chat("alias", true));
    EXPECT_NE(client.readUntil("data: {\"a\":1}").find("200"), std::string::npos);
  }  // the client goes away with the stream still open
  EXPECT_TRUE(upstream.waitFor([&] { return upstream.peerCloses() == 1; }));
  gw->stop(1000);
}

TEST(ExchangeRelay, HeadPassthroughDoesNotWaitForABody) {
  ScriptedUpstream upstream({rawResponse("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 321\r\n\r\n"),
                             okResponse("{\"after\":true}")});
  int port = 0;
  auto gw = startGateway(upstream.port(), &port, R"(, "first_byte_timeout_ms": 3000, "idle_timeout_ms": 3000)");
  ASSERT_TRUE(gw);
  RawClient client(port);
  client.send("HEAD /v1/files HTTP/1.1\r\nhost: gw\r\n\r\n");
  std::string resp = client.readUntil("\r\n\r\n", 1, 2000);
  EXPECT_EQ(resp.rfind("HTTP/1.1 200", 0), 0u) << resp;
  client.send("GET /v1/files HTTP/1.1\r\nhost: gw\r\n\r\n");
  resp = client.readUntil("{\"after\":true}", 1, 2000);
  EXPECT_NE(resp.find("{\"after\":true}"), std::string::npos) << resp << "\nupstream saw: " << ::testing::PrintToString(upstream.receivedRequests());
  gw->stop(1000);
}

}  // namespace
}  // namespace aigw
