// Echoed client values: bounded, cut on a character boundary, and header-safe.
#include "core/echo.h"

#include <gtest/gtest.h>

namespace aigw {
namespace {

TEST(Echo, ShortValuesAreUnchanged) {
  EXPECT_EQ(echoed("gpt-4o"), "gpt-4o");
  EXPECT_EQ(echoed(std::string(kEchoMaxBytes, 'a')), std::string(kEchoMaxBytes, 'a'));
}

TEST(Echo, LongValuesAreCutWithTheirLength) {
  EXPECT_EQ(echoed(std::string(10, 'a'), 4), "aaaa\xE2\x80\xA6(+6 bytes)");
  EXPECT_EQ(echoed(std::string(8 << 20, 'm')).size(), kEchoMaxBytes + std::string("\xE2\x80\xA6(+8388352 bytes)").size());
}

TEST(Echo, CutNeverSplitsACharacter) {
  // "é" is two bytes; a cut at 3 would split the second one.
  EXPECT_EQ(echoed("a\xC3\xA9\xC3\xA9", 4), "a\xC3\xA9\xE2\x80\xA6(+2 bytes)");
  EXPECT_EQ(echoed("\xF0\x9F\x98\x80\xF0\x9F\x98\x80", 5), "\xF0\x9F\x98\x80\xE2\x80\xA6(+4 bytes)");
}

TEST(Echo, HeaderValuesLoseControlBytes) {
  EXPECT_EQ(echoedHeaderValue("a\r\nx-injected: 1"), "a??x-injected: 1");
  EXPECT_EQ(echoedHeaderValue(std::string("a\0b\x7f\tc", 6)), "a?b?\tc");
}

}  // namespace
}  // namespace aigw
