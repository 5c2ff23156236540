#include "http/sse.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

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

TEST(SseEncoder, AppendsWithoutClearingEarlierEvents) {
  std::string out = "data: first\n\n";
  appendSseEvent(out, "second");
  EXPECT_EQ(out, "data: first\n\ndata: second\n\n");
}

TEST(SseEncoder, TrailingAndRepeatedLineBreaksKeepEmptyDataLines) {
  std::string out;
  appendSseEvent(out, "a\n");
  EXPECT_EQ(out, "data: a\ndata: \n\n");
  out.clear();
  appendSseEvent(out, "a\r\rb");
  EXPECT_EQ(out, "data: a\ndata: \ndata: b\n\n");
  out.clear();
  appendSseEvent(out, "\r\n");
  EXPECT_EQ(out, "data: \ndata: \n\n");
}

TEST(SseEncoder, DoneMarkerIsTheOpenAiTerminator) { EXPECT_EQ(kSseDone, "data: [DONE]\n\n"); }

// A decoder written from the WHATWG event-stream rules: what the encoder writes must decode to
// the same data, with CR and CRLF normalised to LF, and must not split into extra events.
struct DecodedEvent {
  std::string event;
  std::string data;
};

std::vector<DecodedEvent> decodeSse(const std::string& stream) {
  std::vector<DecodedEvent> out;
  DecodedEvent cur;
  bool has_data = false;
  size_t pos = 0;
  while (pos < stream.size()) {
    size_t eol = stream.find('\n', pos);
    if (eol == std::string::npos) break;
    std::string line = stream.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.empty()) {
      if (has_data) out.push_back(cur);
      cur = {};
      has_data = false;
      continue;
    }
    size_t colon = line.find(':');
    std::string field = line.substr(0, colon);
    std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
    if (!value.empty() && value[0] == ' ') value.erase(0, 1);
    if (field == "data") {
      if (has_data) cur.data += "\n";
      cur.data += value;
      has_data = true;
    } else if (field == "event") {
      cur.event = value;
    }
  }
  return out;
}

TEST(SseEncoder, RoundTripsThroughASpecDecoder) {
  const std::vector<std::string> samples = {
      "{\"a\":1}", "", "line1\nline2", "cr\ronly", "crlf\r\nend", "\n\n\n", "data: nested", ": comment-like",
      "tabs\tand \xc3\xa9 utf-8", "ends with cr\r", std::string(70000, 'x')};
  std::string stream;
  for (const auto& s : samples) appendSseEvent(stream, s, "delta");
  auto events = decodeSse(stream);
  ASSERT_EQ(events.size(), samples.size());
  for (size_t i = 0; i < samples.size(); ++i) {
    std::string expected;
    for (size_t j = 0; j < samples[i].size(); ++j) {
      if (samples[i][j] == '\r') {
        expected += '\n';
        if (j + 1 < samples[i].size() && samples[i][j + 1] == '\n') ++j;
      } else {
        expected += samples[i][j];
      }
    }
    EXPECT_EQ(events[i].data, expected) << "sample " << i;
    EXPECT_EQ(events[i].event, "delta");
  }
}

}  // namespace
}  // namespace aigw::http
