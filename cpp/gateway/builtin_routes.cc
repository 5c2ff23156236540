#include "gateway/builtin_routes.h"

#include "gateway/config.h"
#include "gateway/exchange.h"
#include "gateway/worker.h"

namespace aigw {
namespace {

bool isRead(const http::Request& r) { return r.method == "GET" || r.method == "HEAD"; }

FilterStatus methodNotAllowed(Exchange& ex) {
  http::HeaderList allow;
  allow.add("allow", "GET, HEAD");
  ex.sendError(405, "Invalid method for URL (" + ex.request().method + " " + std::string(ex.request().path()) + ")",
               "invalid_request_error", "method_not_allowed", {}, &allow);
  return FilterStatus::StopIteration;
}

}  // namespace

FilterStatus BuiltinRoutesFilter::onRequest(Exchange& ex) const {
  const std::string_view path = ex.request().path();
  if (path == "/health" || path == "/healthz") {
    if (!isRead(ex.request())) return methodNotAllowed(ex);
    const bool draining = ex.worker().draining();
    ex.sendJson(draining ? 503 : 200, ex.worker().healthBody());
    return FilterStatus::StopIteration;
  }
  constexpr std::string_view kModels = "/v1/models";
  if (path.substr(0, kModels.size()) != kModels) return FilterStatus::Continue;
  if (path.size() == kModels.size() || path == "/v1/models/") {
    if (!isRead(ex.request())) return methodNotAllowed(ex);
    ex.sendJson(200, ex.config().modelsListBody());
    return FilterStatus::StopIteration;
  }
  if (path[kModels.size()] != '/') return FilterStatus::Continue;
  if (!isRead(ex.request())) return methodNotAllowed(ex);
  const std::string_view id = path.substr(kModels.size() + 1);
  if (const std::string* body = ex.config().modelBody(id)) {
    ex.sendJson(200, *body);
  } else {
    ex.sendError(404, "The model '" + std::string(id) + "' does not exist", "invalid_request_error",
                 "model_not_found", "model");
  }
  return FilterStatus::StopIteration;
}

}  // namespace aigw
