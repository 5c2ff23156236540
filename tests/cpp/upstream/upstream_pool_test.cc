// UpstreamPool over real loopback sockets against a scripted upstream: reuse, caps, waiters,
// stale keep-alive connections and shutdown.
#include "upstream/upstream_pool.h"

#include <gtest/gtest.h>

#include "upstream/scripted_upstream.h"
#include "upstream/upstream_harness.h"

namespace aigw::upstream {
namespace {

using testing::chunkedResponse;
using testing::closeBeforeAnswer;
using testing::getRequest;
using testing::neverAnswer;
using testing::okResponse;
using testing::rawResponse;
using testing::ScriptedUpstream;
using testing::TestCall;
using testing::UpstreamHarness;

TEST(UpstreamPool, SequentialCallsReuseOneConnection) {
  ScriptedUpstream server({okResponse("{\"n\":1}"), chunkedResponse({"a", "b"}), okResponse("{\"n\":3}")});
  UpstreamHarness h;
  UpstreamPool& pool = h.makePool(server.baseUrl());
  for (const char* expected : {"{\"n\":1}", "ab", "{\"n\":3}"}) {
    TestCall& c = h.startCall(getRequest());
    ASSERT_TRUE(h.runUntilDone(c)) << c.describe();
    EXPECT_TRUE(c.rec.completed) << c.describe();
    EXPECT_EQ(c.rec.body, expected);
  }
  EXPECT_EQ(server.accepted(), 1);
  EXPECT_EQ(pool.counters().connects, 1u);
  EXPECT_EQ(pool.counters().reuses, 2u);
  EXPECT_EQ(pool.total(), 1u);
  EXPECT_EQ(pool.idle(), 1u);
}

// An answer after which the connection cannot carry another request: it is relayed whole, and
// the next call connects again instead of reusing it.
struct EndsItsConnection {
  const char* name;
  testing::Step first;
  const char* first_body;
  testing::Step second;
  const char* second_body;
};

class UpstreamPoolAfter : public ::testing::TestWithParam<EndsItsConnection> {};

TEST_P(UpstreamPoolAfter, AnAnswerThatEndsItsConnectionTheNextCallConnectsAgain) {
  const EndsItsConnection& c = GetParam();
  ScriptedUpstream server({c.first, c.second});
  UpstreamHarness h;
  UpstreamPool& pool = h.makePool(server.baseUrl());
  TestCall& a = h.startCall(getRequest());
  ASSERT_TRUE(h.runUntilDone(a));
  EXPECT_TRUE(a.rec.completed) << a.describe();
  EXPECT_EQ(a.rec.body, c.first_body);
  TestCall& b = h.startCall(getRequest());
  ASSERT_TRUE(h.runUntilDone(b));
  EXPECT_TRUE(b.rec.completed) << b.describe();
  EXPECT_EQ(b.rec.body, c.second_body);
  EXPECT_EQ(server.accepted(), 2);
  EXPECT_EQ(pool.counters().reuses, 0u);
}

INSTANTIATE_TEST_SUITE_P(
    UpstreamPool, UpstreamPoolAfter,
    ::testing::Values(
        EndsItsConnection{"ConnectionClose", okResponse("one", "connection: close\r\n").thenClose(), "one",
                          okResponse("two"), "two"},
        EndsItsConnection{"Http10", rawResponse("HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\nok").thenClose(), "ok",
                          okResponse("x"), "x"},
        // Its end is the EOF.
        EndsItsConnection{
            "CloseDelimitedBody",
            rawResponse("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\ndata: x\n\n").thenClose(),
            "data: x\n\n", okResponse("next"), "next"},
        // The answer is kept; the bytes after it make the connection unusable.
        EndsItsConnection{"ExtraBytesAfterTheAnswer", rawResponse("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokJUNK"),
                          "ok", okResponse("fresh"), "fresh"}),
    [](const ::testing::TestParamInfo<EndsItsConnection>& info) { return info.param.name; });

TEST(UpstreamPool, FullPoolWithoutWaitingRoomRefusesAtOnce) {
  ScriptedUpstream server({okResponse("first").delayed(100)});
  UpstreamHarness h;
  UpstreamPool& pool = h.makePool(server.baseUrl(), {.max_connections = 1, .max_pending = 0});
  TestCall& a = h.startCall(getRequest());
  TestCall& b = h.startCall(getRequest());
  // Refused synchronously, before the loop ran at all.
  ASSERT_TRUE(b.rec.failed) << b.describe();
  EXPECT_EQ(b.rec.kind, CallErrorKind::Overflow);
  EXPECT_NE(b.rec.error.find("full"), std::string::npos) << b.rec.error;
  EXPECT_EQ(pool.counters().overflows, 1u);
  ASSERT_TRUE(h.runUntilDone(a));
  EXPECT_TRUE(a.rec.completed) << a.describe();
  EXPECT_EQ(server.accepted(), 1);
}

TEST(UpstreamPool, FullPoolRefusesWhileItsConnectionIsBusy) {
  ScriptedUpstream server({okResponse("first").delayed(100)});
  UpstreamHarness h;
  UpstreamPool& pool = h.makePool(server.baseUrl(), {.max_connections = 1, .max_pending = 0});
  TestCall& a = h.startCall(getRequest());
  ASSERT_TRUE(h.runUntil([&] { return server.requests() == 1; }));
  TestCall& b = h.startCall(getRequest());
  EXPECT_TRUE(b.rec.failed);
  EXPECT_EQ(b.rec.kind, CallErrorKind::Overflow);
  ASSERT_TRUE(h.runUntilDone(a));
  EXPECT_EQ(pool.counters().overflows, 1u);
}

TEST(UpstreamPool, WaiterGetsTheConnectionWhenTheFirstCallCompletes) {
  ScriptedUpstream server({okResponse("first").delayed(50), okResponse("second")});
  UpstreamHarness h;
  UpstreamPool& pool = h.makePool(server.baseUrl(), {.max_connections = 1, .max_pending = 1});
  TestCall& a = h.startCall(getRequest("/a"));
  TestCall& b = h.startCall(getRequest("/b"));
  EXPECT_FALSE(b.rec.done()) << b.describe();
  EXPECT_EQ(pool.pending(), 2u);  // one for the connection being opened, one beyond the cap
  TestCall& c = h.startCall(getRequest("/c"));
  EXPECT_TRUE(c.rec.failed) << c.describe();
  EXPECT_EQ(c.rec.kind, CallErrorKind::Overflow);
  ASSERT_TRUE(h.runUntil([&] { return a.rec.done() && b.rec.done(); }));
  EXPECT_TRUE(a.rec.completed) << a.describe();
  EXPECT_TRUE(b.rec.completed) << b.describe();
  EXPECT_EQ(a.rec.body, "first");
  EXPECT_EQ(b.rec.body, "second");
  EXPECT_LE(a.rec.done_at_ms, b.rec.done_at_ms);
  EXPECT_EQ(server.accepted(), 1);
  EXPECT_EQ(pool.counters().reuses, 1u);
  auto requests = server.receivedRequests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].rfind("GET /a ", 0), 0u);
  EXPECT_EQ(requests[1].rfind("GET /b ", 0), 0u);
}

TEST(UpstreamPool, WaiterGetsANewConnectionWhenTheBusyOneCloses) {
  ScriptedUpstream server({okResponse("first", "connection: close\r\n").delayed(50).thenClose(), okResponse("second")});
  UpstreamHarness h;
  UpstreamPool& pool = h.makePool(server.baseUrl(), {.max_connections = 1, .max_pending = 1});
  TestCall& a = h.startCall(getRequest());
  TestCall& b = h.startCall(getRequest());
  ASSERT_TRUE(h.runUntil([&] { return a.rec.done() && b.rec.done(); }));
  EXPECT_TRUE(a.rec.completed) << a.describe();
  EXPECT_TRUE(b.rec.completed) << b.describe();
  EXPECT_EQ(server.accepted(), 2);
  EXPECT_LE(pool.total(), 1u);
}

TEST(UpstreamPool, ConcurrentCallsOpenConnectionsUpToTheCap) {
  ScriptedUpstream server({okResponse("1").delayed(50), okResponse("2").delayed(50), okResponse("3")});
  UpstreamHarness h;
  UpstreamPool& pool = h.makePool(server.baseUrl(), {.max_connections = 2, .max_pending = 4});
  TestCall& a = h.startCall(getRequest());
  TestCall& b = h.startCall(getRequest());
  TestCall& c = h.startCall(getRequest());
  ASSERT_TRUE(h.runUntil([&] { return a.rec.done() && b.rec.done() && c.rec.done(); }));
  EXPECT_TRUE(a.rec.completed && b.rec.completed && c.rec.completed)
      << a.describe() << " / " << b.describe() << " / " << c.describe();
  EXPECT_EQ(server.accepted(), 2);
  EXPECT_EQ(pool.counters().connects, 2u);
  EXPECT_EQ(pool.total(), 2u);
}

TEST(UpstreamPool, IdleConnectionClosedByServerIsDroppedFromThePool) {
  // No "connection: close": the server just closes after answering, as idle timeouts do.
  ScriptedUpstream server({okResponse("one").thenClose(), okResponse("two")});
  UpstreamHarness h;
  UpstreamPool& pool = h.makePool(server.baseUrl());
  TestCall& a = h.startCall(getRequest());
  ASSERT_TRUE(h.runUntilDone(a));
  ASSERT_TRUE(h.runUntil([&] { return pool.total() == 0; })) << "EOF on the idle connection went unnoticed";
  EXPECT_EQ(pool.idle(), 0u);
  TestCall& b = h.startCall(getRequest());
  ASSERT_TRUE(h.runUntilDone(b));
  EXPECT_TRUE(b.rec.completed) << b.describe();
  EXPECT_EQ(b.rec.body, "two");
  EXPECT_EQ(server.accepted(), 2);
  EXPECT_EQ(pool.counters().reuses, 0u);
}

TEST(UpstreamPool, StaleConnectionIsRetriedOnceOnAFreshOne) {
  // The server drops the kept-alive connection when the second request arrives, before
  // answering: the call retries on a new connection and succeeds.
  ScriptedUpstream server({okResponse("one"), closeBeforeAnswer(), okResponse("two")});
  UpstreamHarness h;
  UpstreamPool& pool = h.makePool(server.baseUrl());
  TestCall& a = h.startCall(getRequest());
  ASSERT_TRUE(h.runUntilDone(a));
  TestCall& b = h.startCall(testing::postRequest("{\"x\":1}"));
  ASSERT_TRUE(h.runUntilDone(b));
  EXPECT_TRUE(b.rec.completed) << b.describe();
  EXPECT_EQ(b.rec.body, "two");
  EXPECT_EQ(server.accepted(), 2);
  auto requests = server.receivedRequests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[1], requests[2]) << "the retry must send the same bytes";
  EXPECT_EQ(pool.counters().reuses, 1u);
}

TEST(UpstreamPool, FreshConnectionThatDiesIsNotRetried) {
  ScriptedUpstream server({closeBeforeAnswer(), okResponse("never")});
  UpstreamHarness h;
  h.makePool(server.baseUrl());
  TestCall& a = h.startCall(getRequest());
  ASSERT_TRUE(h.runUntilDone(a));
  EXPECT_TRUE(a.rec.failed);
  EXPECT_EQ(a.rec.kind, CallErrorKind::Reset) << a.describe();
  EXPECT_EQ(server.requests(), 1);
}

TEST(UpstreamPool, StaleRetryHappensOnlyOnce) {
  ScriptedUpstream server({okResponse("one"), closeBeforeAnswer(), closeBeforeAnswer(), okResponse("never")});
  UpstreamHarness h;
  h.makePool(server.baseUrl());
  TestCall& a = h.startCall(getRequest());
  ASSERT_TRUE(h.runUntilDone(a));
  TestCall& b = h.startCall(getRequest());
  ASSERT_TRUE(h.runUntilDone(b));
  EXPECT_TRUE(b.rec.failed);
  EXPECT_EQ(b.rec.kind, CallErrorKind::Reset) << b.describe();
  EXPECT_EQ(server.requests(), 3);
}

TEST(UpstreamPool, IdleConnectionIsClosedAfterKeepAliveTimeout) {
  ScriptedUpstream server({okResponse("one")});
  UpstreamHarness h;
  UpstreamPool& pool = h.makePool(server.baseUrl(), {.keepalive_idle_ms = 50});
  TestCall& a = h.startCall(getRequest());
  ASSERT_TRUE(h.runUntilDone(a));
  EXPECT_EQ(pool.idle(), 1u);
  ASSERT_TRUE(h.runUntil([&] { return pool.total() == 0; }, 3000));
  EXPECT_TRUE(server.waitFor([&] { return server.peerCloses() == 1; }));
}

TEST(UpstreamPool, CancelledWaiterIsNeverServed) {
  ScriptedUpstream server({okResponse("first").delayed(50), okResponse("third")});
  UpstreamHarness h;
  UpstreamPool& pool = h.makePool(server.baseUrl(), {.max_connections = 1, .max_pending = 2});
  TestCall& a = h.startCall(getRequest("/a"));
  TestCall& b = h.startCall(getRequest("/b"));
  TestCall& c = h.startCall(getRequest("/c"));
  b.call.reset();  // gives up while queued
  EXPECT_EQ(pool.pending(), 2u);
  ASSERT_TRUE(h.runUntil([&] { return a.rec.done() && c.rec.done(); }));
  EXPECT_TRUE(c.rec.completed) << c.describe();
  EXPECT_FALSE(b.rec.done());
  auto requests = server.receivedRequests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].rfind("GET /c ", 0), 0u);
}

TEST(UpstreamPool, ShutdownFailsWaitersAndLaterAcquires) {
  ScriptedUpstream server({neverAnswer()});
  UpstreamHarness h;
  UpstreamPool& pool = h.makePool(server.baseUrl(), {.max_connections = 1, .max_pending = 1});
  TestCall& a = h.startCall(getRequest());
  ASSERT_TRUE(h.runUntil([&] { return server.requests() == 1; }));
  TestCall& b = h.startCall(getRequest());
  pool.shutdown();
  EXPECT_TRUE(b.rec.failed);
  EXPECT_EQ(b.rec.kind, CallErrorKind::Internal);
  TestCall& c = h.startCall(getRequest());
  EXPECT_TRUE(c.rec.failed);
  EXPECT_EQ(c.rec.kind, CallErrorKind::Internal);
  EXPECT_FALSE(a.rec.done());  // a lent connection belongs to its call until the call ends
  a.call.reset();
  ASSERT_TRUE(h.runUntil([&] { return pool.total() == 0; }));
}

TEST(UpstreamPool, ShutdownClosesIdleConnections) {
  ScriptedUpstream server({okResponse("one")});
  UpstreamHarness h;
  UpstreamPool& pool = h.makePool(server.baseUrl());
  TestCall& a = h.startCall(getRequest());
  ASSERT_TRUE(h.runUntilDone(a));
  pool.shutdown();
  ASSERT_TRUE(h.runUntil([&] { return pool.total() == 0; }));
  EXPECT_TRUE(server.waitFor([&] { return server.peerCloses() == 1; }));
}

TEST(UpstreamPool, ConnectFailureGoesToOneWaiterAndTheNextGetsItsOwnAttempt) {
  testing::RefusingPort refusing;
  UpstreamHarness h;
  UpstreamPool& pool = h.makePool("http://127.0.0.1:" + std::to_string(refusing.port()),
                                  {.max_connections = 1, .max_pending = 1});
  TestCall& a = h.startCall(getRequest());
  TestCall& b = h.startCall(getRequest());
  ASSERT_TRUE(h.runUntil([&] { return a.rec.done() && b.rec.done(); }));
  EXPECT_EQ(a.rec.kind, CallErrorKind::Connect) << a.describe();
  EXPECT_EQ(b.rec.kind, CallErrorKind::Connect) << b.describe();
  EXPECT_EQ(pool.counters().connect_failures, 2u);
  EXPECT_EQ(pool.total(), 0u);
}

TEST(UpstreamPool, StaleRetryFitsInAPoolOfOne) {
  // The dead connection must not hold the only slot while the call retries.
  ScriptedUpstream server({okResponse("one"), closeBeforeAnswer(), okResponse("two")});
  UpstreamHarness h;
  UpstreamPool& pool = h.makePool(server.baseUrl(), {.max_connections = 1, .max_pending = 0});
  TestCall& a = h.startCall(getRequest());
  ASSERT_TRUE(h.runUntilDone(a));
  TestCall& b = h.startCall(getRequest());
  ASSERT_TRUE(h.runUntilDone(b));
  EXPECT_TRUE(b.rec.completed) << b.describe();
  EXPECT_EQ(pool.counters().overflows, 0u);
}

TEST(UpstreamPool, MayBeDestroyedBeforeItsConnectionsFinishClosing) {
  ScriptedUpstream server({okResponse("one"), neverAnswer()});
  EventLoop loop;
  DnsCache dns(loop.uv(), 1000);
  Origin origin;
  std::string error;
  ASSERT_TRUE(parseBaseUrl(server.baseUrl(), &origin, &error));
  auto pool = std::make_unique<UpstreamPool>(loop, dns, origin, nullptr, PoolOptions{});
  testing::CallRecord a_rec, b_rec;
  a_rec.loop = b_rec.loop = loop.uv();
  {
    // Two connections: whichever request the server sees first is answered (its connection
    // goes idle), the other one never is (its connection stays busy).
    UpstreamCall a(loop, *pool, {}, a_rec);
    UpstreamCall b(loop, *pool, {}, b_rec);
    a.start(getRequest());
    b.start(getRequest());
    testing::runUntil(loop, [&] { return (a_rec.done() || b_rec.done()) && server.requests() == 2; });
    ASSERT_TRUE(a_rec.completed != b_rec.completed);
    ASSERT_EQ(pool->idle(), 1u);
  }  // the busy call closes its connection; the idle one stays in the pool
  pool.reset();      // closes the idle one; both close callbacks are still to come
  loop.stopAndJoin();  // runs them: they must not reach into the destroyed pool
  EXPECT_TRUE(server.waitFor([&] { return server.peerCloses() == 2; }));
}

}  // namespace
}  // namespace aigw::upstream
