#include "guardrails/guardrail_filter.h"

#include "guardrails/exchange_stages.h"
#include "guardrails/guardrail_set.h"
#include "guardrails/request_guardrails.h"

namespace aigw::guardrails {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

FilterStatus GuardrailFilter::onRequest(RequestContext& ex) const {
  const GuardrailSet* set = set_;
  const std::string* names = ex.request().headers.find(kSelectHeader);
  if (set == nullptr && names == nullptr) return FilterStatus::Continue;  // the common case: free
  ApiCall& api = ex.api();
  static const Selection kNone;
  const Selection* selection = set != nullptr ? &set->forRoute(api.route) : &kNone;
  Selection extended;
  if (names != nullptr) {
    extended = *selection;
    std::string_view rest = *names;
    while (!rest.empty()) {
      const size_t comma = rest.find(',');
      const std::string_view name = trim(rest.substr(0, comma));
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      if (name.empty()) continue;
      const Guardrail* g = set != nullptr ? set->byName(name) : nullptr;
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
  ex.setGuardrails(selection == &extended ? std::make_unique<RequestGuardrails>(std::move(extended), api.endpoint)
                                          : std::make_unique<RequestGuardrails>(*selection, api.endpoint));
  RequestGuardrails& req = *ex.guardrails();
  const std::vector<const Guardrail*>* input = &req.selection().input;
  std::vector<const Guardrail*> passthrough;
  if (api.endpoint == Endpoint::Passthrough && !input->empty()) {
    for (const Guardrail* g : *input) {
      if (g->settings().passthrough) passthrough.push_back(g);
    }
    input = &passthrough;
  }
  if (input->empty() || !api.json_object || ex.bodyStreamed()) return FilterStatus::Continue;
  nlohmann::json& doc = api.body.mutableDoc();
  if (!doc.is_object()) return FilterStatus::Continue;
  if (input == &passthrough) {
    // The list must outlive a parked stage: keep it in the request's selection storage.
    req.setPassthroughInput(std::move(passthrough));
    input = &req.passthroughInput();
  }
  return runInputStage(ex, req, *input, doc);
}

}  // namespace aigw::guardrails
