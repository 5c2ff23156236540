// LogSettings::fromJson: the log section as Python emits it, and the providers' secrets.
#include "log/log_settings.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "config_fixture.h"
#include "required_fields.h"

namespace aigw::log {
namespace {

using nlohmann::json;

// The parts of the full document LogSettings reads: the log section, and the providers' kinds
// and, for upstreams, their credentials.
json logDocument() {
  const json full = testing::fixture("full");
  json providers = json::array();
  for (const json& p : full["providers"]) {
    json read = {{"kind", p["kind"]}};
    if (p["kind"] == "openai") read.update({{"api_key", p["api_key"]}, {"headers", p["headers"]}});
    providers.push_back(read);
  }
  return {{"providers", providers}, {"log", full["log"]}};
}

TEST(LogSettings, ReadsTheSectionAndTheProvidersSecrets) {
  json doc = logDocument();
  doc["log"].update({{"enabled", true}, {"dir", "/tmp/journal"}, {"run", "r1"}, {"handoff", "memory"}});
  const LogSettings s = LogSettings::fromJson(doc);
  EXPECT_TRUE(s.enabled);
  EXPECT_EQ(s.dir, "/tmp/journal");
  EXPECT_TRUE(s.memory);
  EXPECT_EQ(s.overflow, LogSettings::Overflow::Backpressure);
  EXPECT_EQ(s.rotate_bytes, 1u << 20);
  EXPECT_EQ(s.max_pending_bytes, 64u << 20);
  EXPECT_TRUE(s.bodies);
  EXPECT_EQ(s.max_body_bytes, 8192u);
  EXPECT_NE(std::find(s.secrets.begin(), s.secrets.end(), "sk-fixture-0123456789"), s.secrets.end());
}

TEST(LogSettings, EveryFieldIsRequired) {
  testing::expectEveryFieldRequiredBy(logDocument(), [](const json& doc) { LogSettings::fromJson(doc); });
}

}  // namespace
}  // namespace aigw::log
