// The forms in which a configured secret (a provider key, a credential header's value) can
// appear in text the gateway writes or relays: as it is, and as JSON escapes it. The request
// log redacts them and the relay masks them; both take their list from here.
#pragma once

#include <cstddef>
#include <string_view>
#include <string>
#include <vector>

namespace aigw {

// Shorter strings would redact ordinary words; keys and tokens are never this short.
inline constexpr size_t kMinSecretBytes = 6;

// Appends `secret` and its JSON-escaped form to `out`, each once; nothing for short strings.
void addSecretForms(std::vector<std::string>& out, std::string_view secret);

}  // namespace aigw
