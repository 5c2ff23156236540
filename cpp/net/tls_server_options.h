// What `server.tls` asks of the client-facing TLS: files, protocol floor, TLS 1.2 ciphers, ALPN,
// client certificates and how often the files are checked for a new certificate.
// Plain data without OpenSSL types, so the config headers that carry it stay light.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace aigw::net {

enum class TlsClientAuth { None, Optional, Require };
enum class TlsMinVersion { V1_2, V1_3 };

struct TlsServerOptions {
  std::string cert_file;  // PEM: the server certificate first, then intermediates
  std::string key_file;   // PEM private key, not passphrase-protected
  std::string ca_file;    // PEM: CAs that client certificates must chain to (client auth only)
  TlsClientAuth client_auth = TlsClientAuth::None;
  TlsMinVersion min_version = TlsMinVersion::V1_2;
  std::string ciphers;  // OpenSSL cipher list for TLS 1.2; empty: kDefaultTls12Ciphers
  // Offered in this order of preference. A client whose ALPN list shares none of them is refused
  // (no_application_protocol); empty: the ALPN extension is ignored.
  std::vector<std::string> alpn = {"http/1.1"};
  uint64_t reload_interval_ms = 5000;  // file check period; 0: reload only when asked
};

// Forward-secret AEAD suites only (Mozilla's "intermediate" list without DHE): TLS 1.3 suites
// are all AEAD already and keep OpenSSL's defaults.
inline constexpr std::string_view kDefaultTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// Reads the core document's `server.tls` object, every field present. Throws std::exception on
// a missing field or a malformed document; the files are not looked at here
// (TlsServerContext::create does).
TlsServerOptions tlsServerOptionsFromJson(const nlohmann::json& tls);

}  // namespace aigw::net
