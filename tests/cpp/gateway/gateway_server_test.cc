#include "gateway/gateway_server.h"

#include <gtest/gtest.h>

#include "test_client.h"

namespace aigw {
namespace {

const char* kConfig = R"({
  "server": {"host": "127.0.0.1", "port": 0, "workers": 2},
  "providers": [{"name": "mock", "kind": "mock"}],
  "models": [{"name": "mock-gpt", "provider": "mock"}, {"name": "*", "provider": "mock"}]
})";

TEST(GatewayServer, StartsServesHealthAndStops) {
  std::string error;
  auto server = GatewayServer::create(kConfig, &error);
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
  auto server = GatewayServer::create(kConfig, &error);
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

}  // namespace
}  // namespace aigw
