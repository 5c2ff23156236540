// GatewayConfig::fromJson reads the documents Python emits, exactly: the embedded default's and
// one that sets every section (tests/cpp/fixtures/full.yaml) are taken as given, and the full
// one without any one of its fields is refused. Python is the one source of values and defaults.
#include "gateway/config.h"

#include <gtest/gtest.h>

#include "config_fixture.h"
#include "guardrails/guardrail_set.h"
#include "providers/openai_provider.h"
#include "required_fields.h"

namespace aigw {
namespace {

using nlohmann::json;

std::shared_ptr<const GatewayConfig> read(const json& doc, std::string* error) {
  return GatewayConfig::fromJson(doc.dump(), error);
}

TEST(GatewayConfig, ReadsTheEmbeddedDefaultDocument) {
  std::string error;
  auto cfg = read(testing::defaultCoreDocument(), &error);
  ASSERT_TRUE(cfg) << error;
  EXPECT_EQ(cfg->server().host, "127.0.0.1");
  EXPECT_EQ(cfg->server().limits.header_timeout_ms, 10000u);
  EXPECT_EQ(cfg->defaultProvider()->name(), "mock");
  ASSERT_EQ(cfg->routes().routes().size(), 3u);
  EXPECT_EQ(cfg->routes().routes()[0]->retry.attempts, 1);
  EXPECT_FALSE(cfg->routes().routes()[0]->targets[0]->state->breaker.settings().enabled);
  EXPECT_EQ(cfg->guardrails(), nullptr);
  EXPECT_FALSE(cfg->log().enabled);
}

TEST(GatewayConfig, ReadsEverySectionOfAFullDocument) {
  std::string error;
  auto cfg = read(testing::fixture("full"), &error);
  ASSERT_TRUE(cfg) << error;

  const ServerSettings& s = cfg->server();
  EXPECT_EQ(s.host, "0.0.0.0");
  EXPECT_EQ(s.port, 4000);
  EXPECT_EQ(s.workers, 2);
  EXPECT_EQ(s.max_connections, 500);
  EXPECT_EQ(s.limits.parser.max_header_bytes, 16384u);
  EXPECT_EQ(s.limits.parser.max_url_bytes, 4096u);
  EXPECT_EQ(s.limits.parser.max_body_bytes, 1048576u);
  EXPECT_EQ(s.limits.parser.max_streamed_body_bytes, 10485760u);
  EXPECT_EQ(s.limits.header_timeout_ms, 5000u);
  EXPECT_EQ(s.limits.body_timeout_ms, 15000u);
  EXPECT_EQ(s.limits.idle_timeout_ms, 30000u);
  EXPECT_EQ(s.drain_timeout_ms, 2000u);
  EXPECT_EQ(s.log_level, "debug");
  EXPECT_FALSE(s.mock_mode);
  EXPECT_EQ(s.dns_ttl_ms, 60000u);
  EXPECT_EQ(s.routing_summary, ServerSettings::RoutingSummary::Always);
  ASSERT_TRUE(s.tls.has_value());
  EXPECT_EQ(s.tls->cert_file, "/etc/aigw/fullchain.pem");
  EXPECT_EQ(s.tls->ca_file, "/etc/aigw/clients-ca.pem");
  EXPECT_EQ(s.tls->client_auth, net::TlsClientAuth::Optional);
  EXPECT_EQ(s.tls->ciphers, "ECDHE-RSA-AES128-GCM-SHA256");
  EXPECT_EQ(s.tls->alpn, (std::vector<std::string>{"http/1.1", "http/1.0"}));
  EXPECT_EQ(s.tls->reload_interval_ms, 10000u);

  ASSERT_EQ(cfg->providers().size(), 2u);
  EXPECT_EQ(cfg->defaultProvider(), cfg->providers()[0].get());  // default_provider: mock
  const auto& openai = static_cast<const OpenAiProvider&>(*cfg->providers()[1]);
  EXPECT_EQ(openai.options().api_key, "sk-fixture-0123456789");
  EXPECT_FALSE(openai.options().verify);
  EXPECT_EQ(openai.options().pool.keepalive_idle_ms, 20000u);
  EXPECT_EQ(openai.options().pool.max_pending, 64u);
  EXPECT_EQ(openai.options().timeouts.first_byte_ms, 60000u);

  const router::Route& r = *cfg->routes().byName("gpt-4o");
  EXPECT_EQ(r.aliases, std::vector<std::string>{"smart"});
  EXPECT_EQ(r.retry.attempts, 4);
  EXPECT_FALSE(r.retry.on_connect);
  EXPECT_TRUE(r.retry.on_timeout);
  EXPECT_EQ(r.retry.backoff_base_ms, 50u);
  EXPECT_EQ(r.retry.max_retry_after_ms, 30000u);
  EXPECT_TRUE(r.retry.client_retries);
  EXPECT_EQ(r.timeout_ms, 120000u);
  EXPECT_EQ(r.fallback_context_window, cfg->routes().byName("big"));
  EXPECT_EQ(r.fallback_unavailable, cfg->routes().byName("openai/*"));
  EXPECT_EQ(r.guardrails, (std::vector<std::string>{"ban", "pii"}));
  ASSERT_EQ(r.targets.size(), 3u);
  const router::Target& first = *r.targets[0];
  EXPECT_EQ(first.label, "openai/gpt-4o");
  EXPECT_EQ(first.transforms.size(), 3u);
  EXPECT_EQ(first.timeouts.idle_ms, 10000u);
  EXPECT_EQ(first.state->limit.maxInFlight(), 10);
  const router::BreakerSettings& b = first.state->breaker.settings();
  EXPECT_EQ(b.failure_rate, 0.5);         // the target's own
  EXPECT_EQ(b.consecutive_failures, 3u);  // the route's, for its targets
  EXPECT_EQ(r.targets[1]->state->limit.maxInFlight(), 50);
  EXPECT_EQ(r.plan.children[1].strategy, router::Strategy::Conditional);
  EXPECT_EQ(r.plan.children[1].children[0].when.size(), 3u);

  ASSERT_NE(cfg->prices().find("gpt-4o"), nullptr);
  EXPECT_EQ(cfg->prices().find("gpt-4o")->cached_input, 1.25);
  EXPECT_EQ(cfg->prices().find("acme/anvil")->cached_input, 1.0);  // Python's: the input price

  ASSERT_NE(cfg->guardrails(), nullptr);
  EXPECT_EQ(cfg->guardrails()->all().size(), 5u);
  const auto& ban = cfg->guardrails()->byName("ban")->settings();
  EXPECT_EQ(ban.priority, -1);
  EXPECT_TRUE(ban.is_default);
  EXPECT_EQ(ban.block.status, 403);
  EXPECT_EQ(ban.block.code, "banned");
  EXPECT_EQ(cfg->guardrails()->byName("pii")->lookback(), 128u);
  EXPECT_TRUE(cfg->guardrails()->byName("mod")->settings().fail_open);
  EXPECT_EQ(cfg->guardrails()->byName("py")->lookback(), 32u);

  EXPECT_FALSE(cfg->hooks().cost);   // the Gateway turns it on when it runs the hook
  EXPECT_FALSE(cfg->log().enabled);  // ... and the log once it opened the journal
  EXPECT_EQ(cfg->log().overflow, log::LogSettings::Overflow::Backpressure);
  EXPECT_TRUE(cfg->log().bodies);
  EXPECT_EQ(cfg->log().max_body_bytes, 8192u);
}

TEST(GatewayConfig, EveryFieldOfTheDocumentIsRequired) {
  testing::expectEveryFieldRequired(testing::fixture("full"), [](const json& doc) {
    std::string error;
    const bool ok = read(doc, &error) != nullptr;
    if (!ok) EXPECT_EQ(error.rfind("invalid core config: ", 0), 0u) << error;
    return ok;
  });
}

TEST(GatewayConfig, ADocumentOfAnotherVersionIsRefused) {
  json doc = testing::fixture("full");
  doc["version"] = 2;
  std::string error;
  EXPECT_FALSE(read(doc, &error));
  EXPECT_NE(error.find("version 2"), std::string::npos) << error;
}

}  // namespace
}  // namespace aigw
