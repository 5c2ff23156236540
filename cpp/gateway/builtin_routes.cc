#include "gateway/builtin_routes.h"

#include "gateway/config.h"
#include "gateway/worker.h"

namespace aigw {
namespace {

bool isRead(const http::Request& r) { return r.method == "GET" || r.method == "HEAD"; }

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

FilterStatus methodNotAllowed(RequestContext& ex) {
  http::HeaderList allow;
  allow.add("allow", "GET, HEAD");
  ex.sendError(405, "Invalid method for URL (" + ex.request().method + " " + std::string(ex.request().path()) + ")",
               "invalid_request_error", "method_not_allowed", {}, &allow);
  return FilterStatus::StopIteration;
}

// GET /v1/usage[?day=YYYY-MM-DD&provider=P&model=M]: the usage book's totals.
FilterStatus usage(RequestContext& ex, Worker& worker) {
  std::string day, provider, model;
  std::string_view query = ex.request().query();
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const size_t eq = pair.find('=');
    const std::string_view key = pair.substr(0, eq);
    const std::string_view raw = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    std::string* field = key == "day" ? &day : key == "provider" ? &provider : key == "model" ? &model : nullptr;
    if (field == nullptr) {
      ex.sendError(400, "Unknown query parameter '" + std::string(key) + "' (day, provider, model)",
                   "invalid_request_error", "invalid_query", std::string(key));
      return FilterStatus::StopIteration;
    }
    if (!percentDecode(raw, field)) field->assign(raw);
  }
  ex.sendJson(200, worker.shared().usage.json({day, provider, model}));
  return FilterStatus::StopIteration;
}

}  // namespace

bool percentDecode(std::string_view in, std::string* out) {
  out->clear();
  out->reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out->push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return false;
    const int hi = hexValue(in[i + 1]);
    const int lo = hexValue(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

FilterStatus BuiltinRoutesFilter::onRequest(RequestContext& ex) const {
  const std::string_view path = ex.request().path();
  if (path == "/health" || path == "/healthz") {
    if (!isRead(ex.request())) return methodNotAllowed(ex);
    const bool draining = worker_.draining();
    ex.sendJson(draining ? 503 : 200, worker_.healthBody());
    return FilterStatus::StopIteration;
  }
  if (path == "/v1/usage") {
    if (!isRead(ex.request())) return methodNotAllowed(ex);
    return usage(ex, worker_);
  }
  constexpr std::string_view kModels = "/v1/models";
  if (path.substr(0, kModels.size()) != kModels) return FilterStatus::Continue;
  if (path.size() == kModels.size() || path == "/v1/models/") {
    if (!isRead(ex.request())) return methodNotAllowed(ex);
    ex.sendJson(200, worker_.config().modelsListBody());
    return FilterStatus::StopIteration;
  }
  if (path[kModels.size()] != '/') return FilterStatus::Continue;
  if (!isRead(ex.request())) return methodNotAllowed(ex);
  const std::string_view raw_id = path.substr(kModels.size() + 1);
  std::string id;
  if (!percentDecode(raw_id, &id)) id.assign(raw_id);
  if (const std::string* body = worker_.config().modelBody(id)) {
    ex.sendJson(200, *body);
  } else {
    ex.sendError(404, "The model '" + id + "' does not exist", "invalid_request_error", "model_not_found",
                 "model");
  }
  return FilterStatus::StopIteration;
}

}  // namespace aigw
