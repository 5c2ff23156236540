#include "providers/credential_slot.h"

namespace aigw {

int64_t pushedExpiry(const nlohmann::json& pushed) {
  auto it = pushed.find("expires_at");
  if (it == pushed.end() || it->is_null()) return 0;
  if (!it->is_number()) return -1;
  const double v = it->get<double>();
  return v > 0 ? static_cast<int64_t>(v) : -1;
}

bool pushedString(const nlohmann::json& pushed, const char* key, std::string* out) {
  auto it = pushed.find(key);
  if (it == pushed.end() || it->is_null()) {
    out->clear();
    return true;
  }
  if (!it->is_string()) return false;
  *out = it->get<std::string>();
  return true;
}

std::string unusableCredentials(std::string_view provider, bool present, int64_t expires_at, int64_t now) {
  if (!present) {
    return "provider '" + std::string(provider) + "' has no credentials yet (its credentials hook has not answered)";
  }
  if (expires_at != 0 && now >= expires_at) {
    return "the credentials of provider '" + std::string(provider) +
           "' expired and the credentials hook has not renewed them (see the gateway's log)";
  }
  return {};
}

}  // namespace aigw
