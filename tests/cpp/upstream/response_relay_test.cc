// ResponseRelay without sockets: the parsed response goes to the exchange that sent the
// request, a detached exchange hears nothing more, and what it learns about the connection
// (reusable, requests served) follows each response's end.
#include "upstream/response_relay.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>

namespace aigw::upstream {
namespace {

struct Recorder final : UpstreamExchange {
  int status = 0;
  int64_t content_length = -2;
  std::string body;
  int completes = 0;
  std::function<void()> on_complete;

  void onResponseHead(int s, http::HeaderList&, int64_t cl) override {
    status = s;
    content_length = cl;
  }
  void onResponseBody(std::string_view data) override { body.append(data); }
  void onResponseComplete() override {
    ++completes;
    if (on_complete) on_complete();
  }
  void onResponseError(CallErrorKind, const std::string&, bool) override { ADD_FAILURE() << "no errors here"; }
};

bool feed(ResponseRelay& relay, std::string_view bytes) {
  return relay.feed(bytes.data(), bytes.size());
}

TEST(ResponseRelay, HandsTheResponseToTheExchangeAndCountsItServed) {
  ResponseRelay relay;
  Recorder ex;
  relay.begin(&ex, false);
  EXPECT_TRUE(relay.active());
  EXPECT_FALSE(relay.started());
  ASSERT_TRUE(feed(relay, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel"));
  EXPECT_TRUE(relay.started());
  EXPECT_EQ(ex.status, 200);
  EXPECT_EQ(ex.content_length, 5);
  EXPECT_EQ(ex.completes, 0);
  ASSERT_TRUE(feed(relay, "lo"));
  EXPECT_EQ(ex.body, "hello");
  EXPECT_EQ(ex.completes, 1);
  EXPECT_FALSE(relay.active());
  EXPECT_TRUE(relay.reusable());
  EXPECT_EQ(relay.served(), 1u);
  EXPECT_EQ(relay.exchange(), nullptr);  // the ended exchange is let go
}

TEST(ResponseRelay, AResponseThatClosesTheConnectionIsNotReusable) {
  ResponseRelay relay;
  Recorder ex;
  relay.begin(&ex, false);
  ASSERT_TRUE(feed(relay, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"));
  EXPECT_EQ(ex.completes, 1);
  EXPECT_FALSE(relay.reusable());
}

TEST(ResponseRelay, ANewRequestIsNotReusableUntilItsResponseEnds) {
  ResponseRelay relay;
  Recorder ex;
  relay.begin(&ex, false);
  ASSERT_TRUE(feed(relay, "HTTP/1.1 204 No Content\r\n\r\n"));
  ASSERT_TRUE(relay.reusable());
  relay.begin(&ex, false);
  EXPECT_FALSE(relay.reusable());
  EXPECT_TRUE(relay.active());
}

TEST(ResponseRelay, ADetachedExchangeHearsNothingButTheResponseStillEnds) {
  ResponseRelay relay;
  Recorder ex;
  relay.begin(&ex, false);
  ASSERT_TRUE(feed(relay, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab"));
  EXPECT_EQ(relay.detach(), &ex);
  EXPECT_EQ(relay.detach(), nullptr);
  ASSERT_TRUE(feed(relay, "cd"));
  EXPECT_EQ(ex.body, "ab");
  EXPECT_EQ(ex.completes, 0);
  EXPECT_FALSE(relay.active());
  EXPECT_EQ(relay.served(), 1u);
}

TEST(ResponseRelay, AResponseToHeadHasNoBodyWhateverItsHeadersSay) {
  ResponseRelay relay;
  Recorder ex;
  relay.begin(&ex, true);
  ASSERT_TRUE(feed(relay, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"));
  EXPECT_EQ(ex.completes, 1);
  EXPECT_EQ(ex.body, "");
}

TEST(ResponseRelay, ACloseEndsACloseDelimitedBodyButNotATruncatedOne) {
  ResponseRelay relay;
  Recorder ex;
  relay.begin(&ex, false);
  EXPECT_FALSE(relay.finishAtClose()) << "nothing arrived: not a response";
  ASSERT_TRUE(feed(relay, "HTTP/1.1 200 OK\r\n\r\nuntil close"));
  EXPECT_TRUE(relay.finishAtClose());
  EXPECT_EQ(ex.body, "until close");
  EXPECT_EQ(ex.completes, 1);

  Recorder cut;
  relay.begin(&cut, false);
  ASSERT_TRUE(feed(relay, "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc"));
  EXPECT_FALSE(relay.finishAtClose());
  EXPECT_EQ(cut.completes, 0);
}

TEST(ResponseRelay, MalformedBytesAreRefusedWithAReason) {
  ResponseRelay relay;
  Recorder ex;
  relay.begin(&ex, false);
  EXPECT_FALSE(feed(relay, "HTTP/1.1 abc\r\n\r\n"));
  EXPECT_FALSE(relay.error().empty());
}

TEST(ResponseRelay, TheExchangeMayBeginTheNextRequestFromItsCompletion) {
  ResponseRelay relay;
  Recorder first;
  Recorder second;
  first.on_complete = [&] { relay.begin(&second, false); };
  relay.begin(&first, false);
  ASSERT_TRUE(feed(relay, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na"));
  EXPECT_EQ(first.completes, 1);
  EXPECT_TRUE(relay.active());
  EXPECT_EQ(relay.exchange(), &second);
  ASSERT_TRUE(feed(relay, "HTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nb"));
  EXPECT_EQ(second.status, 201);
  EXPECT_EQ(second.body, "b");
  EXPECT_EQ(relay.served(), 2u);
}

}  // namespace
}  // namespace aigw::upstream
