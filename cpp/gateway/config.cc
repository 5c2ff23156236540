#include "gateway/config.h"

#include <nlohmann/json.hpp>

#include "core/json_field.h"
#include "core/clock.h"
#include "core/json_text.h"
#include "guardrails/guardrail_set.h"
#include "providers/anthropic_provider.h"
#include "providers/bedrock_provider.h"
#include "providers/gemini_provider.h"
#include "providers/mock_provider.h"
#include "providers/openai_provider.h"
#include "providers/vertex_provider.h"

namespace aigw {
namespace {

// The fields every HTTP upstream kind has.
void readUpstream(const std::string& name, const nlohmann::json& p, UpstreamOptions& o) {
  std::string url_error;
  if (!upstream::parseBaseUrl(field<std::string>(p, "base_url"), &o.origin, &url_error)) {
    throw std::runtime_error("provider '" + name + "': " + url_error);
  }
  for (const auto& [k, v] : fieldValue(p, "headers").items()) {
    std::string key = k;
    http::toLowerAscii(key);
    o.headers.add(std::move(key), v.get<std::string>());
  }
  o.verify = field<bool>(p, "verify");
  o.ca_file = fieldOrNone<std::string>(p, "ca_file", "");
  o.pool.connect_timeout_ms = field<uint64_t>(p, "connect_timeout_ms");
  o.pool.keepalive_idle_ms = field<uint64_t>(p, "keepalive_idle_ms");
  o.pool.max_connections = field<size_t>(p, "max_connections");
  o.pool.max_pending = field<size_t>(p, "max_pending");
  o.timeouts.first_byte_ms = field<uint64_t>(p, "first_byte_timeout_ms");
  o.timeouts.idle_ms = field<uint64_t>(p, "idle_timeout_ms");
}

template <typename P>
ProviderPtr created(std::unique_ptr<P> provider, const std::string& error) {
  if (!provider) throw std::runtime_error(error);
  return provider;
}

ProviderPtr openAiProvider(const std::string& name, const nlohmann::json& p, bool azure) {
  OpenAiOptions o;
  readUpstream(name, p, o);
  o.api_key = field<std::string>(p, "api_key");
  if (azure) {
    o.api_version = field<std::string>(p, "api_version");
    o.azure_bearer = field<std::string>(p, "auth") == "bearer";
  }
  std::string error;
  return created(OpenAiProvider::create(name, std::move(o), &error), error);
}

ProviderPtr geminiProvider(const std::string& name, const nlohmann::json& p) {
  GeminiOptions o;
  readUpstream(name, p, o);
  o.api_key = field<std::string>(p, "api_key");
  std::string error;
  return created(GeminiProvider::create(name, std::move(o), &error), error);
}

ProviderPtr bedrockProvider(const std::string& name, const nlohmann::json& p) {
  BedrockOptions o;
  readUpstream(name, p, o);
  o.region = field<std::string>(p, "region");
  o.credentials.access_key_id = field<std::string>(p, "aws_access_key_id");
  o.credentials.secret_access_key = field<std::string>(p, "aws_secret_access_key");
  o.credentials.session_token = field<std::string>(p, "aws_session_token");
  o.credentials_hook = field<bool>(p, "credentials_hook");
  std::string error;
  return created(BedrockProvider::create(name, std::move(o), &error), error);
}

ProviderPtr anthropicProvider(const std::string& name, const nlohmann::json& p) {
  AnthropicOptions o;
  readUpstream(name, p, o);
  o.api_key = field<std::string>(p, "api_key");
  o.version = field<std::string>(p, "anthropic_version");
  o.default_max_tokens = field<int64_t>(p, "default_max_tokens");
  std::string error;
  return created(AnthropicProvider::create(name, std::move(o), &error), error);
}

ProviderPtr vertexProvider(const std::string& name, const nlohmann::json& p) {
  VertexOptions o;
  readUpstream(name, p, o);
  o.project = field<std::string>(p, "project");
  o.region = field<std::string>(p, "region");
  o.anthropic_models = field<std::vector<std::string>>(p, "anthropic_models");
  o.anthropic_version = field<std::string>(p, "anthropic_version");
  o.default_max_tokens = field<int64_t>(p, "default_max_tokens");
  std::string error;
  return created(VertexProvider::create(name, std::move(o), &error), error);
}

}  // namespace

std::shared_ptr<const GatewayConfig> GatewayConfig::fromJson(std::string_view text, std::string* error) {
  auto cfg = std::shared_ptr<GatewayConfig>(new GatewayConfig());
  try {
    nlohmann::json doc = nlohmann::json::parse(text);
    const int version = field<int>(doc, "version");
    if (version != kCoreConfigVersion) {
      throw std::runtime_error("version " + std::to_string(version) + ", this core reads version " +
                               std::to_string(kCoreConfigVersion));
    }
    const nlohmann::json& server = fieldValue(doc, "server");
    ServerSettings& s = cfg->server_;
    s.host = field<std::string>(server, "host");
    s.port = field<int>(server, "port");
    s.workers = field<int>(server, "workers");
    s.max_connections = field<int64_t>(server, "max_connections");
    s.limits.parser.max_header_bytes = field<size_t>(server, "max_header_bytes");
    s.limits.parser.max_url_bytes = field<size_t>(server, "max_url_bytes");
    s.limits.parser.max_body_bytes = field<size_t>(server, "max_body_bytes");
    s.limits.parser.max_streamed_body_bytes = field<size_t>(server, "max_upload_bytes");
    s.limits.header_timeout_ms = field<uint64_t>(server, "header_timeout_ms");
    s.limits.body_timeout_ms = field<uint64_t>(server, "body_timeout_ms");
    s.limits.idle_timeout_ms = field<uint64_t>(server, "idle_timeout_ms");
    s.drain_timeout_ms = field<uint64_t>(server, "drain_timeout_ms");
    s.log_level = field<std::string>(server, "log_level");
    const std::string mode = field<std::string>(server, "mode");
    if (mode != "gateway" && mode != "mock") throw std::runtime_error("server.mode must be gateway or mock");
    s.mock_mode = mode == "mock";
    s.dns_ttl_ms = field<uint64_t>(server, "dns_ttl_ms");
    const std::string summary = field<std::string>(server, "routing_summary");
    if (summary == "always") {
      s.routing_summary = ServerSettings::RoutingSummary::Always;
    } else if (summary == "never") {
      s.routing_summary = ServerSettings::RoutingSummary::Never;
    } else if (summary != "header") {
      throw std::runtime_error("server.routing_summary must be header, always or never");
    }
    if (const nlohmann::json& tls = fieldValue(server, "tls"); !tls.is_null()) {
      s.tls = net::tlsServerOptionsFromJson(tls);  // null: plain HTTP
    }

    const nlohmann::json& hooks = fieldValue(doc, "hooks");
    cfg->hooks_.cost = field<bool>(hooks, "cost");
    cfg->hooks_.cost_timeout_ms = field<uint64_t>(hooks, "cost_timeout_ms");
    cfg->log_ = log::LogSettings::fromJson(doc);

    std::unordered_map<std::string, const Provider*> by_name;  // RouteTable resolves names with it
    for (const auto& p : fieldValue(doc, "providers")) {
      const std::string name = field<std::string>(p, "name");
      const std::string kind = field<std::string>(p, "kind");
      ProviderPtr provider;
      if (kind == "mock") {
        provider = std::make_unique<MockProvider>(name, MockKnobs::fromJson(p));
      } else if (kind == "openai" || kind == "azure") {
        provider = openAiProvider(name, p, kind == "azure");
      } else if (kind == "anthropic") {
        provider = anthropicProvider(name, p);
      } else if (kind == "gemini") {
        provider = geminiProvider(name, p);
      } else if (kind == "bedrock") {
        provider = bedrockProvider(name, p);
      } else if (kind == "vertex") {
        provider = vertexProvider(name, p);
      } else {
        throw std::runtime_error("provider '" + name + "': unsupported kind '" + kind + "'");
      }
      by_name[name] = provider.get();
      cfg->providers_.push_back(std::move(provider));
    }

    const std::string default_provider = field<std::string>(doc, "default_provider");
    auto it = by_name.find(default_provider);
    if (it == by_name.end()) throw std::runtime_error("default_provider: unknown provider '" + default_provider + "'");
    cfg->default_provider_ = it->second;

    cfg->routes_ = router::RouteTable::fromJson(fieldValue(doc, "routes"), by_name);
    cfg->prices_ = cost::PriceTable::fromJson(fieldValue(doc, "pricing"));
    auto guardrails = guardrails::GuardrailSet::fromJson(fieldValue(doc, "guardrails"), *cfg->routes_, by_name);
    if (!guardrails->all().empty()) cfg->guardrails_ = std::move(guardrails);

    const uint64_t created = wallSeconds();
    std::string list = "{\"object\":\"list\",\"data\":[";
    const auto& names = cfg->routes_->listedNames();
    for (size_t i = 0; i < names.size(); ++i) {
      const router::Route* route = cfg->routes_->listedRoute(i);
      std::string obj = "{\"id\":";
      appendJsonString(obj, names[i]);
      obj += ",\"object\":\"model\",\"created\":";
      appendJsonNumber(obj, static_cast<int64_t>(created));
      obj += ",\"owned_by\":";
      appendJsonString(obj, route->targets.empty() ? std::string("aigw") : route->targets.front()->provider->name());
      obj += "}";
      if (i > 0) list += ",";
      list += obj;
      cfg->model_bodies_[names[i]] = std::move(obj);
    }
    list += "]}";
    cfg->models_body_ = std::move(list);
  } catch (const std::exception& ex) {
    *error = std::string("invalid core config: ") + ex.what();
    return nullptr;
  }
  return cfg;
}

GatewayConfig::~GatewayConfig() = default;

const std::string* GatewayConfig::modelBody(std::string_view id) const {
  auto it = model_bodies_.find(std::string(id));
  return it == model_bodies_.end() ? nullptr : &it->second;
}

}  // namespace aigw
