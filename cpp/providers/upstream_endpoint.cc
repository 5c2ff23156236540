#include "providers/upstream_endpoint.h"

#include "http/response.h"
#include "net/tls_context.h"
#include "upstream/header_policy.h"
#include "upstream/pool_registry.h"

namespace aigw {

bool pathSafeModel(std::string_view model) {
  if (model.empty()) return false;
  size_t start = 0;
  while (start <= model.size()) {
    size_t end = model.find('/', start);
    if (end == std::string_view::npos) end = model.size();
    std::string_view seg = model.substr(start, end - start);
    // "%2e" / "%2E" are dots to servers that decode before resolving.
    std::string dots;
    for (size_t i = 0; i < seg.size(); ++i) {
      if (seg[i] == '%' && i + 2 < seg.size() && seg[i + 1] == '2' &&
          (seg[i + 2] == 'e' || seg[i + 2] == 'E')) {
        dots.push_back('.');
        i += 2;
      } else {
        dots.push_back(seg[i]);
      }
    }
    if (dots == "." || dots == "..") return false;
    start = end + 1;
  }
  return true;
}

std::unique_ptr<UpstreamEndpoint> UpstreamEndpoint::create(const std::string& provider, UpstreamOptions options,
                                                           std::string_view api_key, std::string* error) {
  std::shared_ptr<net::TlsClientContext> tls;
  if (options.origin.tls) {
    net::TlsClientOptions tls_options;
    tls_options.verify = options.verify;
    tls_options.ca_file = options.ca_file;
    tls = net::TlsClientContext::create(tls_options, error);
    if (!tls) {
      *error = "provider '" + provider + "': " + *error;
      return nullptr;
    }
  }
  return std::unique_ptr<UpstreamEndpoint>(new UpstreamEndpoint(std::move(options), std::move(tls), api_key));
}

upstream::UpstreamPool& UpstreamEndpoint::pool(CallContext& ctx, const Provider* owner) const {
  return ctx.pools->get(owner, options_.origin, tls_, options_.pool);
}

upstream::CallTimeouts UpstreamEndpoint::timeouts(const CallRequest& request) const {
  upstream::CallTimeouts t = options_.timeouts;
  if (request.connect_timeout_ms > 0) t.connect_ms = request.connect_timeout_ms;
  if (request.first_byte_timeout_ms > 0) t.first_byte_ms = request.first_byte_timeout_ms;
  if (request.idle_timeout_ms > 0) t.idle_ms = request.idle_timeout_ms;
  return t;
}

std::string UpstreamEndpoint::write(const UpstreamRequest& req) const {
  const upstream::Origin& o = options_.origin;
  http::HeaderList headers;
  headers.reserve((req.client != nullptr ? req.client->size() : 0) + options_.headers.size() + 6);
  if (req.client != nullptr) upstream::copyForwardableRequestHeaders(*req.client, &headers);
  upstream::applyConfiguredRequestHeaders(options_.headers, &headers);

  std::string out;
  out.reserve(256 + req.body.size() + headers.size() * 48);
  out.append(req.method);
  out.push_back(' ');
  out.append(o.base_path);
  out.append(req.path);
  out.append(" HTTP/1.1\r\n");
  http::appendHeader(out, "host", o.host_header);
  for (const auto& h : headers) http::appendHeader(out, h.name, h.value);
  if (req.auth != nullptr) {
    for (const auto& h : *req.auth) {
      if (headers.find(h.name) == nullptr) http::appendHeader(out, h.name, h.value);
    }
  }
  if (headers.find("content-type") == nullptr && !req.body.empty()) http::appendHeader(out, "content-type", "application/json");
  if (headers.find("user-agent") == nullptr) http::appendHeader(out, "user-agent", "aigw/" AIGW_VERSION);
  http::appendHeader(out, "accept-encoding", "identity");
  // An empty body is announced only where the method expects one (RFC 9110 8.6).
  const std::string_view m = req.method;
  if (req.body_streamed) {
    // The body follows as it arrives: keep the client's length, or chunk it ourselves.
    if (req.streamed_length != nullptr) {
      http::appendHeader(out, "content-length", *req.streamed_length);
    } else {
      http::appendHeader(out, "transfer-encoding", "chunked");
    }
  } else if (!req.body.empty() || m == "POST" || m == "PUT" || m == "PATCH") {
    http::appendHeader(out, "content-length", std::to_string(req.body.size()));
  }
  out.append("\r\n");
  out.append(req.body);
  return out;
}

std::string UpstreamEndpoint::startupWarning(const std::string& provider) const {
  if (!options_.origin.tls || options_.verify) return {};
  return "provider '" + provider + "' has TLS verification turned off (verify: false)";
}

void UpstreamEndpoint::describe(nlohmann::json& out) const {
  out["base_url"] = options_.origin.key() + options_.origin.base_path;
  out["tls_verify"] = !options_.origin.tls || options_.verify;
}

}  // namespace aigw
