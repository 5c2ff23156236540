// SseCredentialScrubber: a key sent as the text of several events never reaches the client,
// however the bytes are split; other events pass unchanged and in order.
#include "upstream/sse_credential_scrubber.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace aigw::upstream {
namespace {

const std::string kKey = "sk-test-0123456789abcdefXYZ";

std::string event(const std::string& field, const std::string& text) {
  nlohmann::json delta;
  delta[field] = text;
  nlohmann::json j = {{"id", "c1"}, {"choices", {{{"index", 0}, {"delta", delta}}}}};
  return "data: " + j.dump() + "\n\n";
}

// Relays `stream` cut every `step` bytes; returns what went out.
std::string relay(const CredentialScrubber& s, const std::string& stream, size_t step) {
  SseCredentialScrubber sse(s);
  std::string out;
  for (size_t at = 0; at < stream.size(); at += step) out += sse.feed(std::string_view(stream).substr(at, step));
  out += sse.finish();
  return out;
}

// The text of every delta, concatenated, as a client would see it.
std::string clientText(const std::string& out) {
  std::string text;
  for (size_t at = out.find("data: "); at != std::string::npos; at = out.find("data: ", at + 1)) {
    const size_t end = out.find("\n\n", at);
    auto j = nlohmann::json::parse(out.substr(at + 6, end - at - 6), nullptr, false);
    if (j.is_discarded()) continue;
    for (const auto& [k, v] : j["choices"][0]["delta"].items()) text += v.get<std::string>();
  }
  return text;
}

struct Case {
  const char* name;
  std::vector<std::string> pieces;  // the key's pieces, each the text of one event
};

class SseCredentialScrubberSplit : public ::testing::TestWithParam<Case> {};

TEST_P(SseCredentialScrubberSplit, TheClientNeverSeesTheKey) {
  CredentialScrubber s(kKey, {});
  std::string stream = event("content", "here: ");
  for (const auto& p : GetParam().pieces) stream += event("content", p);
  stream += event("content", " done") + "data: [DONE]\n\n";
  for (size_t step : {1u, 3u, 17u, 1000u}) {
    const std::string out = relay(s, stream, step);
    EXPECT_EQ(out.size(), stream.size()) << "the length is kept";
    const std::string text = clientText(out);
    EXPECT_EQ(text.find(kKey.substr(0, 8)), std::string::npos) << text;
    EXPECT_EQ(text.substr(0, 6), "here: ");
    EXPECT_EQ(text.substr(text.size() - 5), " done");
    EXPECT_NE(out.find("data: [DONE]\n\n"), std::string::npos);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Pieces, SseCredentialScrubberSplit,
    ::testing::Values(Case{"Whole", {kKey}}, Case{"TwoEvents", {kKey.substr(0, 9), kKey.substr(9)}},
                      Case{"ThreeEvents", {kKey.substr(0, 2), kKey.substr(2, 10), kKey.substr(12)}},
                      Case{"CharByChar", [] {
                             std::vector<std::string> v;
                             for (char c : kKey) v.emplace_back(1, c);
                             return v;
                           }()},
                      Case{"WithTextAround", {"x sk-te", "st-0123456789abcdefXYZ y"}}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(SseCredentialScrubber, ToolArgumentsAreTextToo) {
  CredentialScrubber s(kKey, {});
  const std::string stream = event("arguments", "{\"k\":\"" + kKey.substr(0, 10)) + event("arguments", kKey.substr(10) + "\"}");
  EXPECT_EQ(relay(s, stream, 5).find(kKey.substr(10)), std::string::npos);
}

TEST(SseCredentialScrubber, PlainEventsPassUnchangedAndAtOnce) {
  CredentialScrubber s(kKey, {});
  SseCredentialScrubber sse(s);
  const std::string e1 = event("content", "hello"), e2 = event("content", " world");
  EXPECT_EQ(sse.feed(e1 + e2), e1 + e2);
  EXPECT_FALSE(sse.holding());
}

TEST(SseCredentialScrubber, AnEventThatMayBeginAKeyWaitsForTheNext) {
  CredentialScrubber s(kKey, {});
  SseCredentialScrubber sse(s);
  const std::string e1 = event("content", "sk-te"), e2 = event("content", "a time");
  EXPECT_EQ(sse.feed(e1), "");
  EXPECT_TRUE(sse.holding());
  EXPECT_EQ(sse.feed(e2), e1 + e2);  // "sk-tea time": no key, both go out as they were
}

TEST(SseCredentialScrubber, ATextThatStopsIsSettledAfterAFewEvents) {
  CredentialScrubber s(kKey, {});
  SseCredentialScrubber sse(s);
  std::string out(sse.feed(event("content", "sk-test-012")));
  EXPECT_EQ(out, "");
  std::string rest;
  for (int i = 0; i < 5; ++i) rest += sse.feed(event("refusal", "r"));
  EXPECT_FALSE(sse.holding());
  EXPECT_EQ(rest.find("sk-test-012"), std::string::npos) << "a long prefix is masked when settled";
}

TEST(SseCredentialScrubber, CrLfEventsAndAPartialLastEvent) {
  CredentialScrubber s(kKey, {});
  const std::string stream = "data: {\"content\":\"" + kKey.substr(0, 5) + "\"}\r\n\r\ndata: {\"content\":\"" +
                             kKey.substr(5) + "\"}\r\n\r\ndata: " + kKey;
  const std::string out = relay(s, stream, 4);
  EXPECT_EQ(out.size(), stream.size());
  EXPECT_EQ(out.find(kKey.substr(5)), std::string::npos) << out;
  EXPECT_EQ(out.find(kKey), std::string::npos) << out;
}

// Found by the credential_scrub fuzz target: a text value followed by ':' (not JSON) was text
// to the careful path and a key to the quick one, so the output depended on the reads.
TEST(SseCredentialScrubber, NotJsonReadsTheSameHoweverItIsCut) {
  CredentialScrubber s(kKey, {});
  const std::string stream = "data: {\"choices\":[{\"delta\":y\"content\":\"key: " + kKey.substr(0, 9) +
                             "\":}}]}\n\ndata: {\"choi}}]}\n\ndata: [DONE]\n\n";
  const std::string whole = relay(s, stream, stream.size());
  for (size_t step : {1u, 2u, 5u, 13u, 40u}) EXPECT_EQ(relay(s, stream, step), whole) << step;
}

// Also found by it: a value followed by CR CR (an event's end) and then ':' in the next event.
// Read whole, the quick path took the ':' for the value's and the string for a key.
TEST(SseCredentialScrubber, AValueThatEndsAnEventIsTextWhateverFollows) {
  CredentialScrubber s(kKey, {});
  const std::string stream = "data: {\"content\":\"key: " + kKey.substr(0, 9) + "\"\r\r:{\"x\":1}\r\r";
  const std::string whole = relay(s, stream, stream.size());
  EXPECT_EQ(whole.find(kKey.substr(0, 9)), std::string::npos) << whole;  // a settled long prefix
  for (size_t step : {1u, 3u, 7u, 20u}) EXPECT_EQ(relay(s, stream, step), whole) << step;
}

}  // namespace
}  // namespace aigw::upstream
