#include "gateway/routing_summary.h"

#include "core/clock.h"
#include "core/json_text.h"
#include "gateway/config.h"
#include "http/sse.h"

namespace aigw {
namespace {

bool truthy(const std::string* value) {
  return value != nullptr && (*value == "1" || *value == "true" || *value == "yes" || *value == "on");
}

}  // namespace

bool routingSummaryAsked(const ApiCall& api, const http::Request& http, const ServerSettings& server) {
  if (api.route == nullptr) return false;
  switch (server.routing_summary) {
    case ServerSettings::RoutingSummary::Always: return true;
    case ServerSettings::RoutingSummary::Never: return false;
    case ServerSettings::RoutingSummary::Header: return truthy(http.headers.find("x-aigw-routing-summary"));
  }
  return false;
}

std::string RoutingSummaryStage::summaryJson() const {
  std::string out = "{\"route\":";
  appendJsonString(out, source_.currentRoute()->name);
  out += ",\"attempts\":";
  log::appendAttempts(out, routes_.records(monotonicNs(), nullptr));  // the one answering is not over yet
  out += "}";
  return out;
}

void RoutingSummaryStage::respond(int status, const http::HeaderList& headers, std::string_view body) {
  const std::string* type = headers.find("content-type");
  if (record_.blocked || type == nullptr || type->find("json") == std::string::npos) {
    return next_.respond(status, headers, body);
  }
  next_.respond(status, headers, withSummary(std::string(body), summaryJson()));
}

void RoutingSummaryStage::writeHead(int status, const http::HeaderList& headers, int64_t content_length) {
  next_.writeHead(status, headers, content_length);
  if (http::isEventStream(headers)) {
    next_.writeBody(": aigw_routing " + summaryJson() + "\n\n");
  }
}

std::string RoutingSummaryStage::withSummary(std::string body, const std::string& summary) {
  const size_t open = body.find_first_not_of(" \t\r\n");
  const size_t close = body.find_last_not_of(" \t\r\n");
  if (open == std::string::npos || body[open] != '{' || body[close] != '}') return body;
  const size_t last = body.find_last_not_of(" \t\r\n", close - 1);
  std::string field = (last != std::string::npos && body[last] == '{') ? "" : ",";
  field += "\"aigw_routing\":" + summary;
  body.insert(close, field);
  return body;
}

}  // namespace aigw
