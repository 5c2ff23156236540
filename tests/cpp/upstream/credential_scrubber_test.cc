// CredentialScrubber: a provider's key never goes out, however the upstream's bytes are split,
// and what goes out has the length that came in (framing stays true).
#include "upstream/credential_scrubber.h"

#include <gtest/gtest.h>

#include <string>

namespace aigw::upstream {
namespace {

const std::string kKey = "sk-test-0123456789abcdefXYZ";  // 27 bytes

http::HeaderList headers(std::initializer_list<std::pair<const char*, const char*>> list) {
  http::HeaderList h;
  for (const auto& [n, v] : list) h.add(n, v);
  return h;
}

// Feeds `text` cut at `cuts` and returns what went out.
std::string relay(const CredentialScrubber& s, const std::string& text, const std::vector<size_t>& cuts) {
  CredentialScrubber::Stream stream(s);
  std::string out;
  size_t from = 0;
  for (size_t cut : cuts) {
    out += stream.feed(std::string_view(text).substr(from, cut - from));
    from = cut;
  }
  out += stream.feed(std::string_view(text).substr(from));
  out += stream.finish();
  return out;
}

std::string masked(size_t n) {
  std::string m(n, '?');
  fillMask(m.data(), n);
  return m;
}

TEST(CredentialScrubber, TakesTheKeyAndCredentialHeadersOnly) {
  CredentialScrubber s(kKey, headers({{"Authorization", "Bearer other-token-123"},
                                      {"x-goog-api-key", "goog-key-456"},
                                      {"anthropic-version", "2023-06-01"},  // not a credential
                                      {"x-short-key", "abc"}}));                // too short
  const auto& v = s.secrets();
  for (const char* want : {"sk-test-0123456789abcdefXYZ", "Bearer other-token-123", "other-token-123", "goog-key-456"}) {
    EXPECT_NE(std::find(v.begin(), v.end(), want), v.end()) << want;
  }
  EXPECT_EQ(std::find(v.begin(), v.end(), "2023-06-01"), v.end());
  EXPECT_EQ(std::find(v.begin(), v.end(), "abc"), v.end());
}

TEST(CredentialScrubber, MasksTheKeyAtEverySplitAndKeepsTheLength) {
  CredentialScrubber s(kKey, {});
  const std::vector<std::string> bodies = {
      R"({"error":{"message":"Incorrect API key provided: )" + kKey + R"(."}})",
      "data: {\"x\":\"" + kKey.substr(0, 10) + "\"}\n\ndata: {\"x\":\"" + kKey + "\"}\n\n" + kKey,
      kKey + kKey,
      "ss" + kKey + "s",  // a near miss before it, a possible start after it
  };
  for (const std::string& body : bodies) {
    std::string want = body;
    for (size_t at = want.find(kKey); at != std::string::npos; at = want.find(kKey, at)) {
      fillMask(want.data() + at, kKey.size());
    }
    for (size_t a = 0; a <= body.size(); ++a) {
      EXPECT_EQ(relay(s, body, {a}), want) << "cut at " << a;
      for (size_t b = a; b <= body.size(); b += 7) ASSERT_EQ(relay(s, body, {a, b}), want) << a << "," << b;
    }
    std::vector<size_t> every;
    for (size_t i = 1; i < body.size(); ++i) every.push_back(i);
    EXPECT_EQ(relay(s, body, every), want) << "byte by byte";
  }
}

TEST(CredentialScrubber, PlainReadsPassWithoutACopy) {
  CredentialScrubber s(kKey, {});
  CredentialScrubber::Stream stream(s);
  const std::string read = "data: {\"choices\":[{\"delta\":{\"content\":\"hello\"}}]}\n\n";
  EXPECT_EQ(stream.feed(read).data(), read.data());
  EXPECT_FALSE(stream.holding());
}

TEST(CredentialScrubber, HoldsOnlyWhatCouldBeginAKey) {
  CredentialScrubber s(kKey, {});
  CredentialScrubber::Stream stream(s);
  EXPECT_EQ(stream.feed("answer: sk-te"), "answer: ");
  EXPECT_TRUE(stream.holding());
  EXPECT_EQ(stream.feed("xt, and more"), "sk-text, and more");
  EXPECT_FALSE(stream.holding());
}

TEST(CredentialScrubber, ABodyEndingInsideAKeyMasksWhatWasHeld) {
  CredentialScrubber s(kKey, {});
  EXPECT_EQ(relay(s, "x" + kKey.substr(0, 20), {}), "x" + masked(20));
  EXPECT_EQ(relay(s, "x" + kKey.substr(0, 4), {}), "x" + kKey.substr(0, 4));  // too short to be a key
}

TEST(CredentialScrubber, MasksJsonEscapedKeys) {
  const std::string key = "key/with\"quote-and-more";
  CredentialScrubber s(key, {});
  const std::string body = R"({"k":"key/with\"quote-and-more"})";
  EXPECT_EQ(relay(s, body, {10}), R"({"k":")" + masked(24) + R"("})");
}

TEST(CredentialScrubber, MasksHeaderValues) {
  CredentialScrubber s(kKey, {});
  http::HeaderList h = headers({{"x-echo", ("Bearer " + kKey).c_str()}, {"content-type", "application/json"}});
  s.scrubHeaders(h);
  EXPECT_EQ(*h.find("x-echo"), "Bearer " + masked(kKey.size()));
  EXPECT_EQ(*h.find("content-type"), "application/json");
}

TEST(CredentialScrubber, NoKeyNoWork) {
  CredentialScrubber s("", {});
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(relay(s, "anything sk-", {3}), "anything sk-");
}

}  // namespace
}  // namespace aigw::upstream
