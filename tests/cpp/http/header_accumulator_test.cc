// HeaderAccumulator: header fields put together from pieces cut anywhere, as both parsers see
// them when a read ends inside a name or a value.
#include "http/header_accumulator.h"

#include <gtest/gtest.h>

#include <string_view>

namespace aigw::http {
namespace {

void addName(HeaderAccumulator& acc, std::string_view s) { ASSERT_TRUE(acc.addNamePiece(s.data(), s.size())); }
void addValue(HeaderAccumulator& acc, std::string_view s) { ASSERT_TRUE(acc.addValuePiece(s.data(), s.size())); }

TEST(HeaderAccumulator, JoinsPiecesLowerCasesTheNameAndTrimsTheValueEnd) {
  HeaderAccumulator acc;
  HeaderList out;
  addName(acc, "Content-");
  addName(acc, "Type");
  addValue(acc, "application/");
  addValue(acc, "json \t");
  EXPECT_EQ(acc.name(), "Content-Type");
  EXPECT_EQ(acc.value(), "application/json \t");
  acc.finishField(out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out.begin()->name, "content-type");
  EXPECT_EQ(out.begin()->value, "application/json");
  EXPECT_EQ(acc.name(), "");
  EXPECT_EQ(acc.value(), "");
}

TEST(HeaderAccumulator, KeepsSpacesInsideAValueAndAnEmptyValue) {
  HeaderAccumulator acc;
  HeaderList out;
  addName(acc, "X-A");
  addValue(acc, "a  b");
  acc.finishField(out);
  addName(acc, "X-B");
  acc.finishField(out);
  EXPECT_EQ(*out.find("x-a"), "a  b");
  EXPECT_EQ(*out.find("x-b"), "");
}

TEST(HeaderAccumulator, DroppedFieldLeavesNothing) {
  HeaderAccumulator acc;
  HeaderList out;
  addName(acc, "Trailer-Field");
  addValue(acc, "x");
  acc.dropField();
  addName(acc, "Kept");
  addValue(acc, "y");
  acc.finishField(out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(*out.find("kept"), "y");
}

TEST(HeaderAccumulator, ByteLimitCountsNamesAndValuesOfOneSection) {
  HeaderAccumulator acc(8);
  HeaderList out;
  addName(acc, "abc");
  addValue(acc, "defgh");  // 8 bytes: at the limit
  acc.finishField(out);
  EXPECT_FALSE(acc.addNamePiece("x", 1));
  EXPECT_EQ(acc.name(), "") << "a piece past the limit is not kept";
  acc.startSection();
  addName(acc, "12345678");
  EXPECT_FALSE(acc.addValuePiece("9", 1));
}

TEST(HeaderAccumulator, StartSectionForgetsAHalfCollectedField) {
  HeaderAccumulator acc;
  HeaderList out;
  addName(acc, "half");
  acc.startSection();
  addName(acc, "whole");
  addValue(acc, "1");
  acc.finishField(out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(*out.find("whole"), "1");
}

}  // namespace
}  // namespace aigw::http
