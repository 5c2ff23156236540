// What every provider that calls an HTTP upstream shares: where it is (origin and base path),
// how to reach it (TLS, pool, timeouts), the headers config adds, and the credentials masked in
// everything relayed back. Each kind adds its own paths, auth headers and translation.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <string_view>

#include "http/headers.h"
#include "providers/provider.h"
#include "upstream/credential_scrubber.h"
#include "upstream/origin.h"
#include "upstream/upstream_call.h"
#include "upstream/upstream_pool.h"

namespace aigw::net {
class TlsClientContext;
}

namespace aigw {

struct UpstreamOptions {
  upstream::Origin origin;
  http::HeaderList headers;  // extra headers from config, added after the client's
  bool verify = true;
  std::string ca_file;
  upstream::PoolOptions pool;
  upstream::CallTimeouts timeouts;
};

// One upstream request's head and body, written by writeUpstreamRequest.
struct UpstreamRequest {
  std::string_view method = "POST";
  std::string_view path;                  // after the origin's base path (with any query)
  const http::HeaderList* client = nullptr;  // the client's headers, forwarded by policy; may be null
  const http::HeaderList* auth = nullptr;    // the provider's credentials, unless config set them
  std::string_view body;
  // The body follows the head as it arrives (Passthrough uploads): announced with the client's
  // length (`streamed_length`) or chunked.
  bool body_streamed = false;
  const std::string* streamed_length = nullptr;
};

// Whether a model name may go into an upstream URL's path (Azure deployments, Gemini and
// Bedrock models): not empty, and no '/'-separated segment is "." or ".." (encoded or not), which
// an upstream or a proxy before it could resolve into another path. The client names the model,
// so this is the rule that keeps the client from choosing the upstream URL.
bool pathSafeModel(std::string_view model);

class UpstreamEndpoint {
 public:
  // Null (with `error`) when the TLS context cannot be made. `api_key` and the configured
  // credential headers are what the scrubber masks.
  static std::unique_ptr<UpstreamEndpoint> create(const std::string& provider, UpstreamOptions options,
                                                  std::string_view api_key, std::string* error);

  const UpstreamOptions& options() const { return options_; }
  const upstream::CredentialScrubber& scrubber() const { return scrubber_; }
  upstream::UpstreamPool& pool(CallContext& ctx, const Provider* owner) const;
  // The provider's timeouts with the route's per-attempt ones over them.
  upstream::CallTimeouts timeouts(const CallRequest& request) const;
  // The request bytes: request line, host, forwarded client headers, configured headers, auth
  // headers (where config did not set them), content type, user agent, framing, body.
  std::string write(const UpstreamRequest& request) const;
  void describe(nlohmann::json& out) const;
  std::string startupWarning(const std::string& provider) const;

 private:
  UpstreamEndpoint(UpstreamOptions options, std::shared_ptr<net::TlsClientContext> tls, std::string_view api_key)
      : options_(std::move(options)), tls_(std::move(tls)), scrubber_(api_key, options_.headers) {}

  UpstreamOptions options_;
  std::shared_ptr<net::TlsClientContext> tls_;
  upstream::CredentialScrubber scrubber_;
};

}  // namespace aigw
