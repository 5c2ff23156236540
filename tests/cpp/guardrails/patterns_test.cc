#include "guardrails/patterns.h"

#include <gtest/gtest.h>

namespace aigw::guardrails {
namespace {

std::string redact(const char* preset, std::string text) {
  Pattern p;
  EXPECT_TRUE(presetPattern(preset, &p));
  scan(p, text, true, nullptr, true);
  return text;
}

bool found(const char* preset, std::string text) {
  Pattern p;
  EXPECT_TRUE(presetPattern(preset, &p));
  return scan(p, text, false, nullptr, true).matches > 0;
}

TEST(Luhn, AcceptsValidCardNumbersWithSeparators) {
  EXPECT_TRUE(luhnValid("4111111111111111"));
  EXPECT_TRUE(luhnValid("4111 1111 1111 1111"));
  EXPECT_TRUE(luhnValid("5500-0000-0000-0004"));
  EXPECT_TRUE(luhnValid("378282246310005"));  // Amex, 15 digits
}

TEST(Luhn, RejectsWrongCheckDigitsAndLengths) {
  EXPECT_FALSE(luhnValid("4111111111111112"));
  EXPECT_FALSE(luhnValid("1234567812345678"));
  EXPECT_FALSE(luhnValid("0000"));            // too short
  EXPECT_FALSE(luhnValid("41111111111111111111"));  // 20 digits
}

TEST(CardPreset, RedactsOnlyLuhnValidNumbers) {
  EXPECT_EQ(redact("card", "pay with 4111 1111 1111 1111 now"), "pay with [REDACTED:card] now");
  EXPECT_EQ(redact("card", "card 4111-1111-1111-1111."), "card [REDACTED:card].");
  EXPECT_EQ(redact("card", "order 4111 1111 1111 1112 shipped"), "order 4111 1111 1111 1112 shipped");
  EXPECT_EQ(redact("card", "id 1234567812345678"), "id 1234567812345678");
}

TEST(EmailPreset, RedactsAddresses) {
  EXPECT_EQ(redact("email", "write to jane.doe+x@mail.example.com today"), "write to [REDACTED:email] today");
  EXPECT_EQ(redact("email", "no at-sign here"), "no at-sign here");
}

TEST(PhonePreset, RedactsPhoneShapedNumbers) {
  EXPECT_EQ(redact("phone", "call +1 415 555 2671"), "call [REDACTED:phone]");
  EXPECT_EQ(redact("phone", "call +14155552671."), "call [REDACTED:phone].");
  EXPECT_EQ(redact("phone", "office (415) 555-2671"), "office [REDACTED:phone]");
  EXPECT_EQ(redact("phone", "desk 415-555-2671 ok"), "desk [REDACTED:phone] ok");
  EXPECT_EQ(redact("phone", "uk +44 20 7946 0958"), "uk [REDACTED:phone]");
}

TEST(PhonePreset, LeavesOtherNumbersAlone) {
  EXPECT_FALSE(found("phone", "on 2024-01-15 at 10.30"));
  EXPECT_FALSE(found("phone", "version 1.2.3 costs 1234567"));
  EXPECT_FALSE(found("phone", "order number 123456789012"));
  EXPECT_FALSE(found("phone", "card 4111 1111 1111 1111"));
  EXPECT_FALSE(found("phone", "ip 192.168.100.200"));
}

TEST(SecretsPreset, RedactsKeysByTheirPrefixes) {
  const char* secrets[] = {
      "sk-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH",
      "sk-proj-abcdefghijklmnopqrstuvwxyz012345",
      "sk-ant-api03-abcdefghijklmnopqrstuvwxyz",
      "AKIAIOSFODNN7EXAMPLE",
      "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
      "github_pat_11ABCDEFG0123456789abcdefghij",
      "xoxb-1234567890-abcdefghij",
      "AIzaSyA-abcdefghijklmnopqrstuvwxyz01234",
      "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc",
      "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----",
  };
  for (const char* s : secrets) {
    EXPECT_EQ(redact("secrets", std::string("key: ") + s + " end"), "key: [REDACTED:secret] end") << s;
  }
  EXPECT_EQ(redact("secrets", "a task-list and sk-short"), "a task-list and sk-short");
}

TEST(SecretsPreset, PrivateKeyWithoutEndIsRedactedToTheEnd) {
  EXPECT_EQ(redact("secrets", "x -----BEGIN PRIVATE KEY-----\nMIIE"), "x [REDACTED:secret]");
}

TEST(Phrases, MatchCaseInsensitivelyAndOptionallyWholeWords) {
  Pattern p;
  std::string error;
  ASSERT_TRUE(phrasePattern({"Bomb", "how to (hack)"}, false, &p, &error)) << error;
  std::string t = "a BOMBastic HOW TO (hack) x";
  EXPECT_EQ(scan(p, t, false, nullptr, true).matches, 1u);
  scan(p, t, true, nullptr, true);
  EXPECT_EQ(t, "a [REDACTED]astic [REDACTED] x");
  Pattern w;
  ASSERT_TRUE(phrasePattern({"bomb"}, true, &w, &error));
  std::string a = "a bombastic talk";
  EXPECT_EQ(scan(w, a, false, nullptr, true).matches, 0u);
  std::string b = "a bomb, really";
  EXPECT_EQ(scan(w, b, false, nullptr, true).matches, 1u);
  Pattern u;
  ASSERT_TRUE(phrasePattern({"\xC3\xA9lan"}, true, &u, &error));  // "élan": no ASCII boundary on its left
  std::string c = "with \xC3\x89LAN today";                     // "ÉLAN": Unicode case folding
  EXPECT_EQ(scan(u, c, false, nullptr, true).matches, 1u);
  std::string d = "with \xC3\xA9lans";
  EXPECT_EQ(scan(u, d, false, nullptr, true).matches, 0u);
}

TEST(Re2, ReportsSyntaxErrors) {
  EXPECT_EQ(re2Error("a+b"), "");
  EXPECT_NE(re2Error("a(b"), "");
  EXPECT_NE(re2Error("(?<=x)y"), "");  // lookbehind is not RE2
}

TEST(Scan, StreamHoldsBackAMatchThatReachesPastSettled) {
  Pattern p;
  ASSERT_TRUE(presetPattern("email", &p));
  std::string text = "hello jane@example.com and more text";
  size_t settled = 12;  // inside the address
  const ScanResult r = scan(p, text, true, &settled, false);
  EXPECT_EQ(r.matches, 0u);
  EXPECT_EQ(settled, 6u);  // back to where the address starts
  EXPECT_EQ(text, "hello jane@example.com and more text");
}

TEST(Scan, StreamRedactsSettledMatchesAndMovesSettled) {
  Pattern p;
  ASSERT_TRUE(presetPattern("email", &p));
  std::string text = "a jo@x.io b and the rest";
  size_t settled = 15;
  scan(p, text, true, &settled, false);
  EXPECT_EQ(text, "a [REDACTED:email] b and the rest");
  EXPECT_EQ(text.substr(settled), text.substr(text.size() - (24 - 15)));
}

TEST(Scan, StreamDoesNotTrustAMatchAtTheOpenEnd) {
  Pattern p;
  std::string error;
  ASSERT_TRUE(phrasePattern({"bomb"}, true, &p, &error));
  std::string text = "a bomb";
  size_t settled = 0;
  EXPECT_EQ(scan(p, text, false, &settled, false).matches, 0u);  // "bombastic" may follow
  EXPECT_EQ(scan(p, text, false, &settled, true).matches, 1u);
}

}  // namespace
}  // namespace aigw::guardrails
