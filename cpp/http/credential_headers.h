// Which header fields carry credentials. One list for every place that must keep them in: the
// upstream request (client credentials never pass), what Python hooks are shown of a request,
// and the provider's configured headers the relay masks.
#pragma once

#include <string>
#include <string_view>

#include "http/headers.h"

namespace aigw::http {

// A client credential (authorization, api keys, cookies): never forwarded, never shown to hooks.
// `name` is lower-case.
bool isClientCredential(std::string_view name);
// A client credential, or a name that says it holds one (…key, …token, …secret, …auth,
// …password): the configured headers whose values the relay masks. `name` is lower-case.
bool looksLikeCredential(std::string_view name);
// Appends `headers` without client credentials as a JSON object ({"name":"value",...}): what
// Python hooks are shown of a request.
void appendHeadersJsonWithoutCredentials(std::string& out, const HeaderList& headers);

}  // namespace aigw::http
