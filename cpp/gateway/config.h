// The gateway's compiled configuration: built once from the JSON document Python validated,
// immutable afterwards and shared by every worker (a reload will swap in a new one).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "http/server_connection.h"
#include "providers/provider.h"

namespace aigw {

struct ServerSettings {
  std::string host = "127.0.0.1";
  int port = 0;
  int workers = 0;  // 0: one per core
  int64_t max_connections = 10000;
  http::ServerLimits limits;
  uint64_t drain_timeout_ms = 10000;
  std::string log_level = "info";
  bool mock_mode = false;
  uint64_t dns_ttl_ms = 30000;
};

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

struct ModelEntry {
  std::string name;             // what clients ask for; "*" matches any name
  const Provider* provider;
  std::string upstream_model;   // empty: the requested name
};

class GatewayConfig {
 public:
  // Returns null and sets `error` when the document is not a valid core config.
  static std::shared_ptr<const GatewayConfig> fromJson(std::string_view json, std::string* error);

  const ServerSettings& server() const { return server_; }
  const std::vector<ProviderPtr>& providers() const { return providers_; }
  const std::vector<ModelEntry>& models() const { return models_; }
  // Serves passthrough requests that name no routable model.
  const Provider* defaultProvider() const { return default_provider_; }
  // The entry serving `model`: an exact name first, then the catch-all.
  const ModelEntry* resolve(std::string_view model) const;
  const ModelEntry* find(std::string_view model) const;
  // Precomputed body of GET /v1/models.
  const std::string& modelsListBody() const { return models_body_; }
  // Body of GET /v1/models/{id} for a listed model, or null.
  const std::string* modelBody(std::string_view id) const;

 private:
  ServerSettings server_;
  std::vector<ProviderPtr> providers_;
  std::vector<ModelEntry> models_;
  std::unordered_map<std::string, size_t, StringHash, std::equal_to<>> exact_;
  std::unordered_map<std::string, std::string, StringHash, std::equal_to<>> model_bodies_;
  const ModelEntry* wildcard_ = nullptr;
  const Provider* default_provider_ = nullptr;
  std::string models_body_;
};

}  // namespace aigw
