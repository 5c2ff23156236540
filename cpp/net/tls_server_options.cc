#include "net/tls_server_options.h"

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "core/json_field.h"

namespace aigw::net {

TlsServerOptions tlsServerOptionsFromJson(const nlohmann::json& tls) {
  TlsServerOptions o;
  o.cert_file = field<std::string>(tls, "cert");
  o.key_file = field<std::string>(tls, "key");
  o.ca_file = fieldOrNone<std::string>(tls, "ca", "");
  const std::string auth = field<std::string>(tls, "client_auth");
  if (auth == "optional") {
    o.client_auth = TlsClientAuth::Optional;
  } else if (auth == "require") {
    o.client_auth = TlsClientAuth::Require;
  } else if (auth == "none") {
    o.client_auth = TlsClientAuth::None;
  } else {
    throw std::runtime_error("server.tls.client_auth must be none, optional or require");
  }
  const std::string version = field<std::string>(tls, "min_version");
  if (version == "1.3") {
    o.min_version = TlsMinVersion::V1_3;
  } else if (version == "1.2") {
    o.min_version = TlsMinVersion::V1_2;
  } else {
    throw std::runtime_error("server.tls.min_version must be 1.2 or 1.3");
  }
  o.ciphers = fieldOrNone<std::string>(tls, "ciphers", "");
  o.alpn = field<std::vector<std::string>>(tls, "alpn");
  o.reload_interval_ms = field<uint64_t>(tls, "reload_interval_ms");
  return o;
}

}  // namespace aigw::net
