// globMatch: '*' matches any run (also none), everything else literally and case-sensitively;
// the captured part is reported only for one-'*' patterns.
#include "core/glob.h"

#include <gtest/gtest.h>

namespace aigw {
namespace {

TEST(Glob, LiteralPatternsMatchExactly) {
  EXPECT_TRUE(globMatch("gpt-4o", "gpt-4o"));
  EXPECT_FALSE(globMatch("gpt-4o", "gpt-4o-mini"));
  EXPECT_FALSE(globMatch("gpt-4o", "GPT-4o"));
  EXPECT_TRUE(globMatch("", ""));
  EXPECT_FALSE(globMatch("", "x"));
}

TEST(Glob, OneStarCapturesTheMiddle) {
  std::string_view captured;
  EXPECT_TRUE(globMatch("openai/*", "openai/gpt-4o", &captured));
  EXPECT_EQ(captured, "gpt-4o");
  EXPECT_TRUE(globMatch("*", "anything", &captured));
  EXPECT_EQ(captured, "anything");
  EXPECT_TRUE(globMatch("claude-*-latest", "claude-3-5-sonnet-latest", &captured));
  EXPECT_EQ(captured, "3-5-sonnet");
  EXPECT_TRUE(globMatch("openai/*", "openai/", &captured));
  EXPECT_EQ(captured, "");
  EXPECT_FALSE(globMatch("openai/*", "azure/gpt-4o"));
  EXPECT_FALSE(globMatch("Openai/*", "openai/gpt-4o"));
  // Prefix and suffix may not share characters.
  EXPECT_FALSE(globMatch("ab*ba", "aba"));
  EXPECT_TRUE(globMatch("ab*ba", "abba", &captured));
  EXPECT_EQ(captured, "");
}

TEST(Glob, SeveralStarsMatchButCaptureNothing) {
  std::string_view captured = "untouched";
  EXPECT_TRUE(globMatch("*gpt*", "openai/gpt-4o", &captured));
  EXPECT_EQ(captured, "untouched");
  EXPECT_TRUE(globMatch("a*b*c", "abc"));
  EXPECT_TRUE(globMatch("a*b*c", "axxbyybzc"));
  EXPECT_FALSE(globMatch("a*b*c", "axxyyc"));
  EXPECT_FALSE(globMatch("a*b*c", "axxbyycd"));
  EXPECT_TRUE(globMatch("**", ""));
  EXPECT_TRUE(globMatch("*a*", "banana"));
  EXPECT_FALSE(globMatch("*x*", "banana"));
  EXPECT_TRUE(globMatch("*na*na", "banana"));
}

}  // namespace
}  // namespace aigw
