#include "gateway/config.h"

#include <nlohmann/json.hpp>

#include "core/json_field.h"
#include "core/clock.h"
#include "core/json_text.h"
#include "guardrails/guardrail_set.h"
#include "providers/mock_provider.h"
#include "providers/openai_provider.h"

namespace aigw {
namespace {

}  // namespace

std::shared_ptr<const GatewayConfig> GatewayConfig::fromJson(std::string_view text, std::string* error) {
  auto cfg = std::shared_ptr<GatewayConfig>(new GatewayConfig());
  try {
    nlohmann::json doc = nlohmann::json::parse(text);
    const nlohmann::json server = doc.value("server", nlohmann::json::object());
    ServerSettings& s = cfg->server_;
    s.host = getOr<std::string>(server, "host", s.host);
    s.port = getOr<int>(server, "port", 0);
    s.workers = getOr<int>(server, "workers", 0);
    s.max_connections = getOr<int64_t>(server, "max_connections", s.max_connections);
    s.limits.parser.max_header_bytes = getOr<size_t>(server, "max_header_bytes", s.limits.parser.max_header_bytes);
    s.limits.parser.max_url_bytes = getOr<size_t>(server, "max_url_bytes", s.limits.parser.max_url_bytes);
    s.limits.parser.max_body_bytes = getOr<size_t>(server, "max_body_bytes", s.limits.parser.max_body_bytes);
    s.limits.parser.max_streamed_body_bytes =
        getOr<size_t>(server, "max_upload_bytes", s.limits.parser.max_streamed_body_bytes);
    s.limits.header_timeout_ms = getOr<uint64_t>(server, "header_timeout_ms", s.limits.header_timeout_ms);
    s.limits.body_timeout_ms = getOr<uint64_t>(server, "body_timeout_ms", s.limits.body_timeout_ms);
    s.limits.idle_timeout_ms = getOr<uint64_t>(server, "idle_timeout_ms", s.limits.idle_timeout_ms);
    s.drain_timeout_ms = getOr<uint64_t>(server, "drain_timeout_ms", s.drain_timeout_ms);
    s.log_level = getOr<std::string>(server, "log_level", s.log_level);
    s.mock_mode = getOr<std::string>(server, "mode", "gateway") == "mock";
    s.dns_ttl_ms = getOr<uint64_t>(server, "dns_ttl_ms", s.dns_ttl_ms);
    const std::string summary = getOr<std::string>(server, "routing_summary", "header");
    if (summary == "always") {
      s.routing_summary = ServerSettings::RoutingSummary::Always;
    } else if (summary == "never") {
      s.routing_summary = ServerSettings::RoutingSummary::Never;
    } else if (summary != "header") {
      throw std::runtime_error("server.routing_summary must be header, always or never");
    }
    if (auto tls = server.find("tls"); tls != server.end() && !tls->is_null()) {
      s.tls = net::tlsServerOptionsFromJson(*tls);
    }
    if (s.port < 0 || s.port > 65535) throw std::runtime_error("server.port out of range");
    if (s.workers < 0 || s.workers > 256) throw std::runtime_error("server.workers out of range");

    const nlohmann::json hooks = doc.value("hooks", nlohmann::json::object());
    cfg->hooks_.cost = getOr<bool>(hooks, "cost", false);
    cfg->hooks_.cost_timeout_ms = getOr<uint64_t>(hooks, "cost_timeout_ms", 0);
    cfg->log_ = log::LogSettings::fromJson(doc);

    std::unordered_map<std::string, const Provider*> by_name;  // RouteTable resolves names with it
    for (const auto& p : doc.value("providers", nlohmann::json::array())) {
      const std::string name = p.at("name").get<std::string>();
      const std::string kind = p.at("kind").get<std::string>();
      ProviderPtr provider;
      if (kind == "mock") {
        provider = std::make_unique<MockProvider>(name, MockKnobs::fromJson(p));
      } else if (kind == "openai") {
        OpenAiOptions o;
        std::string url_error;
        if (!upstream::parseBaseUrl(p.at("base_url").get<std::string>(), &o.origin, &url_error)) {
          throw std::runtime_error("provider '" + name + "': " + url_error);
        }
        o.api_key = getOr<std::string>(p, "api_key", "");
        if (auto h = p.find("headers"); h != p.end() && h->is_object()) {
          for (const auto& [k, v] : h->items()) {
            std::string key = k;
            http::toLowerAscii(key);
            o.headers.add(std::move(key), v.get<std::string>());
          }
        }
        o.verify = getOr<bool>(p, "verify", true);
        o.ca_file = getOr<std::string>(p, "ca_file", "");
        o.pool.connect_timeout_ms = getOr<uint64_t>(p, "connect_timeout_ms", o.pool.connect_timeout_ms);
        o.pool.keepalive_idle_ms = getOr<uint64_t>(p, "keepalive_idle_ms", o.pool.keepalive_idle_ms);
        o.pool.max_connections = getOr<size_t>(p, "max_connections", o.pool.max_connections);
        o.pool.max_pending = getOr<size_t>(p, "max_pending", o.pool.max_pending);
        o.timeouts.first_byte_ms = getOr<uint64_t>(p, "first_byte_timeout_ms", o.timeouts.first_byte_ms);
        o.timeouts.idle_ms = getOr<uint64_t>(p, "idle_timeout_ms", o.timeouts.idle_ms);
        std::string provider_error;
        provider = OpenAiProvider::create(name, std::move(o), &provider_error);
        if (!provider) throw std::runtime_error(provider_error);
      } else {
        throw std::runtime_error("provider '" + name + "': unsupported kind '" + kind + "'");
      }
      if (by_name.count(name)) throw std::runtime_error("duplicate provider '" + name + "'");
      by_name[name] = provider.get();
      cfg->providers_.push_back(std::move(provider));
    }

    const std::string default_provider = getOr<std::string>(doc, "default_provider", "");
    if (!default_provider.empty()) {
      auto it = by_name.find(default_provider);
      if (it == by_name.end()) throw std::runtime_error("default_provider: unknown provider '" + default_provider + "'");
      cfg->default_provider_ = it->second;
    } else {
      for (const auto& p : cfg->providers_) {
        if (std::string_view(p->kind()) == "openai") {
          cfg->default_provider_ = p.get();
          break;
        }
      }
      if (cfg->default_provider_ == nullptr && !cfg->providers_.empty()) cfg->default_provider_ = cfg->providers_[0].get();
    }

    nlohmann::json routes = doc.value("routes", nlohmann::json::array());
    // The version-1 "models" list maps names to one provider each: plain routes, with one
    // attempt and no circuit breaking (it predates both).
    for (const auto& m : doc.value("models", nlohmann::json::array())) {
      nlohmann::json target = {{"type", "target"}, {"provider", m.at("provider")}, {"model", m.value("model", nlohmann::json())},
                               {"breaker", {{"enabled", false}}}};
      routes.push_back({{"name", m.at("name")},
                        {"plan", {{"type", "group"}, {"strategy", "single"}, {"children", {std::move(target)}}}},
                        {"retry", {{"attempts", 1}}}});
    }
    cfg->routes_ = router::RouteTable::fromJson(routes, by_name);
    cfg->prices_ = cost::PriceTable::fromJson(doc.value("pricing", nlohmann::json()));
    auto guardrails = guardrails::GuardrailSet::fromJson(doc.value("guardrails", nlohmann::json()), *cfg->routes_, by_name);
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
