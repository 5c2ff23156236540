// SseDecoder: the incremental text/event-stream parser used to read upstream streams.
// Every input is also fed split at each byte boundary and at random points: a network read
// can end anywhere, and the decoder must hand out the same events whatever the split.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "http/sse.h"

namespace aigw::http {
namespace {

struct Ev {
  std::string event;
  std::string data;
  std::string id;
  bool operator==(const Ev& o) const { return event == o.event && data == o.data && id == o.id; }
};

std::ostream& operator<<(std::ostream& os, const Ev& e) {
  return os << "{event=" << e.event << " data=" << ::testing::PrintToString(e.data) << " id=" << e.id << "}";
}

struct Collector {
  std::vector<Ev> events;
  static void onEvent(void* ctx, const SseDecoder::Event& e) {
    static_cast<Collector*>(ctx)->events.push_back({std::string(e.event), std::string(e.data), std::string(e.id)});
  }
};

std::vector<Ev> decodeWhole(std::string_view input, size_t cap = 1 << 20) {
  Collector c;
  SseDecoder d(&Collector::onEvent, &c, cap);
  d.feed(input);
  return c.events;
}

std::vector<Ev> decodeInPieces(std::string_view input, const std::vector<size_t>& cuts) {
  Collector c;
  SseDecoder d(&Collector::onEvent, &c);
  size_t pos = 0;
  for (size_t cut : cuts) {
    d.feed(input.substr(pos, cut - pos));
    pos = cut;
  }
  d.feed(input.substr(pos));
  return c.events;
}

// The events of `input` must not depend on where reads end: whole, one byte at a time, split
// once at every position, split twice at every pair of positions, and random splits.
void expectSplitInvariant(std::string_view input, const std::vector<Ev>& expected) {
  EXPECT_EQ(decodeWhole(input), expected) << "whole";
  std::vector<size_t> every;
  for (size_t i = 1; i < input.size(); ++i) every.push_back(i);
  EXPECT_EQ(decodeInPieces(input, every), expected) << "byte by byte";
  for (size_t i = 0; i <= input.size(); ++i) {
    ASSERT_EQ(decodeInPieces(input, {i}), expected) << "split at " << i;
    for (size_t j = i; j <= input.size() && input.size() <= 200; ++j) {
      ASSERT_EQ(decodeInPieces(input, {i, j}), expected) << "split at " << i << " and " << j;
    }
  }
  std::mt19937 rng(12345);
  for (int round = 0; round < 200; ++round) {
    std::vector<size_t> cuts;
    for (size_t pos = 0; pos < input.size();) {
      pos += 1 + rng() % 7;
      if (pos < input.size()) cuts.push_back(pos);
    }
    ASSERT_EQ(decodeInPieces(input, cuts), expected) << "random round " << round;
  }
}

TEST(SseDecoder, OpenAiStreamGivesSameEventsWhateverTheSplit) {
  const std::string input =
      "data: {\"id\":\"c1\",\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n\n"
      "data: {\"id\":\"c1\",\"choices\":[{\"delta\":{\"content\":\"lo\"}}]}\n\n"
      "data: [DONE]\n\n";
  expectSplitInvariant(input, {{"message", "{\"id\":\"c1\",\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}", ""},
                               {"message", "{\"id\":\"c1\",\"choices\":[{\"delta\":{\"content\":\"lo\"}}]}", ""},
                               {"message", "[DONE]", ""}});
}

TEST(SseDecoder, CrLfLineEndsGiveSameEventsWhateverTheSplit) {
  expectSplitInvariant("event: a\r\ndata: 1\r\n\r\ndata: 2\r\ndata: 3\r\n\r\n",
                       {{"a", "1", ""}, {"message", "2\n3", ""}});
}

TEST(SseDecoder, CrOnlyLineEndsGiveSameEventsWhateverTheSplit) {
  expectSplitInvariant("data: x\r\rdata: y\rdata: z\r\r", {{"message", "x", ""}, {"message", "y\nz", ""}});
}

TEST(SseDecoder, MixedLineEndsGiveSameEventsWhateverTheSplit) {
  // CR, LF and CRLF in one stream; a CR followed by a CRLF is two line ends (a blank line).
  expectSplitInvariant("data: a\rdata: b\ndata: c\r\n\r\ndata: d\r\r\ndata: e\n\n",
                       {{"message", "a\nb\nc", ""}, {"message", "d", ""}, {"message", "e", ""}});
}

TEST(SseDecoder, CrLfSplitBetweenTwoFeedsIsOneLineEnd) {
  Collector c;
  SseDecoder d(&Collector::onEvent, &c);
  EXPECT_TRUE(d.feed("data: one\r"));
  EXPECT_TRUE(d.feed("\ndata: two\r"));
  EXPECT_TRUE(d.feed("\n\r"));
  EXPECT_TRUE(d.feed("\n"));
  ASSERT_EQ(c.events.size(), 1u);
  EXPECT_EQ(c.events[0].data, "one\ntwo");
}

TEST(SseDecoder, LoneCrAtEndOfFeedFollowedByTextEndsTheLine) {
  Collector c;
  SseDecoder d(&Collector::onEvent, &c);
  d.feed("data: one\r");
  d.feed("data: two\r");
  d.feed("\r");
  ASSERT_EQ(c.events.size(), 1u);
  EXPECT_EQ(c.events[0].data, "one\ntwo");
}

TEST(SseDecoder, MultiLineDataIsJoinedWithNewlines) {
  expectSplitInvariant("data: {\ndata:   \"a\": 1\ndata: }\n\n", {{"message", "{\n  \"a\": 1\n}", ""}});
}

TEST(SseDecoder, OnlyOneLeadingSpaceOfAValueIsRemoved) {
  EXPECT_EQ(decodeWhole("data:no-space\n\ndata:  two\n\n"),
            (std::vector<Ev>{{"message", "no-space", ""}, {"message", " two", ""}}));
}

TEST(SseDecoder, CommentsAreIgnored) {
  expectSplitInvariant(": keep-alive\n\n:\ndata: x\n: in the middle\ndata: y\n\n",
                       {{"message", "x\ny", ""}});
}

TEST(SseDecoder, EventAndIdFieldsAreReported) {
  expectSplitInvariant("event: message_start\nid: 7\ndata: {}\n\nevent: ping\ndata: p\n\n",
                       {{"message_start", "{}", "7"}, {"ping", "p", "7"}});
}

TEST(SseDecoder, EventNameResetsAfterEachEventButIdPersists) {
  EXPECT_EQ(decodeWhole("event: a\nid: 1\ndata: x\n\ndata: y\n\nid: 2\ndata: z\n\n"),
            (std::vector<Ev>{{"a", "x", "1"}, {"message", "y", "1"}, {"message", "z", "2"}}));
}

TEST(SseDecoder, DataWithoutColonIsAnEmptyDataLine) {
  EXPECT_EQ(decodeWhole("data\n\n"), (std::vector<Ev>{{"message", "", ""}}));
  EXPECT_EQ(decodeWhole("data\ndata\n\n"), (std::vector<Ev>{{"message", "\n", ""}}));
  EXPECT_EQ(decodeWhole("data: a\ndata\n\n"), (std::vector<Ev>{{"message", "a\n", ""}}));
}

TEST(SseDecoder, BlankLinesWithoutDataDispatchNothing) {
  EXPECT_TRUE(decodeWhole("\n\n\r\n\revent: lonely\n\nid: 3\n\n").empty());
}

TEST(SseDecoder, EventNameWithoutDataIsForgottenAtBlankLine) {
  EXPECT_EQ(decodeWhole("event: x\n\ndata: d\n\n"), (std::vector<Ev>{{"message", "d", ""}}));
}

TEST(SseDecoder, UnknownFieldsAndRetryAreIgnored) {
  EXPECT_EQ(decodeWhole("retry: 1000\nfoo: bar\ndata: d\nDATA: upper-case is another field\n\n"),
            (std::vector<Ev>{{"message", "d", ""}}));
}

TEST(SseDecoder, DoneSentinelIsAnOrdinaryEvent) {
  EXPECT_EQ(decodeWhole("data: [DONE]\n\n"), (std::vector<Ev>{{"message", "[DONE]", ""}}));
}

TEST(SseDecoder, UnterminatedEventIsNotDispatched) {
  Collector c;
  SseDecoder d(&Collector::onEvent, &c);
  EXPECT_TRUE(d.feed("data: partial\n"));
  EXPECT_TRUE(c.events.empty());
  EXPECT_TRUE(d.feed("\n"));
  EXPECT_EQ(c.events.size(), 1u);
}

TEST(SseDecoder, EventLargerThanCapOverflows) {
  Collector c;
  SseDecoder d(&Collector::onEvent, &c, 64);
  EXPECT_TRUE(d.feed("data: small\n\n"));
  EXPECT_FALSE(d.feed("data: " + std::string(100, 'x') + "\n\n"));
  EXPECT_TRUE(d.overflowed());
  // Stops decoding for good.
  EXPECT_FALSE(d.feed("data: after\n\n"));
  ASSERT_EQ(c.events.size(), 1u);
  EXPECT_EQ(c.events[0].data, "small");
}

TEST(SseDecoder, ManyDataLinesAddingUpPastCapOverflow) {
  Collector c;
  SseDecoder d(&Collector::onEvent, &c, 64);
  bool ok = true;
  for (int i = 0; i < 20 && ok; ++i) ok = d.feed("data: 0123456789\n");
  EXPECT_FALSE(ok);
  EXPECT_TRUE(d.overflowed());
  EXPECT_TRUE(c.events.empty());
}

TEST(SseDecoder, PartialLineLargerThanCapOverflowsWithoutLineEnd) {
  Collector c;
  SseDecoder d(&Collector::onEvent, &c, 64);
  bool ok = true;
  for (int i = 0; i < 20 && ok; ++i) ok = d.feed("0123456789");
  EXPECT_FALSE(ok);
  EXPECT_TRUE(d.overflowed());
}

TEST(SseDecoder, EventsUnderCapSurviveManyEvents) {
  Collector c;
  SseDecoder d(&Collector::onEvent, &c, 64);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(d.feed("data: 0123456789012345678901234567890123456789\n\n"));
  EXPECT_EQ(c.events.size(), 1000u);
  EXPECT_FALSE(d.overflowed());
}

// The cap must not depend on where reads end: an event that fits when it arrives whole also
// fits when it arrives in pieces, and one that overflows does so whatever the split.
TEST(SseDecoder, CapDecisionDoesNotDependOnTheSplit) {
  for (const std::string input : {"data: 0123456789\n\n", "event: e\ndata: 01234\ndata: 5678\n\n"}) {
    for (size_t cap = 1; cap <= input.size() + 2; ++cap) {
      Collector whole_c;
      SseDecoder whole(&Collector::onEvent, &whole_c, cap);
      whole.feed(input);
      for (size_t cut = 0; cut <= input.size(); ++cut) {
        Collector c;
        SseDecoder d(&Collector::onEvent, &c, cap);
        d.feed(std::string_view(input).substr(0, cut));
        d.feed(std::string_view(input).substr(cut));
        ASSERT_EQ(d.overflowed(), whole.overflowed()) << "cap " << cap << " cut " << cut << " input " << input;
        ASSERT_EQ(c.events, whole_c.events) << "cap " << cap << " cut " << cut;
      }
    }
  }
}

TEST(SseDecoder, EventDataViewIsValidDuringCallback) {
  struct Ctx {
    std::string copy;
  } ctx;
  SseDecoder d(
      [](void* p, const SseDecoder::Event& e) { static_cast<Ctx*>(p)->copy.assign(e.data.data(), e.data.size()); },
      &ctx);
  d.feed("data: a");
  d.feed("bc\n");
  d.feed("\n");
  EXPECT_EQ(ctx.copy, "abc");
}

}  // namespace
}  // namespace aigw::http
