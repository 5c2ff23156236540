// RS256 signatures (RSASSA-PKCS1-v1_5 with SHA-256, RFC 7518) with a PEM private key: what signs
// the JWT a Google service account trades for an OAuth2 access token (kind vertex).
#pragma once

#include <string>
#include <string_view>

namespace aigw::upstream {

// The signature of `data` (raw bytes), or false with `error`. Neither the key nor anything read
// from it appears in `error`.
bool signRs256(std::string_view private_key_pem, std::string_view data, std::string* signature, std::string* error);

}  // namespace aigw::upstream
