#include "guardrails/guardrail_filter.h"

#include "gateway/config.h"
#include "gateway/exchange.h"
#include "guardrails/request_guardrails.h"
#include "guardrails/text_views.h"

namespace aigw::guardrails {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

FilterStatus refuse(Exchange& ex, const BlockInfo& b) {
  ex.sendError(b.status, b.message, b.type, b.code);
  return FilterStatus::StopIteration;
}

}  // namespace

FilterStatus GuardrailFilter::onRequest(Exchange& ex) const {
  const GuardrailSet* set = ex.config().guardrails();
  if (set == nullptr) return FilterStatus::Continue;
  ApiCall& api = ex.api();
  const Selection* selection = &set->forRoute(api.route);
  Selection extended;
  if (const std::string* names = ex.request().headers.find(kSelectHeader)) {
    extended = *selection;
    std::string_view rest = *names;
    while (!rest.empty()) {
      const size_t comma = rest.find(',');
      const std::string_view name = trim(rest.substr(0, comma));
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      if (name.empty()) continue;
      const Guardrail* g = set->byName(name);
      // Unknown and not selectable read the same: the header does not reveal what exists.
      if (g == nullptr || !g->settings().request_selectable) {
        ex.sendError(400, "guardrail '" + std::string(name) + "' cannot be selected per request",
                     "invalid_request_error", "guardrail_not_selectable");
        return FilterStatus::StopIteration;
      }
      extended.add(g);
    }
    selection = &extended;
  }
  if (selection->empty()) return FilterStatus::Continue;
  auto req = std::make_unique<RequestGuardrails>(*selection, api.endpoint);
  const std::vector<const Guardrail*>* input = &req->selection().input;
  std::vector<const Guardrail*> passthrough;
  if (api.endpoint == Endpoint::Passthrough && !input->empty()) {
    for (const Guardrail* g : *input) {
      if (g->settings().passthrough) passthrough.push_back(g);
    }
    input = &passthrough;
  }
  if (!input->empty() && api.json_object && !ex.bodyStreamed()) {
    http::Request& request = ex.request();
    nlohmann::json& doc = api.body.mutableDoc();
    if (doc.is_object()) {
      TextRefs texts;
      requestTexts(api.endpoint, doc, texts);
      CheckInput in;
      in.stage = Stage::Input;
      in.endpoint = api.endpoint;
      in.texts = &texts;
      in.body = &doc;
      in.body_bytes = request.body.size();
      StageRun run(*req, *input, in);
      const StageOutcome outcome = run.run();
      if (outcome.status == StageOutcome::Status::Blocked) {
        const BlockInfo block = req->blocked();
        ex.setGuardrails(std::move(req));
        return refuse(ex, block);
      }
      if (outcome.changed) {
        // The redacted document is what every attempt sends (CallRequest reads request.body
        // and api.body; transforms start from api.body's document).
        request.body = dumpJson(doc);
        api.body.retarget(request.body);
      }
    }
  }
  ex.setGuardrails(std::move(req));
  return FilterStatus::Continue;
}

}  // namespace aigw::guardrails
