// MockKnobs::fromJson: a mock provider's knobs as Python emits them.
#include "providers/mock_knobs.h"

#include <gtest/gtest.h>

#include "config_fixture.h"
#include "required_fields.h"

namespace aigw {
namespace {

using nlohmann::json;

TEST(MockKnobs, ReadsEveryKnob) {
  const MockKnobs k = MockKnobs::fromJson(testing::fixture("full")["providers"][0]);
  EXPECT_EQ(k.latency_ms, 5);
  EXPECT_EQ(k.ttft_ms, 1);
  EXPECT_EQ(k.chunk_delay_ms, 2);
  EXPECT_EQ(k.chunks, 4);
  EXPECT_EQ(k.status, 429);
  EXPECT_EQ(k.error_rate, 0.1);
  EXPECT_EQ(k.retry_after, 3);
  EXPECT_EQ(k.stall_after, 2);
  EXPECT_EQ(k.reset_after, 7);
  EXPECT_EQ(k.response, "fixed text");
  EXPECT_EQ(k.error_code, "quota_exceeded");
  EXPECT_EQ(k.embedding_dimensions, 16);
  EXPECT_FALSE(k.header_knobs);
}

TEST(MockKnobs, NullsAreNotSet) {
  const MockKnobs k = MockKnobs::fromJson(testing::fixture("mock")["providers"][0]);
  EXPECT_FALSE(k.response.has_value());
  EXPECT_TRUE(k.error_code.empty());
  EXPECT_EQ(k.retry_after, -1);
}

TEST(MockKnobs, EveryKnobIsRequired) {
  json knobs = testing::fixture("full")["providers"][0];
  knobs.erase("name");  // the provider's, read by GatewayConfig
  knobs.erase("kind");
  testing::expectEveryFieldRequiredBy(knobs, [](const json& doc) { MockKnobs::fromJson(doc); });
}

}  // namespace
}  // namespace aigw
