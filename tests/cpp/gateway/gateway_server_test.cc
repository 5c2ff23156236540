#include "gateway/gateway_server.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "gateway_fixture.h"
#include <memory>
#include <string>
#include <vector>

#include "test_client.h"

namespace aigw {
namespace {

std::string config() { return testing::mockConfig(R"("workers": 2)"); }

TEST(GatewayServer, StartsServesHealthAndStops) {
  std::string error;
  auto server = GatewayServer::create(config(), &error);
  ASSERT_TRUE(server) << error;
  int port = server->start(&error);
  ASSERT_GT(port, 0) << error;
  {
    testing::RawClient c(port);
    ASSERT_TRUE(c.connected());
    c.send("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    std::string resp = c.readAll();
    EXPECT_NE(resp.find("HTTP/1.1 200 OK"), std::string::npos) << resp;
    EXPECT_NE(resp.find("x-aigw-request-id: req_"), std::string::npos) << resp;
  }
  server->stop(1000);
  EXPECT_FALSE(server->running());
}

TEST(GatewayServer, StopWithIdleKeepAliveConnection) {
  std::string error;
  auto server = GatewayServer::create(config(), &error);
  int port = server->start(&error);
  ASSERT_GT(port, 0) << error;
  testing::RawClient c(port);
  c.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string resp = c.readUntil("\"status\":\"ok\"");
  EXPECT_NE(resp.find("200 OK"), std::string::npos);
  server->stop(1000);
  EXPECT_EQ(c.readAll(500), "");
  EXPECT_TRUE(c.closed());
}

// Draining lets an answer that is already written but not yet flushed reach a slow reader.
TEST(GatewayServer, StopLetsAQueuedAnswerFlushToASlowReader) {
  testing::TestGateway gw(testing::mockConfig());
  testing::RawClient c(gw.port(), /*rcvbuf=*/32 * 1024);
  ASSERT_TRUE(c.send(testing::post("/v1/embeddings", R"({"model":"m","input":["a","b","c"],"dimensions":65536})")));
  std::string raw = c.readSome(3000);
  ASSERT_FALSE(raw.empty());
  std::thread stopper([&] { gw.server().stop(10000); });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!c.closed() && std::chrono::steady_clock::now() < deadline) {
    raw += c.readSome(1000);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  stopper.join();
  auto rs = testing::parseResponses(raw);
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_TRUE(rs[0].complete) << "cut after " << raw.size() << " bytes";
  EXPECT_EQ(rs[0].header("connection"), "");  // it was keep-alive when written
  EXPECT_FALSE(c.reset());
}

TEST(GatewayServer, StopLetsAStreamInFlightFinish) {
  testing::TestGateway gw(testing::mockConfig());
  testing::RawClient c(gw.port());
  ASSERT_TRUE(c.send(testing::post("/v1/chat/completions",
                                   R"({"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]})",
                                   "X-Mock-Chunks: 6\r\nX-Mock-Chunk-Delay-Ms: 50\r\n")));
  c.readUntil("data: ", 2);
  std::thread stopper([&] { gw.server().stop(5000); });
  const std::string rest = c.readAll(5000);
  stopper.join();
  EXPECT_NE(rest.find("data: [DONE]"), std::string::npos) << rest;
  EXPECT_NE(rest.find("0\r\n\r\n"), std::string::npos);
  EXPECT_TRUE(c.closed());
  testing::RawClient late(gw.port());
  EXPECT_FALSE(late.connected() && late.send(testing::get("/health")) && !late.readAll(500).empty());
}

TEST(GatewayServer, ClientsLeavingMidStreamWhileTheMockIsPacingChunks) {
  // The mock's chunk timer may fire after the client's connection is freed but before the
  // call is deleted (timers run before the deferred deletes); it must not touch the writer.
  std::string error;
  auto server = GatewayServer::create(config(), &error);
  ASSERT_TRUE(server) << error;
  int port = server->start(&error);
  ASSERT_GT(port, 0) << error;
  const std::string body = R"({"model":"mock-gpt","stream":true,"messages":[{"role":"user","content":"hi"}]})";
  const std::string request = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                              "x-mock-chunks: 100000\r\nx-mock-chunk-delay-ms: 1\r\nContent-Length: " +
                              std::to_string(body.size()) + "\r\n\r\n" + body;
  for (int round = 0; round < 5; ++round) {
    std::vector<std::unique_ptr<testing::RawClient>> clients;
    for (int i = 0; i < 64; ++i) {
      clients.push_back(std::make_unique<testing::RawClient>(port));
      ASSERT_TRUE(clients.back()->send(request));
    }
    for (auto& c : clients) EXPECT_NE(c->readUntil("data: ", 2).find("data: "), std::string::npos);
    clients.clear();  // every stream's client leaves at once, mid-stream
  }
  testing::RawClient probe(port);
  probe.send("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(probe.readAll().find("200 OK"), std::string::npos);
  server->stop(1000);
}

}  // namespace
}  // namespace aigw
