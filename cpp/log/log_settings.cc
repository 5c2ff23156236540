#include "log/log_settings.h"

#include <nlohmann/json.hpp>

#include "core/secret_forms.h"

namespace aigw::log {

LogSettings LogSettings::fromJson(const nlohmann::json& doc) {
  LogSettings s;
  for (const auto& p : doc.value("providers", nlohmann::json::array())) {
    if (auto k = p.find("api_key"); k != p.end() && k->is_string()) addSecretForms(s.secrets, k->get<std::string>());
    if (auto h = p.find("headers"); h != p.end() && h->is_object()) {
      for (const auto& [name, value] : h->items()) {
        if (value.is_string()) addSecretForms(s.secrets, value.get<std::string>());
      }
    }
  }
  for (const auto& extra : doc.value("secrets", nlohmann::json::array())) {
    if (extra.is_string()) addSecretForms(s.secrets, extra.get<std::string>());
  }
  auto it = doc.find("log");
  if (it == doc.end() || it->is_null()) return s;
  const nlohmann::json& log = *it;
  s.enabled = log.value("enabled", true);
  s.dir = log.value("dir", std::string());
  s.run = log.value("run", std::string("journal"));
  s.rotate_bytes = log.value("rotate_bytes", s.rotate_bytes);
  s.max_pending_bytes = log.value("max_pending_bytes", s.max_pending_bytes);
  const std::string overflow = log.value("overflow", std::string("spill"));
  if (overflow == "backpressure") {
    s.overflow = Overflow::Backpressure;
  } else if (overflow != "spill") {
    throw std::runtime_error("log.overflow must be spill or backpressure");
  }
  const std::string handoff = log.value("handoff", std::string("journal"));
  if (handoff != "journal" && handoff != "memory") throw std::runtime_error("log.handoff must be journal or memory");
  s.memory = handoff == "memory";
  s.bodies = log.value("bodies", false);
  s.max_body_bytes = log.value("max_body_bytes", s.max_body_bytes);
  if (s.enabled && s.dir.empty()) throw std::runtime_error("log.dir is required");
  if (s.run.empty() || s.run.find('/') != std::string::npos) throw std::runtime_error("log.run must be a file name");
  if (s.rotate_bytes < 4096) s.rotate_bytes = 4096;
  return s;
}

}  // namespace aigw::log
