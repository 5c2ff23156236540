// ResponseFraming: what each kind of response announces in its head, how its body pieces and
// its end go on the wire, and when the connection may serve another request after it.
#include "http/response_framing.h"

#include <gtest/gtest.h>

#include <string>

namespace aigw::http {
namespace {

bool has(const std::string& head, const char* field) {
  return head.find(field) != std::string::npos;
}

struct StreamedCase {
  const char* name;
  bool head_request;
  bool http10;
  int status;
  int64_t content_length;
  const char* framing_field;  // expected in the head, or nullptr for neither length nor chunked
  std::string body_on_wire;   // what writeBody("hello") puts on the wire
  std::string end_on_wire;    // what the end puts on the wire
  bool keep_alive_after;
};

TEST(ResponseFraming, StreamedHeadsPickTheirFramingAndFrameBodyAndEndToMatch) {
  const StreamedCase cases[] = {
      {"length known", false, false, 200, 5, "content-length: 5\r\n", "hello", "", true},
      {"length unknown: chunked", false, false, 200, -1, "transfer-encoding: chunked\r\n", "5\r\nhello\r\n",
       "0\r\n\r\n", true},
      {"HTTP/1.0, length unknown: close-delimited", false, true, 200, -1, nullptr, "hello", "", false},
      {"HEAD, chunked: head only", true, false, 200, -1, "transfer-encoding: chunked\r\n", "", "", true},
      {"204: no length, no chunks", false, false, 204, -1, nullptr, "", "", true},
      {"204 drops a given length", false, false, 204, 7, nullptr, "", "", true},
      {"1xx: head only", false, false, 103, -1, nullptr, "", "", true},
      {"304 may repeat the length, sends no body", false, false, 304, 42, "content-length: 42\r\n", "", "", true},
  };
  for (const StreamedCase& c : cases) {
    SCOPED_TRACE(c.name);
    ResponseFraming f;
    f.begin(c.head_request, c.http10, /*keep_alive=*/true);
    std::string head;
    ASSERT_TRUE(f.head(head, c.status, {}, c.content_length, /*draining=*/false));
    EXPECT_TRUE(f.headSent());
    EXPECT_EQ(head.rfind("HTTP/1.1 " + std::to_string(c.status), 0), 0u) << head;
    if (c.framing_field != nullptr) {
      EXPECT_TRUE(has(head, c.framing_field)) << head;
    } else {
      EXPECT_FALSE(has(head, "content-length")) << head;
      EXPECT_FALSE(has(head, "transfer-encoding")) << head;
    }
    std::string body;
    EXPECT_EQ(f.body("hello", body), !c.body_on_wire.empty());
    EXPECT_EQ(body, c.body_on_wire);
    std::string end;
    EXPECT_TRUE(f.end(end));
    EXPECT_EQ(end, c.end_on_wire);
    EXPECT_TRUE(f.ended());
    EXPECT_EQ(f.keepAlive(), c.keep_alive_after);
  }
}

TEST(ResponseFraming, ConnectionHeaderFollowsKeepAliveHttpVersionAndDraining) {
  struct Case {
    bool http10;
    bool keep_alive;
    bool draining;
    const char* connection;  // expected field, or nullptr for none
  };
  const Case cases[] = {
      {false, true, false, nullptr},
      {false, false, false, "connection: close\r\n"},
      {true, true, false, "connection: keep-alive\r\n"},
      {true, false, false, "connection: close\r\n"},
      {false, true, true, "connection: close\r\n"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(testing::Message() << "http10=" << c.http10 << " keep_alive=" << c.keep_alive
                                    << " draining=" << c.draining);
    ResponseFraming f;
    f.begin(false, c.http10, c.keep_alive);
    std::string out;
    ASSERT_TRUE(f.whole(out, 200, {}, "ok", c.draining));
    if (c.connection != nullptr) {
      EXPECT_TRUE(has(out, c.connection)) << out;
    } else {
      EXPECT_FALSE(has(out, "connection:")) << out;
    }
    EXPECT_EQ(f.keepAlive(), c.keep_alive && !c.draining);
  }
}

TEST(ResponseFraming, WholeResponseCarriesItsLengthAndLeavesTheBodyOutForHead) {
  ResponseFraming f;
  f.begin(/*head_request=*/true, false, true);
  std::string out;
  HeaderList headers;
  headers.add("content-type", "text/plain");
  ASSERT_TRUE(f.whole(out, 200, headers, "hello", false));
  EXPECT_TRUE(has(out, "content-type: text/plain\r\n"));
  EXPECT_TRUE(has(out, "content-length: 5\r\n"));
  EXPECT_TRUE(has(out, "date: "));
  EXPECT_EQ(out.substr(out.size() - 4), "\r\n\r\n");

  f.begin(false, false, true);
  out.clear();
  ASSERT_TRUE(f.whole(out, 200, {}, "hello", false));
  EXPECT_EQ(out.substr(out.size() - 9), "\r\n\r\nhello");
}

TEST(ResponseFraming, OneHeadPerResponseAndNothingAfterTheEnd) {
  ResponseFraming f;
  f.begin(false, false, true);
  std::string out;
  EXPECT_FALSE(f.body("early", out)) << "no body before the head";
  ASSERT_TRUE(f.head(out, 200, {}, -1, false));
  out.clear();
  EXPECT_FALSE(f.head(out, 200, {}, -1, false));
  EXPECT_FALSE(f.whole(out, 200, {}, "x", false));
  EXPECT_TRUE(out.empty());
  EXPECT_FALSE(f.body("", out)) << "an empty piece would read as the last chunk";
  ASSERT_TRUE(f.end(out));
  out.clear();
  EXPECT_FALSE(f.end(out));
  EXPECT_FALSE(f.body("late", out));
  EXPECT_TRUE(out.empty());

  f.begin(false, false, true);
  EXPECT_FALSE(f.headSent());
  EXPECT_FALSE(f.ended());
  f.abandon();
  EXPECT_FALSE(f.whole(out, 200, {}, "x", false)) << "a reset connection writes nothing";
}

TEST(ResponseFraming, ErrorAnswerClosesAndIsNeverChunkedOrCutForHead) {
  ResponseFraming f;
  f.begin(/*head_request=*/true, false, /*keep_alive=*/true);
  std::string out;
  ASSERT_TRUE(f.head(out, 200, {}, -1, false));  // chunked so far
  out.clear();
  f.error(out, 413, {}, "{\"error\":1}", false);
  EXPECT_EQ(out.rfind("HTTP/1.1 413", 0), 0u);
  EXPECT_TRUE(has(out, "content-length: 11\r\n"));
  EXPECT_FALSE(has(out, "transfer-encoding"));
  EXPECT_TRUE(has(out, "connection: close\r\n"));
  EXPECT_EQ(out.substr(out.size() - 11), "{\"error\":1}");
  EXPECT_FALSE(f.keepAlive());
}

TEST(ResponseFraming, DroppedKeepAliveIsAnnouncedAtTheHead) {
  ResponseFraming f;
  f.begin(false, false, true);
  f.dropKeepAlive();
  std::string out;
  ASSERT_TRUE(f.head(out, 200, {}, 0, false));
  EXPECT_TRUE(has(out, "connection: close\r\n"));
}

}  // namespace
}  // namespace aigw::http
