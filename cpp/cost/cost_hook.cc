#include "cost/cost_hook.h"

#include <cmath>

#include "core/json_parse.h"
#include "core/json_text.h"
#include "http/credential_headers.h"

namespace aigw::cost {
std::string costHookSnapshot(const CostHookInput& in) {
  std::string out;
  out.reserve(512);
  out += "{\"request_id\":";
  appendJsonString(out, in.request_id);
  out += ",\"endpoint\":";
  appendJsonStringOrNull(out, in.endpoint);
  out += ",\"provider\":";
  appendJsonStringOrNull(out, in.provider);
  out += ",\"model\":";
  appendJsonStringOrNull(out, in.model);
  out += ",\"requested_model\":";
  appendJsonStringOrNull(out, in.requested_model);
  out += ",\"route\":";
  appendJsonStringOrNull(out, in.route);
  out += ",\"stream\":";
  out += in.stream ? "true" : "false";
  out += ",\"status\":";
  appendJsonNumber(out, static_cast<int64_t>(in.status));
  out += ",\"partial\":";
  out += in.partial ? "true" : "false";
  out += ",\"usage\":{\"prompt_tokens\":";
  appendJsonNumberOrNull(out, in.usage.prompt_tokens);
  out += ",\"completion_tokens\":";
  appendJsonNumberOrNull(out, in.usage.completion_tokens);
  out += ",\"cached_tokens\":";
  appendJsonNumberOrNull(out, in.usage.cached_tokens);
  out += "},\"price\":";
  if (in.price != nullptr) {
    out += "{\"input\":";
    appendJsonNumber(out, in.price->input);
    out += ",\"output\":";
    appendJsonNumber(out, in.price->output);
    out += ",\"cached_input\":";
    appendJsonNumber(out, in.price->cached_input);
    out += "}";
  } else {
    out += "null";
  }
  out += ",\"table_cost_usd\":";
  appendJsonNumberOrNull(out, in.table_cost_usd);
  out += ",\"headers\":";
  if (in.headers != nullptr) {
    http::appendHeadersJsonWithoutCredentials(out, *in.headers);
  } else {
    out += "{}";
  }
  out += ",\"metadata\":";
  if (in.metadata != nullptr && in.metadata->is_object()) {
    out += in.metadata->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    out += "null";
  }
  out += "}";
  return out;
}

double costHookResult(std::string_view result, double fallback) {
  const nlohmann::json doc = parseJson(result);
  if (!doc.is_object()) return fallback;
  auto it = doc.find("cost_usd");
  if (it == doc.end()) return fallback;
  if (it->is_null()) return -1;
  if (!it->is_number()) return fallback;
  const double usd = it->get<double>();
  if (!std::isfinite(usd) || usd < 0) return fallback;
  return usd;
}

}  // namespace aigw::cost
