#include "upstream/response_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace aigw::upstream {
namespace {

// Acts like a pooled connection handed to the next waiting request the moment a response
// completes: it resets the parser from inside onComplete.
class ReusingListener final : public ResponseParser::Listener {
 public:
  explicit ReusingListener(ResponseParser& parser) : parser_(parser) {}
  void onHead(int status, http::HeaderList&, int64_t) override { statuses.push_back(status); }
  void onBody(std::string_view data) override { body.append(data); }
  void onComplete(bool keep_alive) override {
    ++completed;
    keep_alives.push_back(keep_alive);
    if (reuse) parser_.reset(this);
  }

  ResponseParser& parser_;
  bool reuse = true;
  int completed = 0;
  std::vector<int> statuses;
  std::vector<bool> keep_alives;
  std::string body;
};

const std::string kResponse = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

TEST(ResponseParser, ResetFromOnCompleteParsesTheNextResponse) {
  ResponseParser parser;
  ReusingListener listener(parser);
  parser.reset(&listener);
  ASSERT_TRUE(parser.feed(kResponse.data(), kResponse.size())) << parser.error();
  // The connection now carries the next request's answer; a parser reset inside llhttp's
  // callback used to keep the pause as a sticky error and drop or refuse these bytes.
  ASSERT_TRUE(parser.feed(kResponse.data(), kResponse.size())) << parser.error();
  EXPECT_EQ(listener.completed, 2);
  EXPECT_EQ(listener.statuses, (std::vector<int>{200, 200}));
  EXPECT_EQ(listener.body, "okok");
}

TEST(ResponseParser, BytesAfterTheResponseCompleteItButForbidReuse) {
  ResponseParser parser;
  ReusingListener listener(parser);
  listener.reuse = false;
  parser.reset(&listener);
  const std::string twice = kResponse + kResponse;
  EXPECT_FALSE(parser.feed(twice.data(), twice.size()));
  EXPECT_EQ(parser.error(), "unexpected bytes after the response");
  EXPECT_EQ(listener.completed, 1);
  EXPECT_EQ(listener.keep_alives, (std::vector<bool>{false}));
}

TEST(ResponseParser, CloseDelimitedBodyCompletesOnFinish) {
  ResponseParser parser;
  ReusingListener listener(parser);
  listener.reuse = false;
  parser.reset(&listener);
  const std::string head = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nhello";
  ASSERT_TRUE(parser.feed(head.data(), head.size()));
  EXPECT_EQ(listener.completed, 0);
  EXPECT_TRUE(parser.finish());
  EXPECT_EQ(listener.completed, 1);
  EXPECT_EQ(listener.body, "hello");
}

}  // namespace
}  // namespace aigw::upstream
