// The gateway's compiled configuration: built once from the JSON document Python validated,
// immutable afterwards and shared by every worker (a reload will swap in a new one).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cost/price_table.h"
#include "http/server_connection.h"
#include "log/log_settings.h"
#include "net/tls_server_options.h"
#include "providers/provider.h"
#include "router/route_table.h"

namespace aigw {

namespace guardrails {
class GuardrailSet;
}

// The core config's fields, all read from the document (GatewayConfig::fromJson): the values
// and their defaults are Python's (python/aigw/config.py), so the members start out empty.
struct ServerSettings {
  std::string host;
  int port = 0;
  int workers = 0;  // 0: one per core
  int64_t max_connections = 0;
  http::ServerLimits limits;
  uint64_t drain_timeout_ms = 0;
  std::string log_level;
  bool mock_mode = false;
  uint64_t dns_ttl_ms = 0;
  // Who gets the routing summary body field: clients asking with x-aigw-routing-summary
  // (Header), everyone (Always) or nobody (Never).
  enum class RoutingSummary { Header, Always, Never } routing_summary = RoutingSummary::Header;
  // HTTPS for clients (`server.tls`); absent: plain HTTP.
  std::optional<net::TlsServerOptions> tls;
};

// Which Python hooks outside the guardrail set the gateway calls (Python guardrails are
// guardrails of the set, see guardrails/python_guardrail.h).
struct HookSettings {
  // A Python cost hook prices every answer with usage (docs/cost.md, "Custom cost").
  bool cost = false;
  uint64_t cost_timeout_ms = 0;  // backstop: no result by then keeps the table's cost
};

// The core document's format (python/aigw/config.py, CORE_CONFIG_VERSION); any other is refused.
inline constexpr int kCoreConfigVersion = 3;

class GatewayConfig {
 public:
  // Returns null and sets `error` ("invalid core config: ...") when the document is not a
  // core config of kCoreConfigVersion: a missing field or an unknown name is an error, values
  // are taken as given (Python validated them).
  static std::shared_ptr<const GatewayConfig> fromJson(std::string_view json, std::string* error);

  const ServerSettings& server() const { return server_; }
  const log::LogSettings& log() const { return log_; }
  const std::vector<ProviderPtr>& providers() const { return providers_; }
  const router::RouteTable& routes() const { return *routes_; }
  // Serves passthrough requests that name no routable model.
  const Provider* defaultProvider() const { return default_provider_; }
  // The route serving `model` (see RouteTable::resolve), or null.
  const router::Route* resolve(std::string_view model, std::string_view* captured) const {
    return routes_->resolve(model, captured);
  }
  // Every configured guardrail and what each route selects; null when none is configured.
  const guardrails::GuardrailSet* guardrails() const { return guardrails_.get(); }
  ~GatewayConfig();
  // Precomputed body of GET /v1/models.
  const std::string& modelsListBody() const { return models_body_; }
  // Body of GET /v1/models/{id} for a listed model, or null.
  const std::string* modelBody(std::string_view id) const;
  // Model prices (the shipped table merged with the config's `pricing:`).
  const cost::PriceTable& prices() const { return prices_; }
  const HookSettings& hooks() const { return hooks_; }

 private:
  ServerSettings server_;
  log::LogSettings log_;
  std::vector<ProviderPtr> providers_;
  std::unique_ptr<router::RouteTable> routes_;
  std::unique_ptr<guardrails::GuardrailSet> guardrails_;
  std::unordered_map<std::string, std::string> model_bodies_;
  const Provider* default_provider_ = nullptr;
  std::string models_body_;
  cost::PriceTable prices_;
  HookSettings hooks_;
};

}  // namespace aigw
