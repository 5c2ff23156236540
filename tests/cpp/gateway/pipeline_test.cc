// The request pipeline: a stage can park a request for async work and resume it later, and a
// parked request whose client leaves has its work cancelled, not resumed.
#include <gtest/gtest.h>

#include <atomic>

#include "config_fixture.h"
#include "core/timer.h"
#include "gateway/exchange.h"
#include "gateway/gateway_server.h"
#include "gateway/worker.h"
#include "test_client.h"

namespace aigw {
namespace {

std::string config() {
  return testing::completeConfig(nlohmann::json{{"server", {{"host", "127.0.0.1"}, {"port", 0}, {"workers", 1}}},
                                                {"providers", {{{"name", "mock"}, {"kind", "mock"}}}},
                                                {"routes", {testing::directRoute("*", "mock")}}})
      .dump();
}

std::atomic<int> g_resumed{0};
std::atomic<int> g_cancelled{0};

// Async work: a timer that resumes the exchange; destroying it before it fires cancels it.
struct DelayedResume final : DeferredDeletable {
  DelayedResume(RequestContext& ex, uint64_t ms)
      : timer(ex.loop().uv(), [this, &ex] {
          fired = true;
          ++g_resumed;
          ex.continuePipeline();
        }) {
    timer.start(ms);
  }
  ~DelayedResume() override {
    if (!fired) ++g_cancelled;
  }
  Timer timer;
  bool fired = false;
};

class ParkingFilter final : public Filter {
 public:
  const char* name() const override { return "parking"; }
  FilterStatus onRequest(RequestContext& ex) const override {
    ex.park(std::make_unique<DelayedResume>(ex, 100));
    return FilterStatus::StopIteration;
  }
};

std::unique_ptr<GatewayServer> startWithParking(int* port) {
  std::string error;
  auto server = GatewayServer::create(config(), &error);
  server->addFilter([] { return std::make_unique<ParkingFilter>(); });
  *port = server->start(&error);
  return server;
}

const char* kChat =
    "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 56\r\n\r\n"
    "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}";

TEST(Pipeline, ParkedStageResumesAndTheRequestCompletes) {
  g_resumed = 0;
  int port = 0;
  auto server = startWithParking(&port);
  ASSERT_GT(port, 0);
  testing::RawClient c(port);
  c.send(kChat);
  std::string resp = c.readUntil("chat.completion");
  EXPECT_NE(resp.find("HTTP/1.1 200 OK"), std::string::npos) << resp;
  EXPECT_EQ(g_resumed.load(), 1);
  server->stop(1000);
}

TEST(Pipeline, ParkedWorkIsCancelledWhenTheClientLeaves) {
  g_resumed = 0;
  g_cancelled = 0;
  int port = 0;
  auto server = startWithParking(&port);
  {
    testing::RawClient c(port);
    c.send(kChat);
  }  // disconnect while parked
  // The cancellation happens on the loop; stop() joins it, after which the count is final.
  for (int i = 0; i < 200 && g_cancelled.load() == 0; ++i) {
    testing::RawClient probe(port);  // any traffic; the disconnect is processed meanwhile
    probe.send("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    probe.readAll(200);
  }
  server->stop(1000);
  EXPECT_EQ(g_cancelled.load(), 1);
  EXPECT_EQ(g_resumed.load(), 0);
}

TEST(Pipeline, ParkedRequestsDoNotBlockOthers) {
  int port = 0;
  auto server = startWithParking(&port);
  testing::RawClient slow(port);
  slow.send(kChat);
  testing::RawClient fast(port);
  fast.send("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  std::string health = fast.readAll(2000);
  EXPECT_NE(health.find("200 OK"), std::string::npos);
  EXPECT_EQ(slow.readUntil("chat.completion").find("200 OK") != std::string::npos, true);
  server->stop(1000);
}

}  // namespace
}  // namespace aigw
