#include "upstream/response_parser.h"

#include <gtest/gtest.h>

#include <string>

namespace aigw::upstream {
namespace {

struct Recorder : ResponseParser::Listener {
  int status = 0;
  int64_t length = -2;
  std::string body;
  int completes = 0;
  bool keep_alive = false;
  ResponseParser* reuse = nullptr;  // reset this parser from onComplete, like a reused connection
  void onHead(int s, http::HeaderList&, int64_t len) override {
    status = s;
    length = len;
  }
  void onBody(std::string_view d) override { body.append(d); }
  void onComplete(bool ka) override {
    ++completes;
    keep_alive = ka;
    if (reuse != nullptr) reuse->reset(this);
  }
};

// The pool hands a freed connection to the next waiting request from inside the completion
// callback; that request resets the parser. llhttp must not be running at that moment.
TEST(ResponseParser, ListenerMayResetTheParserFromOnComplete) {
  Recorder r;
  ResponseParser p;
  r.reuse = &p;
  p.reset(&r);
  for (int i = 0; i < 3; ++i) {
    const std::string s = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
    ASSERT_TRUE(p.feed(s.data(), s.size())) << i << ": " << p.error();
    EXPECT_EQ(r.completes, i + 1);
    EXPECT_TRUE(r.keep_alive);
  }
  EXPECT_EQ(r.body, "okokok");
}

TEST(ResponseParser, BytesAfterTheResponseCompleteItButForbidReuse) {
  Recorder r;
  ResponseParser p;
  p.reset(&r);
  const std::string s = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokEXTRA";
  EXPECT_FALSE(p.feed(s.data(), s.size()));
  EXPECT_EQ(r.completes, 1);
  EXPECT_FALSE(r.keep_alive);
  EXPECT_EQ(p.error(), "unexpected bytes after the response");
}

TEST(ResponseParser, CloseDelimitedBodyCompletesAtEof) {
  Recorder r;
  ResponseParser p;
  p.reset(&r);
  const std::string s = "HTTP/1.1 200 OK\r\n\r\nuntil close";
  ASSERT_TRUE(p.feed(s.data(), s.size()));
  EXPECT_EQ(r.completes, 0);
  EXPECT_TRUE(p.finish());
  EXPECT_EQ(r.completes, 1);
  EXPECT_FALSE(r.keep_alive);
  EXPECT_EQ(r.body, "until close");
}

TEST(ResponseParser, HeadResponseCompletesWithoutBody) {
  Recorder r;
  ResponseParser p;
  p.reset(&r, /*head_request=*/true);
  const std::string head = "HTTP/1.1 200 OK\r\ncontent-length: 123\r\n\r\n";
  ASSERT_TRUE(p.feed(head.data(), head.size())) << p.error();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.length, 123);
  EXPECT_EQ(r.completes, 1);
  EXPECT_TRUE(r.keep_alive);
  EXPECT_TRUE(r.body.empty());
  EXPECT_TRUE(p.complete());
}

TEST(ResponseParser, SameBytesForGetWaitForTheBody) {
  Recorder r;
  ResponseParser p;
  p.reset(&r);
  const std::string head = "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n";
  ASSERT_TRUE(p.feed(head.data(), head.size()));
  EXPECT_EQ(r.completes, 0);
  ASSERT_TRUE(p.feed("hello", 5));
  EXPECT_EQ(r.completes, 1);
  EXPECT_EQ(r.body, "hello");
}

TEST(ResponseParser, ResetClearsTheHeadFlag) {
  Recorder r;
  ResponseParser p;
  p.reset(&r, true);
  const std::string head = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n";
  ASSERT_TRUE(p.feed(head.data(), head.size()));
  ASSERT_EQ(r.completes, 1);
  p.reset(&r);
  const std::string get = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
  ASSERT_TRUE(p.feed(get.data(), get.size()));
  EXPECT_EQ(r.completes, 2);
  EXPECT_EQ(r.body, "ok");
}

TEST(ResponseParser, BodylessStatusesCompleteAtTheHead) {
  for (const char* text : {"HTTP/1.1 204 No Content\r\nx-a: 1\r\n\r\n", "HTTP/1.1 304 Not Modified\r\netag: x\r\n\r\n"}) {
    Recorder r;
    ResponseParser p;
    p.reset(&r);
    const std::string s = text;
    ASSERT_TRUE(p.feed(s.data(), s.size())) << text << ": " << p.error();
    EXPECT_EQ(r.completes, 1) << text;
    EXPECT_EQ(r.length, -1) << text;
    EXPECT_TRUE(r.keep_alive) << text;
  }
}

}  // namespace
}  // namespace aigw::upstream
