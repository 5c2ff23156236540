// ServerConnection under slow, idle, greedy and too many peers: header/body/idle timeouts,
// the connection cap, and a client that pipelines without reading its answers.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "gateway_fixture.h"
#include "http/server_connection.h"

namespace aigw {
namespace {

using Clock = std::chrono::steady_clock;
using testing::get;
using testing::mockConfig;
using testing::msSince;
using testing::parseResponses;
using testing::post;
using testing::RawClient;
using testing::readResponses;
using testing::TestGateway;

// A request that stops coming in: the client gets a 408 at the timeout of the part it is
// stuck in, and the connection closes.
struct Stalled {
  const char* name;
  const char* timeout;  // the server setting, 200 ms
  const char* sent;
};

class ServerConnectionStalledRequest : public ::testing::TestWithParam<Stalled> {};

TEST_P(ServerConnectionStalledRequest, Gets408AtItsTimeout) {
  const Stalled& c = GetParam();
  TestGateway gw(mockConfig(std::string("\"") + c.timeout + "\": 200"));
  RawClient client(gw.port());
  const auto t0 = Clock::now();
  ASSERT_TRUE(client.send(c.sent));
  const std::string raw = client.readAll(3000);
  const int64_t elapsed = msSince(t0);
  auto rs = parseResponses(raw);
  ASSERT_EQ(rs.size(), 1u) << raw;
  EXPECT_EQ(rs[0].status, 408);
  EXPECT_EQ(rs[0].header("connection"), "close");
  EXPECT_FALSE(rs[0].header("x-aigw-request-id").empty());
  EXPECT_EQ(nlohmann::json::parse(rs[0].body)["error"]["type"], "timeout_error");
  EXPECT_TRUE(client.closed());
  EXPECT_GE(elapsed, 150);
  EXPECT_LT(elapsed, 2000);
  EXPECT_EQ(gw.stats()["timeouts"], 1);
}

INSTANTIATE_TEST_SUITE_P(
    ServerConnectionTimeouts, ServerConnectionStalledRequest,
    ::testing::Values(Stalled{"PartialHeaders", "header_timeout_ms", "GET /health HTTP/1.1\r\nHo"},
                      Stalled{"StalledBody", "body_timeout_ms",
                              "POST /v1/chat/completions HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n{\"mo"}),
    [](const ::testing::TestParamInfo<Stalled>& info) { return info.param.name; });

// A connection with nothing to do (none sent yet, or the last answer is out) is closed at its
// timeout, without an answer.
struct Quiet {
  const char* name;
  const char* timeout;  // the server setting, 200 ms
  bool answered_one;    // a request was answered before the connection went quiet
};

class ServerConnectionQuiet : public ::testing::TestWithParam<Quiet> {};

TEST_P(ServerConnectionQuiet, IsClosedAtItsTimeoutWithoutAnswer) {
  const Quiet& c = GetParam();
  TestGateway gw(mockConfig(std::string("\"") + c.timeout + "\": 200"));
  RawClient client(gw.port());
  if (c.answered_one) {
    ASSERT_TRUE(client.send(get("/health")));
    ASSERT_EQ(readResponses(client, 1).size(), 1u);
  }
  const auto t0 = Clock::now();
  EXPECT_EQ(client.readAll(3000), "");
  EXPECT_TRUE(client.closed());
  EXPECT_GE(msSince(t0), 150);
  EXPECT_LT(msSince(t0), 2000);
  EXPECT_EQ(gw.waitForStat("connections_active", [](int64_t v) { return v == 0; }), 0);
}

INSTANTIATE_TEST_SUITE_P(ServerConnectionTimeouts, ServerConnectionQuiet,
                         ::testing::Values(Quiet{"SilentConnectionAtHeaderTimeout", "header_timeout_ms", false},
                                           Quiet{"IdleKeepAliveConnectionAfterIdleTimeout", "idle_timeout_ms", true}),
                         [](const ::testing::TestParamInfo<Quiet>& info) { return info.param.name; });

TEST(ServerConnectionTimeouts, HeaderTimeoutCountsFromTheFirstByteNotTheLast) {
  TestGateway gw(mockConfig(R"("header_timeout_ms": 300)"));
  RawClient c(gw.port());
  const auto t0 = Clock::now();
  // Slowloris: a byte every 50 ms must not push the deadline back.
  const std::string req = get("/health", "X-Slow: " + std::string(40, 's') + "\r\n");
  for (size_t i = 0; i < req.size() - 2 && !c.closed(); ++i) {
    if (!c.send(std::string(1, req[i]))) break;
    if (!c.readSome(50).empty() || c.closed()) break;
  }
  const std::string raw = c.readAll(2000);
  EXPECT_LT(msSince(t0), 1500);
  EXPECT_TRUE(c.closed());
  EXPECT_EQ(gw.stats()["timeouts"], 1);
}

TEST(ServerConnectionTimeouts, SlowlorisConnectionsCloseWhileNormalRequestsAreServed) {
  TestGateway gw(mockConfig(R"("header_timeout_ms": 800)"));
  std::vector<std::unique_ptr<RawClient>> slow;
  for (int i = 0; i < 100; ++i) {
    slow.push_back(std::make_unique<RawClient>(gw.port()));
    slow.back()->send("GET /health HTTP/1.1\r\nHost: t\r\nX-Slow: 1");
  }
  const auto t0 = Clock::now();
  RawClient normal(gw.port());
  ASSERT_TRUE(normal.send(get("/health")));
  auto rs = readResponses(normal, 1);
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].status, 200);
  EXPECT_LT(msSince(t0), 500);  // long before the slow ones time out
  for (auto& c : slow) {
    const std::string raw = c->readAll(3000);
    EXPECT_NE(raw.find("HTTP/1.1 408"), std::string::npos);
    EXPECT_TRUE(c->closed());
  }
  EXPECT_EQ(gw.stats()["timeouts"], 100);
}

// The idle timer measures a connection with nothing to do; one still flushing an answer to a
// slow reader is busy, and must not be closed under it.
TEST(ServerConnectionTimeouts, SlowReaderGetsTheWholeAnswerDespiteAShortIdleTimeout) {
  TestGateway gw(mockConfig(R"("idle_timeout_ms": 1000)"));
  RawClient c(gw.port(), /*rcvbuf=*/32 * 1024);
  ASSERT_TRUE(c.send(post("/v1/embeddings", R"({"model":"m","input":["a","b","c"],"dimensions":65536})")));
  std::string raw;
  raw.reserve(8 * 1024 * 1024);
  size_t total = std::string::npos;  // head + Content-Length, once the head arrived
  const auto deadline = Clock::now() + std::chrono::seconds(20);
  while (!c.closed() && Clock::now() < deadline && raw.size() < total) {
    raw += c.readSome(1000);
    if (total == std::string::npos && raw.find("\r\n\r\n") != std::string::npos) {
      auto head = parseResponses(raw.substr(0, raw.find("\r\n\r\n") + 4));
      if (!head.empty()) total = raw.find("\r\n\r\n") + 4 + std::stoul(head[0].header("content-length"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the test is about a slow reader
  }
  auto rs = parseResponses(raw);
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_TRUE(rs[0].complete) << "cut after " << raw.size() << " bytes of " << total << " reset=" << c.reset();
  EXPECT_EQ(rs[0].status, 200);
}

// A client that stops reading mid-stream must not hold the connection (and the upstream call)
// forever: with no write progress for idle_timeout_ms the connection is closed.
TEST(ServerConnectionTimeouts, ClientThatStopsReadingAStreamIsClosedAfterIdleTimeout) {
  TestGateway gw(mockConfig(R"("idle_timeout_ms": 300)"));
  RawClient c(gw.port(), /*rcvbuf=*/16 * 1024);
  ASSERT_TRUE(c.send(post("/v1/chat/completions",
                          R"({"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]})",
                          "X-Mock-Chunks: 100000\r\n")));
  gw.waitForStat("requests", [](int64_t v) { return v == 1; });
  const auto t0 = Clock::now();
  EXPECT_EQ(gw.waitForStat("connections_active", [](int64_t v) { return v == 0; }, 5000), 0);
  EXPECT_LT(msSince(t0), 3000);
  EXPECT_EQ(gw.stats()["timeouts"], 1);
  EXPECT_EQ(gw.stats()["client_aborts"], 1);
}

// Pipelined requests wait while the write queue is full; that wait is not header time.
TEST(ServerConnectionTimeouts, PipelinedRequestsWaitingOnASlowReaderAreNotTimedOut) {
  TestGateway gw(mockConfig(R"("idle_timeout_ms": 1500, "header_timeout_ms": 200)"));
  RawClient c(gw.port(), /*rcvbuf=*/32 * 1024);
  const std::string big = post("/v1/embeddings", R"({"model":"m","input":["a","b"],"dimensions":65536})");
  ASSERT_TRUE(c.send(big + big));
  std::string raw;
  const auto deadline = Clock::now() + std::chrono::seconds(20);
  for (int i = 0; !c.closed() && Clock::now() < deadline; ++i) {
    raw += c.readSome(1000);
    if (i % 50 == 0) {  // parsing megabytes each round would make the reader slower than intended
      auto rs = parseResponses(raw);
      if (rs.size() == 2 && rs[1].complete) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  auto rs = parseResponses(raw);
  ASSERT_EQ(rs.size(), 2u) << raw.size() << " bytes";
  EXPECT_EQ(rs[0].status, 200);
  EXPECT_EQ(rs[1].status, 200);
  EXPECT_TRUE(rs[1].complete);
}

// ---------------------------------------------------------------------------------------------
// Connection cap

TEST(ServerConnectionCap, ConnectionOverTheCapGets503Quickly) {
  TestGateway gw(mockConfig(R"("max_connections": 1)"));
  RawClient first(gw.port());
  ASSERT_TRUE(first.send(get("/health")));
  ASSERT_EQ(readResponses(first, 1).size(), 1u);  // accepted and counted

  const auto t0 = Clock::now();
  RawClient over(gw.port());
  const std::string raw = over.readAll(2000);
  EXPECT_LT(msSince(t0), 1000);
  auto rs = parseResponses(raw);
  ASSERT_EQ(rs.size(), 1u) << raw;
  EXPECT_EQ(rs[0].status, 503);
  EXPECT_EQ(rs[0].header("connection"), "close");
  EXPECT_FALSE(rs[0].header("x-aigw-request-id").empty());
  EXPECT_EQ(nlohmann::json::parse(rs[0].body)["error"]["code"], "too_many_connections");
  EXPECT_TRUE(over.closed());
  EXPECT_EQ(gw.stats()["connections_refused"], 1);

  // The admitted connection is unaffected.
  ASSERT_TRUE(first.send(get("/health")));
  auto again = readResponses(first, 1);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].status, 200);
}

TEST(ServerConnectionCap, RefusedClientThatAlreadySentARequestStillReads503) {
  TestGateway gw(mockConfig(R"("max_connections": 1)"));
  RawClient first(gw.port());
  ASSERT_TRUE(first.send(get("/health")));
  ASSERT_EQ(readResponses(first, 1).size(), 1u);
  for (int i = 0; i < 20; ++i) {
    RawClient over(gw.port());
    // Unread request bytes in the server's socket must not turn the close into a reset that
    // destroys the 503 before the client reads it.
    over.send(get("/health") + get("/health"));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const std::string raw = over.readAll(2000);
    auto rs = parseResponses(raw);
    ASSERT_EQ(rs.size(), 1u) << "attempt " << i << " reset=" << over.reset() << " raw=" << raw;
    EXPECT_EQ(rs[0].status, 503);
  }
}

TEST(ServerConnectionCap, FreedSlotIsReusable) {
  TestGateway gw(mockConfig(R"("max_connections": 1)"));
  {
    RawClient first(gw.port());
    ASSERT_TRUE(first.send(get("/health", "Connection: close\r\n")));
    first.readAll(2000);
  }
  gw.waitForStat("connections_active", [](int64_t v) { return v == 0; });
  RawClient next(gw.port());
  ASSERT_TRUE(next.send(get("/health")));
  auto rs = readResponses(next, 1);
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].status, 200);
}

// ---------------------------------------------------------------------------------------------
// Backpressure

// A client that pipelines requests with large answers and never reads them: the server must
// stop reading (so the client's sends stall long before 10 MB), stop producing answers once its
// write queue is full, keep serving everyone else, and resume when the client reads.
TEST(ServerConnectionBackpressure, ClientThatNeverReadsCannotGrowServerMemory) {
  TestGateway gw(mockConfig());
  const std::string one =
      post("/v1/embeddings", R"({"model":"mock-gpt","input":"flood","dimensions":4096})");  // ~50 KB answer
  std::string flood;
  while (flood.size() < 10 * 1024 * 1024) flood += one;
  const size_t sent_requests = flood.size() / one.size();

  RawClient greedy(gw.port(), /*rcvbuf=*/64 * 1024, /*sndbuf=*/256 * 1024);
  ASSERT_TRUE(greedy.connected());
  fcntl(greedy.fd(), F_SETFL, fcntl(greedy.fd(), F_GETFL) | O_NONBLOCK);
  size_t off = 0;
  while (off < flood.size()) {
    ssize_t n = ::send(greedy.fd(), flood.data() + off, flood.size() - off, MSG_NOSIGNAL);
    if (n > 0) {
      off += static_cast<size_t>(n);
      continue;
    }
    pollfd p{greedy.fd(), POLLOUT, 0};
    if (::poll(&p, 1, 500) <= 0) break;  // no progress for 500 ms: the server stopped reading
  }
  EXPECT_LT(off, flood.size()) << "the server read all 10 MB from a client that reads nothing";

  // The number of answered requests levels off (once the kernel buffers and the bounded write
  // queue are full) far below the number sent.
  int64_t answered = gw.stats()["requests"].get<int64_t>();
  bool settled = false;
  for (int i = 0; i < 40 && !settled; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    const int64_t now = gw.stats()["requests"].get<int64_t>();
    settled = now == answered;
    answered = now;
  }
  EXPECT_TRUE(settled) << "the server keeps answering a client that reads nothing";
  EXPECT_LT(answered, 1000) << "of " << sent_requests << " requests sent";

  // Everyone else is still served promptly.
  const auto t0 = Clock::now();
  RawClient other(gw.port());
  ASSERT_TRUE(other.send(get("/health")));
  auto rs = readResponses(other, 1);
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].status, 200);
  EXPECT_LT(msSince(t0), 1000);

  // Reading resumes the pipeline.
  size_t read_bytes = 0;
  const auto deadline = Clock::now() + std::chrono::seconds(3);
  while (read_bytes < 8 * 1024 * 1024 && Clock::now() < deadline) read_bytes += greedy.readSome(200).size();
  EXPECT_GT(gw.stats()["requests"].get<int64_t>(), answered);
}

TEST(ServerConnectionBackpressure, ClientThatLeavesWhileBlockedIsCleanedUp) {
  TestGateway gw(mockConfig());
  const std::string one = post("/v1/embeddings", R"({"model":"m","input":"x","dimensions":8192})");
  std::string burst;
  for (int i = 0; i < 200; ++i) burst += one;
  {
    RawClient greedy(gw.port(), 16 * 1024);
    greedy.send(burst);
    gw.waitForStat("requests", [](int64_t v) { return v > 5; });
  }
  EXPECT_EQ(gw.waitForStat("connections_active", [](int64_t v) { return v == 0; }), 0);
}

TEST(ServerConnectionHalfClose, QueuedAnswerIsDeliveredAfterTheClientHalfCloses) {
  TestGateway gw(mockConfig());
  RawClient c(gw.port(), /*rcvbuf=*/16 * 1024);
  // A large answer that cannot fit in the socket buffers, then EOF from the client.
  ASSERT_TRUE(c.send(post("/v1/embeddings", R"({"model":"m","input":["a","b","c","d","e","f"],"dimensions":65536})")));
  c.shutdownWrite();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const std::string raw = c.readAll(5000);
  auto rs = parseResponses(raw);
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_TRUE(rs[0].complete) << "got " << raw.size() << " bytes, reset=" << c.reset();
  EXPECT_EQ(rs[0].status, 200);
}

TEST(ServerConnectionHalfClose, PipelinedRequestsReceivedBeforeEofAreAllAnswered) {
  TestGateway gw(mockConfig());
  RawClient c(gw.port(), /*rcvbuf=*/16 * 1024);
  // Each answer is ~4 MB, so the write queue fills and the later requests wait, buffered,
  // when the EOF arrives.
  const std::string one = post("/v1/embeddings", R"({"model":"m","input":["a","b","c"],"dimensions":65536})");
  ASSERT_TRUE(c.send(one + one + one));
  c.shutdownWrite();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const std::string raw = c.readAll(8000);
  auto rs = parseResponses(raw);
  ASSERT_EQ(rs.size(), 3u) << "got " << raw.size() << " bytes";
  for (const auto& r : rs) {
    EXPECT_TRUE(r.complete) << "got " << raw.size() << " bytes; body " << r.body.size() << " of " << r.header("content-length") << " closed=" << c.closed() << " reset=" << c.reset();
    EXPECT_EQ(r.status, 200);
  }
  EXPECT_TRUE(c.closed());
  EXPECT_FALSE(c.reset());
}

TEST(ServerConnectionHalfClose, EofWhileARequestRunsCancelsIt) {
  TestGateway gw(mockConfig());
  RawClient c(gw.port());
  ASSERT_TRUE(c.send(post("/v1/chat/completions", R"({"model":"m","messages":[{"role":"user","content":"x"}]})",
                          "X-Mock-Latency-Ms: 300\r\n")));
  gw.waitForStat("requests", [](int64_t v) { return v == 1; });
  c.shutdownWrite();
  EXPECT_EQ(c.readAll(2000), "");
  EXPECT_TRUE(c.closed());
  EXPECT_EQ(gw.waitForStat("client_aborts", [](int64_t v) { return v == 1; }), 1);
}

}  // namespace
}  // namespace aigw
