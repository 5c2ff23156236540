#include "http/sse.h"

#include <gtest/gtest.h>

namespace aigw::http {
namespace {

TEST(SseEncoder, FramesSingleLineEvent) {
  std::string out;
  appendSseEvent(out, "{\"a\":1}");
  EXPECT_EQ(out, "data: {\"a\":1}\n\n");
}

TEST(SseEncoder, SplitsMultiLineDataIntoDataLines) {
  std::string out;
  appendSseEvent(out, "one\ntwo\r\nthree\rfour", "message");
  EXPECT_EQ(out, "event: message\ndata: one\ndata: two\ndata: three\ndata: four\n\n");
}

TEST(SseEncoder, EmptyDataStillEndsEvent) {
  std::string out;
  appendSseEvent(out, "");
  EXPECT_EQ(out, "data: \n\n");
}

}  // namespace
}  // namespace aigw::http
