#include "log/log_settings.h"

#include <nlohmann/json.hpp>

#include "core/json_field.h"
#include "core/secret_forms.h"

namespace aigw::log {

LogSettings LogSettings::fromJson(const nlohmann::json& doc) {
  LogSettings s;
  for (const auto& p : fieldValue(doc, "providers")) {
    if (field<std::string>(p, "kind") != "openai") continue;  // only upstreams have credentials
    addSecretForms(s.secrets, field<std::string>(p, "api_key"));
    for (const auto& [name, value] : fieldValue(p, "headers").items()) {
      addSecretForms(s.secrets, value.get<std::string>());
    }
  }
  const nlohmann::json& log = fieldValue(doc, "log");
  s.enabled = field<bool>(log, "enabled");
  s.dir = field<std::string>(log, "dir");
  s.run = field<std::string>(log, "run");
  s.rotate_bytes = field<uint64_t>(log, "rotate_bytes");
  s.max_pending_bytes = field<uint64_t>(log, "max_pending_bytes");
  const std::string overflow = field<std::string>(log, "overflow");
  if (overflow == "backpressure") {
    s.overflow = Overflow::Backpressure;
  } else if (overflow != "spill") {
    throw std::runtime_error("log.overflow must be spill or backpressure");
  }
  const std::string handoff = field<std::string>(log, "handoff");
  if (handoff != "journal" && handoff != "memory") throw std::runtime_error("log.handoff must be journal or memory");
  s.memory = handoff == "memory";
  s.bodies = field<bool>(log, "bodies");
  s.max_body_bytes = field<size_t>(log, "max_body_bytes");
  // The journal's place comes from the Gateway, not from the user: a wrong one is a bug that
  // must not write files elsewhere.
  if (s.enabled && s.dir.empty()) throw std::runtime_error("log.dir is required");
  if (s.enabled && (s.run.empty() || s.run.find('/') != std::string::npos)) {
    throw std::runtime_error("log.run must be a file name");
  }
  return s;
}

}  // namespace aigw::log
