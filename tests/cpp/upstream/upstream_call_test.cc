// UpstreamCall (and the UpstreamConnection under it) over real loopback sockets against a
// scripted upstream: relaying, connect / first-byte / idle timeouts, broken responses,
// cancellation, and a call driven from a loop thread.
#include "upstream/upstream_call.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <future>

#include "upstream/scripted_upstream.h"
#include "upstream/upstream_harness.h"

namespace aigw::upstream {
namespace {

using testing::chunkedResponse;
using testing::getRequest;
using testing::neverAnswer;
using testing::okResponse;
using testing::postRequest;
using testing::rawResponse;
using testing::ScriptedUpstream;
using testing::TestCall;
using testing::UpstreamHarness;

struct CallHolder final : DeferredDeletable {
  explicit CallHolder(std::unique_ptr<UpstreamCall> c) : call(std::move(c)) {}
  std::unique_ptr<UpstreamCall> call;
};

TEST(UpstreamCall, RelaysStatusHeadersAndBody) {
  ScriptedUpstream server({rawResponse(
      "HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/json\r\nretry-after: 3\r\n"
      "x-ratelimit-remaining-requests: 0\r\ncontent-length: 13\r\n\r\n{\"error\":429}")});
  UpstreamHarness h;
  h.makePool(server.baseUrl());
  TestCall& c = h.startCall(postRequest("{\"model\":\"m\"}"));
  ASSERT_TRUE(h.runUntilDone(c));
  EXPECT_TRUE(c.rec.completed) << c.describe();
  EXPECT_EQ(c.rec.status, 429);
  EXPECT_EQ(c.rec.content_length, 13);
  ASSERT_NE(c.rec.headers.find("retry-after"), nullptr);
  EXPECT_EQ(*c.rec.headers.find("retry-after"), "3");
  EXPECT_EQ(c.rec.body, "{\"error\":429}");
  auto requests = server.receivedRequests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0], postRequest("{\"model\":\"m\"}"));
}

TEST(UpstreamCall, RelaysChunkedStream) {
  ScriptedUpstream server({chunkedResponse({"data: {\"a\":1}\n\n", "data: [DONE]\n\n"})});
  UpstreamHarness h;
  h.makePool(server.baseUrl());
  TestCall& c = h.startCall(getRequest());
  ASSERT_TRUE(h.runUntilDone(c));
  EXPECT_TRUE(c.rec.completed) << c.describe();
  EXPECT_EQ(c.rec.content_length, -1);
  EXPECT_EQ(c.rec.body, "data: {\"a\":1}\n\ndata: [DONE]\n\n");
}

TEST(UpstreamCall, InformationalResponsesAreSkipped) {
  ScriptedUpstream server({rawResponse("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")});
  UpstreamHarness h;
  h.makePool(server.baseUrl());
  TestCall& c = h.startCall(postRequest("{}"));
  ASSERT_TRUE(h.runUntilDone(c));
  EXPECT_EQ(c.rec.heads, 1);
  EXPECT_EQ(c.rec.status, 200);
  EXPECT_EQ(c.rec.body, "ok");
}

TEST(UpstreamCall, HeadRequestCompletesWithoutBody) {
  ScriptedUpstream server({rawResponse("HTTP/1.1 200 OK\r\ncontent-length: 5000\r\n\r\n"), okResponse("after")});
  UpstreamHarness h;
  UpstreamPool& pool = h.makePool(server.baseUrl());
  TestCall& c = h.startCall("HEAD /v1/models HTTP/1.1\r\nhost: x\r\n\r\n", {.first_byte_ms = 2000, .idle_ms = 2000});
  ASSERT_TRUE(h.runUntilDone(c));
  EXPECT_TRUE(c.rec.completed) << c.describe();
  EXPECT_EQ(c.rec.content_length, 5000);
  EXPECT_EQ(c.rec.body, "");
  TestCall& d = h.startCall(getRequest());
  ASSERT_TRUE(h.runUntilDone(d));
  EXPECT_EQ(d.rec.body, "after");
  EXPECT_EQ(pool.counters().reuses, 1u);
}

TEST(UpstreamCall, ConnectRefusedIsAConnectError) {
  testing::RefusingPort refusing;
  UpstreamHarness h;
  h.makePool("http://127.0.0.1:" + std::to_string(refusing.port()));
  TestCall& c = h.startCall(getRequest());
  ASSERT_TRUE(h.runUntilDone(c));
  EXPECT_TRUE(c.rec.failed);
  EXPECT_EQ(c.rec.kind, CallErrorKind::Connect) << c.describe();
  EXPECT_NE(c.rec.error.find("127.0.0.1:" + std::to_string(refusing.port())), std::string::npos) << c.rec.error;
  EXPECT_NE(c.rec.error.find("refused"), std::string::npos) << c.rec.error;
}

TEST(UpstreamCall, ConnectTimeoutIsATimeout) {
  testing::BlackholePort blackhole;
  if (!blackhole.full()) GTEST_SKIP() << "could not fill the accept queue; no hanging connect possible here";
  UpstreamHarness h;
  h.makePool("http://127.0.0.1:" + std::to_string(blackhole.port()), {.connect_timeout_ms = 200});
  const uint64_t start = uv_now(h.loop().uv());
  TestCall& c = h.startCall(getRequest());
  ASSERT_TRUE(h.runUntilDone(c, 5000));
  EXPECT_TRUE(c.rec.failed);
  EXPECT_EQ(c.rec.kind, CallErrorKind::Timeout) << c.describe();
  EXPECT_NE(c.rec.error.find("timed out after 200 ms"), std::string::npos) << c.rec.error;
  EXPECT_GE(c.rec.done_at_ms - start, 190u);
  EXPECT_LT(c.rec.done_at_ms - start, 1500u);
}

TEST(UpstreamCall, NoFirstByteIsATimeout) {
  ScriptedUpstream server({neverAnswer()});
  UpstreamHarness h;
  h.makePool(server.baseUrl());
  const uint64_t start = uv_now(h.loop().uv());
  TestCall& c = h.startCall(getRequest(), {.first_byte_ms = 150, .idle_ms = 10000});
  ASSERT_TRUE(h.runUntilDone(c));
  EXPECT_EQ(c.rec.kind, CallErrorKind::Timeout) << c.describe();
  EXPECT_NE(c.rec.error.find("no response within 150 ms"), std::string::npos) << c.rec.error;
  EXPECT_GE(c.rec.done_at_ms - start, 140u);
  // The silent connection is closed, not pooled.
  EXPECT_TRUE(server.waitFor([&] { return server.peerCloses() == 1; }));
}

TEST(UpstreamCall, StallMidBodyIsAnIdleTimeout) {
  const std::string body(100, 'x');
  ScriptedUpstream server({okResponse(body).stallAfter(80), okResponse("next")});
  UpstreamHarness h;
  UpstreamPool& pool = h.makePool(server.baseUrl());
  TestCall& c = h.startCall(getRequest(), {.first_byte_ms = 10000, .idle_ms = 150});
  ASSERT_TRUE(h.runUntilDone(c));
  EXPECT_EQ(c.rec.kind, CallErrorKind::Timeout) << c.describe();
  EXPECT_NE(c.rec.error.find("stalled"), std::string::npos) << c.rec.error;
  EXPECT_EQ(c.rec.heads, 1);
  EXPECT_FALSE(c.rec.body.empty());
  EXPECT_TRUE(server.waitFor([&] { return server.peerCloses() == 1; }));
  TestCall& d = h.startCall(getRequest());
  ASSERT_TRUE(h.runUntilDone(d));
  EXPECT_TRUE(d.rec.completed) << d.describe();
  EXPECT_EQ(server.accepted(), 2);
  EXPECT_EQ(pool.counters().reuses, 0u);
}

TEST(UpstreamCall, SlowButSteadyBodyIsNotAnIdleTimeout) {
  // Every piece comes well within idle_ms although the whole body takes longer than that.
  ScriptedUpstream paced({rawResponse("HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nabcdef").paced(8, 40)});
  UpstreamHarness h;
  h.makePool(paced.baseUrl());
  TestCall& c = h.startCall(getRequest(), {.first_byte_ms = 1000, .idle_ms = 150});
  ASSERT_TRUE(h.runUntilDone(c));
  EXPECT_TRUE(c.rec.completed) << c.describe();
  EXPECT_EQ(c.rec.body, "abcdef");
}

TEST(UpstreamCall, PausedCallDoesNotTimeOutForASlowClient) {
  const std::string body(100, 'y');
  ScriptedUpstream server({okResponse(body)});
  UpstreamHarness h;
  h.makePool(server.baseUrl());
  TestCall& c = h.startCall(getRequest(), {.first_byte_ms = 2000, .idle_ms = 50});
  c.rec.on_body = [&] { c.call->pause(); };
  ASSERT_TRUE(h.runUntil([&] { return c.rec.heads == 1; }));
  h.runFor(150);  // three idle periods while paused
  EXPECT_FALSE(c.rec.failed) << c.describe();
  c.rec.on_body = nullptr;
  c.call->resume();
  ASSERT_TRUE(h.runUntilDone(c));
  EXPECT_TRUE(c.rec.completed) << c.describe();
  EXPECT_EQ(c.rec.body, body);
}

TEST(UpstreamCall, BrokenFramingIsAProtocolErrorAndTheConnectionIsDiscarded) {
  ScriptedUpstream server({okResponse("warm-up"),
                           rawResponse("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nbad\r\n0\r\n\r\n"),
                           okResponse("fresh")});
  UpstreamHarness h;
  UpstreamPool& pool = h.makePool(server.baseUrl());
  TestCall& a = h.startCall(getRequest());
  ASSERT_TRUE(h.runUntilDone(a));
  TestCall& b = h.startCall(getRequest());
  ASSERT_TRUE(h.runUntilDone(b));
  EXPECT_TRUE(b.rec.failed);
  EXPECT_EQ(b.rec.kind, CallErrorKind::Protocol) << b.describe();
  EXPECT_NE(b.rec.error.find("bad response"), std::string::npos) << b.rec.error;
  TestCall& c = h.startCall(getRequest());
  ASSERT_TRUE(h.runUntilDone(c));
  EXPECT_TRUE(c.rec.completed) << c.describe();
  EXPECT_EQ(c.rec.body, "fresh");
  EXPECT_EQ(server.accepted(), 2);
  EXPECT_EQ(pool.counters().reuses, 1u);
}

TEST(UpstreamCall, GarbageInsteadOfAStatusLineIsAProtocolError) {
  ScriptedUpstream server({rawResponse("SSH-2.0-OpenSSH_9.6\r\n")});
  UpstreamHarness h;
  h.makePool(server.baseUrl());
  TestCall& c = h.startCall(getRequest());
  ASSERT_TRUE(h.runUntilDone(c));
  EXPECT_EQ(c.rec.kind, CallErrorKind::Protocol) << c.describe();
}

TEST(UpstreamCall, ServerClosingMidBodyIsAReset) {
  ScriptedUpstream server({rawResponse("HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n12345").thenClose()});
  UpstreamHarness h;
  h.makePool(server.baseUrl());
  TestCall& c = h.startCall(getRequest());
  ASSERT_TRUE(h.runUntilDone(c));
  EXPECT_TRUE(c.rec.failed);
  EXPECT_EQ(c.rec.kind, CallErrorKind::Reset) << c.describe();
  EXPECT_NE(c.rec.error.find("in the middle of the response"), std::string::npos) << c.rec.error;
  EXPECT_EQ(c.rec.body, "12345");
  EXPECT_EQ(server.requests(), 1) << "a started response is never retried";
}

TEST(UpstreamCall, DestroyingACallMidResponseClosesItsConnection) {
  ScriptedUpstream server({okResponse(std::string(100, 'p')).stallAfter(90), okResponse("next")});
  UpstreamHarness h;
  UpstreamPool& pool = h.makePool(server.baseUrl());
  TestCall& a = h.startCall(getRequest());
  ASSERT_TRUE(h.runUntil([&] { return !a.rec.body.empty(); }));
  a.call.reset();
  EXPECT_TRUE(h.runUntil([&] { return server.peerCloses() == 1; }));
  ASSERT_TRUE(h.runUntil([&] { return pool.total() == 0; }));
  TestCall& b = h.startCall(getRequest());
  ASSERT_TRUE(h.runUntilDone(b));
  EXPECT_TRUE(b.rec.completed) << b.describe();
  EXPECT_EQ(server.accepted(), 2);
  EXPECT_EQ(pool.counters().reuses, 0u);
  EXPECT_FALSE(a.rec.done());
}

TEST(UpstreamCall, DestroyingACallInsideItsBodyCallbackIsSafe) {
  ScriptedUpstream server({chunkedResponse({"one", "two", "three"}), okResponse("next")});
  UpstreamHarness h;
  h.makePool(server.baseUrl());
  TestCall& a = h.startCall(getRequest());
  bool destroyed = false;
  a.rec.on_body = [&] {
    if (destroyed) return;
    destroyed = true;
    // Deferred deletion, as the gateway does for calls that die inside their own callbacks.
    h.loop().deferredDelete(std::make_unique<CallHolder>(std::move(a.call)));
  };
  ASSERT_TRUE(h.runUntil([&] { return destroyed && !a.call; }));
  TestCall& b = h.startCall(getRequest());
  ASSERT_TRUE(h.runUntilDone(b));
  EXPECT_TRUE(b.rec.completed) << b.describe();
}

TEST(UpstreamCall, DestroyingACallBeforeItConnectsLeavesAUsableConnection) {
  ScriptedUpstream server({okResponse("for b")});
  UpstreamHarness h;
  UpstreamPool& pool = h.makePool(server.baseUrl());
  TestCall& a = h.startCall(getRequest());
  a.call.reset();
  ASSERT_TRUE(h.runUntil([&] { return pool.idle() == 1; }));
  TestCall& b = h.startCall(getRequest());
  ASSERT_TRUE(h.runUntilDone(b));
  EXPECT_TRUE(b.rec.completed) << b.describe();
  EXPECT_EQ(server.accepted(), 1);
}

TEST(UpstreamCall, LocalhostIsResolved) {
  ScriptedUpstream server({okResponse("via name")});
  UpstreamHarness h;
  h.makePool("http://localhost:" + std::to_string(server.port()));
  TestCall& c = h.startCall(getRequest());
  ASSERT_TRUE(h.runUntilDone(c));
  EXPECT_TRUE(c.rec.completed) << c.describe();
  EXPECT_EQ(c.rec.body, "via name");
}

TEST(UpstreamCall, UnresolvableHostIsAConnectErrorNamingTheHost) {
  UpstreamHarness h;
  h.makePool("http://nonexistent.invalid:8080/v1");
  TestCall& c = h.startCall(getRequest(), {});
  ASSERT_TRUE(h.runUntilDone(c, 15000));
  EXPECT_TRUE(c.rec.failed);
  EXPECT_EQ(c.rec.kind, CallErrorKind::Connect) << c.describe();
  EXPECT_NE(c.rec.error.find("nonexistent.invalid"), std::string::npos) << c.rec.error;
}

// The way the gateway runs it: the loop on its own thread, work posted to it.
TEST(UpstreamCall, RunsOnALoopThread) {
  ScriptedUpstream server({okResponse("threaded"), okResponse("again")});
  EventLoop loop;
  std::unique_ptr<DnsCache> dns;
  std::unique_ptr<UpstreamPool> pool;
  std::vector<std::unique_ptr<TestCall>> calls;
  std::promise<std::string> first, second;
  loop.startThread(nullptr);
  ASSERT_TRUE(loop.post([&] {
    dns = std::make_unique<DnsCache>(loop.uv(), 1000);
    Origin origin;
    std::string error;
    parseBaseUrl(server.baseUrl(), &origin, &error);
    pool = std::make_unique<UpstreamPool>(loop, *dns, origin, nullptr, PoolOptions{});
    for (auto* p : {&first, &second}) {
      calls.push_back(std::make_unique<TestCall>());
      TestCall& c = *calls.back();
      c.rec.loop = loop.uv();
      c.call = std::make_unique<UpstreamCall>(loop, *pool, CallTimeouts{}, c.rec);
      c.rec.on_done = [&c, p] { p->set_value(c.describe()); };
      c.call->start(getRequest());
    }
  }));
  auto a = first.get_future(), b = second.get_future();
  ASSERT_EQ(a.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  ASSERT_EQ(b.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  std::string results[] = {a.get(), b.get()};
  std::sort(std::begin(results), std::end(results));
  EXPECT_EQ(results[0], "completed 200 body=again");
  EXPECT_EQ(results[1], "completed 200 body=threaded");
  loop.stopAndJoin([&] {
    calls.clear();
    pool->shutdown();
  });
  pool.reset();
  dns.reset();
  EXPECT_EQ(server.accepted(), 2);
}

}  // namespace
}  // namespace aigw::upstream
