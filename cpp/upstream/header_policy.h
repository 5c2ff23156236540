// Which headers cross the gateway, in each direction. The upstream request is rebuilt: client
// credentials, hop-by-hop headers (and those the Connection header names), framing and
// encoding negotiation never pass; the provider's own key and headers are added by the caller.
#pragma once

#include <string>
#include <string_view>

#include "http/headers.h"

namespace aigw::upstream {

// Copies the client headers that may reach a provider into `out`.
void copyForwardableRequestHeaders(const http::HeaderList& client, http::HeaderList* out);
// Sets the provider's configured headers over `out` (replacing client values), except those
// only the gateway writes: host, framing, hop-by-hop and accept-encoding.
void applyConfiguredRequestHeaders(const http::HeaderList& configured, http::HeaderList* out);
// Copies the upstream response headers that may reach the client into `out`.
void copyForwardableResponseHeaders(const http::HeaderList& upstream, http::HeaderList* out);

}  // namespace aigw::upstream
