// RequestParser without sockets: every input is also fed byte by byte and split at every offset
// (parseEveryWay), and must give the same events each way.
#include "http/request_parser.h"

#include <gtest/gtest.h>

#include "http/parser_harness.h"

namespace aigw::http {
namespace {

using testing::headerValue;
using testing::parseEveryWay;
using Event = RequestParser::Event;

constexpr const char* kGet = "GET /v1/models?limit=2 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n";

TEST(RequestParser, ParsesSimpleGet) {
  auto ev = parseEveryWay(kGet);
  ASSERT_EQ(ev.size(), 1u) << testing::describe(ev);
  EXPECT_EQ(ev[0].event, Event::MessageComplete);
  EXPECT_EQ(ev[0].offset, std::string(kGet).size());
  EXPECT_EQ(ev[0].method, "GET");
  EXPECT_EQ(ev[0].target, "/v1/models?limit=2");
  EXPECT_EQ(ev[0].http_minor, 1);
  EXPECT_TRUE(ev[0].keep_alive);
  EXPECT_TRUE(ev[0].body.empty());
  EXPECT_EQ(headerValue(ev[0], "host"), "example.com");
  EXPECT_EQ(headerValue(ev[0], "accept"), "*/*");
}

TEST(RequestParser, RequestSplitsTargetIntoPathAndQuery) {
  RequestParser p({});
  std::string in = kGet;
  ASSERT_EQ(p.feed(in.data(), in.size()).event, Event::MessageComplete);
  EXPECT_EQ(p.request().path(), "/v1/models");
  EXPECT_EQ(p.request().query(), "limit=2");
}

TEST(RequestParser, ParsesPostWithContentLengthBody) {
  const std::string in =
      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n"
      "{\"model\":\"m\"}";
  auto ev = parseEveryWay(in);
  ASSERT_EQ(ev.size(), 1u) << testing::describe(ev);
  EXPECT_EQ(ev[0].event, Event::MessageComplete);
  EXPECT_EQ(ev[0].offset, in.size());
  EXPECT_EQ(ev[0].method, "POST");
  EXPECT_EQ(ev[0].body, "{\"model\":\"m\"}");
  EXPECT_EQ(headerValue(ev[0], "content-type"), "application/json");
}

TEST(RequestParser, LowerCasesHeaderNamesAndTrimsValues) {
  const std::string in = "GET / HTTP/1.1\r\nHOST: h\r\nX-Custom-Header:   spaced  value \t \r\nX-Empty:\r\n\r\n";
  auto ev = parseEveryWay(in);
  ASSERT_EQ(ev.size(), 1u) << testing::describe(ev);
  ASSERT_EQ(ev[0].headers.size(), 3u);
  EXPECT_EQ(ev[0].headers[0], std::make_pair(std::string("host"), std::string("h")));
  EXPECT_EQ(ev[0].headers[1], std::make_pair(std::string("x-custom-header"), std::string("spaced  value")));
  EXPECT_EQ(ev[0].headers[2], std::make_pair(std::string("x-empty"), std::string("")));
}

TEST(RequestParser, KeepsRepeatedFieldsInOrder) {
  auto ev = parseEveryWay("GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\nx-a: 2\r\n\r\n");
  ASSERT_EQ(ev.size(), 1u);
  ASSERT_EQ(ev[0].headers.size(), 3u);
  EXPECT_EQ(ev[0].headers[1].second, "1");
  EXPECT_EQ(ev[0].headers[2].second, "2");
}

TEST(RequestParser, ConnectionCloseClearsKeepAlive) {
  auto ev = parseEveryWay("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_FALSE(ev[0].keep_alive);
}

TEST(RequestParser, Http10NeedsNoHostAndIsNotKeepAliveByDefault) {
  auto ev = parseEveryWay("GET / HTTP/1.0\r\n\r\n");
  ASSERT_EQ(ev.size(), 1u) << testing::describe(ev);
  EXPECT_EQ(ev[0].event, Event::MessageComplete);
  EXPECT_EQ(ev[0].http_minor, 0);
  EXPECT_FALSE(ev[0].keep_alive);
  auto ka = parseEveryWay("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  ASSERT_EQ(ka.size(), 1u);
  EXPECT_TRUE(ka[0].keep_alive);
}

TEST(RequestParser, IgnoresEmptyLineBeforeRequestLine) {
  auto ev = parseEveryWay(std::string("\r\n") + kGet);
  ASSERT_EQ(ev.size(), 1u) << testing::describe(ev);
  EXPECT_EQ(ev[0].event, Event::MessageComplete);
  EXPECT_EQ(ev[0].target, "/v1/models?limit=2");
}

TEST(RequestParser, MidMessageTracksWhetherARequestHasStarted) {
  RequestParser p({});
  EXPECT_FALSE(p.midMessage());
  ASSERT_EQ(p.feed("GE", 2).event, Event::NeedMore);
  EXPECT_TRUE(p.midMessage());
  EXPECT_FALSE(p.inBody());
  const std::string rest = "T / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nab";
  ASSERT_EQ(p.feed(rest.data(), rest.size()).event, Event::NeedMore);
  EXPECT_TRUE(p.inBody());
  ASSERT_EQ(p.feed("cd", 2).event, Event::MessageComplete);
  EXPECT_EQ(p.request().body, "abcd");
  p.nextMessage();
  EXPECT_FALSE(p.midMessage());
  EXPECT_FALSE(p.inBody());
}

// ---------------------------------------------------------------------------------------------
// Chunked bodies

const char* kChunkedHead = "POST /v1/embeddings HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";

TEST(RequestParser, DechunksSeveralChunks) {
  const std::string in = std::string(kChunkedHead) + "5\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\n\r\n";
  auto ev = parseEveryWay(in);
  ASSERT_EQ(ev.size(), 1u) << testing::describe(ev);
  EXPECT_EQ(ev[0].event, Event::MessageComplete);
  EXPECT_EQ(ev[0].offset, in.size());
  EXPECT_EQ(ev[0].body, "hello 0123456789");
}

TEST(RequestParser, AcceptsTransferEncodingChunkedInAnyCase) {
  auto ev = parseEveryWay("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n");
  ASSERT_EQ(ev.size(), 1u) << testing::describe(ev);
  EXPECT_EQ(ev[0].body, "ok");
}

TEST(RequestParser, IgnoresChunkExtensions) {
  const std::string in = std::string(kChunkedHead) + "3;name\r\nabc\r\n2;n=v\r\nde\r\n1;q=\"quoted v\"\r\nf\r\n0;last=1\r\n\r\n";
  auto ev = parseEveryWay(in);
  ASSERT_EQ(ev.size(), 1u) << testing::describe(ev);
  EXPECT_EQ(ev[0].event, Event::MessageComplete);
  EXPECT_EQ(ev[0].body, "abcdef");
}

TEST(RequestParser, RejectsChunkExtensionsOverTheCapWith400) {
  ParserLimits limits;
  limits.max_chunk_extension_bytes = 16;
  auto one = parseEveryWay(std::string(kChunkedHead) + "3;" + std::string(40, 'x') + "\r\nabc\r\n0\r\n\r\n", limits);
  ASSERT_EQ(one.size(), 1u) << testing::describe(one);
  EXPECT_EQ(one[0].event, Event::Error);
  EXPECT_EQ(one[0].status, 400);
  // The cap is per request, not per chunk: many small extensions add up.
  std::string many = kChunkedHead;
  for (int i = 0; i < 6; ++i) many += "1;abcd=1\r\nx\r\n";
  many += "0\r\n\r\n";
  auto sum = parseEveryWay(many, limits);
  ASSERT_EQ(sum.size(), 1u) << testing::describe(sum);
  EXPECT_EQ(sum[0].status, 400);
}

TEST(RequestParser, DoesNotMergeTrailersIntoHeaders) {
  const std::string in =
      std::string(kChunkedHead) + "3\r\nabc\r\n0\r\nX-Trailer: t\r\nHost: evil\r\nContent-Length: 99\r\n\r\n";
  auto ev = parseEveryWay(in);
  ASSERT_EQ(ev.size(), 1u) << testing::describe(ev);
  EXPECT_EQ(ev[0].event, Event::MessageComplete);
  EXPECT_EQ(ev[0].offset, in.size());
  EXPECT_EQ(ev[0].body, "abc");
  EXPECT_EQ(headerValue(ev[0], "host"), "h");
  EXPECT_EQ(headerValue(ev[0], "x-trailer"), "<absent>");
  EXPECT_EQ(headerValue(ev[0], "content-length"), "<absent>");
  EXPECT_EQ(ev[0].headers.size(), 2u);
}

TEST(RequestParser, ParsesTheRequestAfterAChunkedOneWithTrailers) {
  const std::string first = std::string(kChunkedHead) + "3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n";
  auto ev = parseEveryWay(first + kGet);
  ASSERT_EQ(ev.size(), 2u) << testing::describe(ev);
  EXPECT_EQ(ev[0].offset, first.size());
  EXPECT_EQ(ev[1].event, Event::MessageComplete);
  EXPECT_EQ(ev[1].target, "/v1/models?limit=2");
}

// ---------------------------------------------------------------------------------------------
// Pipelining and Expect

TEST(RequestParser, StopsAfterEachPipelinedRequest) {
  const std::string a = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n";
  const std::string b = "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nxyz";
  const std::string c = std::string(kChunkedHead) + "2\r\nhi\r\n0\r\n\r\n";
  const std::string d = "GET /d HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
  auto ev = parseEveryWay(a + b + c + d);
  ASSERT_EQ(ev.size(), 4u) << testing::describe(ev);
  EXPECT_EQ(ev[0].target, "/a");
  EXPECT_EQ(ev[0].offset, a.size());
  EXPECT_EQ(ev[1].target, "/b");
  EXPECT_EQ(ev[1].body, "xyz");
  EXPECT_EQ(ev[1].offset, a.size() + b.size());
  EXPECT_EQ(ev[2].body, "hi");
  EXPECT_EQ(ev[2].offset, a.size() + b.size() + c.size());
  EXPECT_EQ(ev[3].target, "/d");
  EXPECT_FALSE(ev[3].keep_alive);
  EXPECT_EQ(ev[3].offset, a.size() + b.size() + c.size() + d.size());
  for (const auto& e : ev) EXPECT_EQ(e.event, Event::MessageComplete);
}

TEST(RequestParser, ReportsFramingErrorAfterAValidPipelinedRequest) {
  auto ev = parseEveryWay(std::string(kGet) + "GET / HTTP/1.1\r\nHost : h\r\n\r\n");
  ASSERT_EQ(ev.size(), 2u) << testing::describe(ev);
  EXPECT_EQ(ev[0].event, Event::MessageComplete);
  EXPECT_EQ(ev[1].event, Event::Error);
  EXPECT_EQ(ev[1].status, 400);
}

TEST(RequestParser, PausesAtHeadersForExpect100Continue) {
  const std::string head =
      "POST /v1/chat/completions HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 4\r\n\r\n";
  auto ev = parseEveryWay(head + "body");
  ASSERT_EQ(ev.size(), 2u) << testing::describe(ev);
  EXPECT_EQ(ev[0].event, Event::HeadersComplete);
  EXPECT_EQ(ev[0].offset, head.size());
  EXPECT_TRUE(ev[0].expect_continue);
  EXPECT_EQ(ev[1].event, Event::MessageComplete);
  EXPECT_EQ(ev[1].body, "body");
}

TEST(RequestParser, PausesAtHeadersForExpect100ContinueWithChunkedBody) {
  auto ev = parseEveryWay(
      "POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n");
  ASSERT_EQ(ev.size(), 2u) << testing::describe(ev);
  EXPECT_EQ(ev[0].event, Event::HeadersComplete);
  EXPECT_EQ(ev[1].body, "ok");
}

TEST(RequestParser, DoesNotPauseForExpectWithoutBodyOrOnHttp10) {
  auto none = parseEveryWay("GET / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n\r\n");
  ASSERT_EQ(none.size(), 1u) << testing::describe(none);
  EXPECT_EQ(none[0].event, Event::MessageComplete);
  auto http10 = parseEveryWay("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok");
  ASSERT_EQ(http10.size(), 1u) << testing::describe(http10);
  EXPECT_EQ(http10[0].event, Event::MessageComplete);
  EXPECT_FALSE(http10[0].expect_continue);
}

TEST(RequestParser, CompletesAnUpgradeRequestAndRefusesWhatFollows) {
  auto ev = parseEveryWay("GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x05hello");
  ASSERT_EQ(ev.size(), 2u) << testing::describe(ev);
  EXPECT_EQ(ev[0].event, Event::MessageComplete);
  EXPECT_TRUE(ev[0].upgrade);
  EXPECT_FALSE(ev[0].keep_alive);
  EXPECT_EQ(ev[1].event, Event::Error);
}

}  // namespace
}  // namespace aigw::http
