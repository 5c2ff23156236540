#include "net/tls_server_options.h"

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "core/json_field.h"

namespace aigw::net {

TlsServerOptions tlsServerOptionsFromJson(const nlohmann::json& tls) {
  TlsServerOptions o;
  o.cert_file = tls.at("cert").get<std::string>();
  o.key_file = tls.at("key").get<std::string>();
  o.ca_file = getOr<std::string>(tls, "ca", "");
  const std::string auth = getOr<std::string>(tls, "client_auth", "none");
  if (auth == "optional") {
    o.client_auth = TlsClientAuth::Optional;
  } else if (auth == "require") {
    o.client_auth = TlsClientAuth::Require;
  } else if (auth != "none") {
    throw std::runtime_error("server.tls.client_auth must be none, optional or require");
  }
  if (o.client_auth != TlsClientAuth::None && o.ca_file.empty()) {
    throw std::runtime_error("server.tls.client_auth needs server.tls.ca");
  }
  const std::string version = getOr<std::string>(tls, "min_version", "1.2");
  if (version == "1.3") {
    o.min_version = TlsMinVersion::V1_3;
  } else if (version != "1.2") {
    throw std::runtime_error("server.tls.min_version must be 1.2 or 1.3");
  }
  o.ciphers = getOr<std::string>(tls, "ciphers", "");
  o.alpn = getOr<std::vector<std::string>>(tls, "alpn", o.alpn);
  o.reload_interval_ms = getOr<uint64_t>(tls, "reload_interval_ms", o.reload_interval_ms);
  return o;
}

}  // namespace aigw::net
