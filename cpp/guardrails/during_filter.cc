#include "guardrails/during_filter.h"

#include "core/clock.h"
#include "guardrails/during_checks.h"
#include "guardrails/exchange_stages.h"
#include "guardrails/request_guardrails.h"
#include "guardrails/text_views.h"

namespace aigw::guardrails {

FilterStatus DuringGuardrailFilter::onRequest(RequestContext& ex) const {
  RequestGuardrails* req = ex.guardrails();
  if (req == nullptr || req->selection().during.empty()) return FilterStatus::Continue;
  ApiCall& api = ex.api();
  if (!api.json_object || ex.bodyStreamed()) return FilterStatus::Continue;
  // Passthrough requests: only the guardrails that ask for them, like the input stage.
  std::vector<const Guardrail*> list;
  for (const Guardrail* g : req->selection().during) {
    if (api.endpoint != Endpoint::Passthrough || g->settings().passthrough) list.push_back(g);
  }
  if (list.empty()) return FilterStatus::Continue;
  nlohmann::json& doc = api.body.mutableDoc();
  if (!doc.is_object()) return FilterStatus::Continue;
  TextRefs texts;
  requestTexts(api.endpoint, doc, texts);

  // The request's deadline bounds the checks too (a fallback route keeps the first one's).
  uint64_t deadline_ms = 0;
  if (api.route != nullptr && api.route->timeout_ms > 0) {
    const uint64_t deadline_ns = ex.startNs() + api.route->timeout_ms * 1000000ull;
    const uint64_t now = monotonicNs();
    deadline_ms = deadline_ns > now ? (deadline_ns - now + 999999) / 1000000 : 1;
  }
  auto checks = std::make_unique<DuringChecks>(*req, ex.loop(), std::move(list));
  // What a Python check sees: the request as the input stage left it (its body text is kept in
  // step with `doc`); built once, on first use, and copied by startCheck.
  std::string subject;
  AsyncCheckContext ctx{ex.callContext(), ex.id(), &ex.hookQueue(), [&subject, &ex] {
                          if (subject.empty()) appendRequestSubject(subject, ex, ex.request().body);
                          return std::string_view(subject);
                        }};
  RequestContext* request = &ex;
  // `decided` runs only while the exchange holds the checks (destroying them cancels it).
  const DuringChecks::State state =
      checks->start(ctx, api.endpoint, texts, &doc, ex.request().body.size(), deadline_ms,
                    [request](DuringChecks::State s) { request->duringDecided(s == DuringChecks::State::Blocked); });
  switch (state) {
    case DuringChecks::State::Blocked:
      // Decided before the upstream call started (a synchronous guardrail, or a check that
      // answered at once): no call is made.
      ex.duringDecided(true);
      return FilterStatus::StopIteration;
    case DuringChecks::State::Allowed:
      return FilterStatus::Continue;
    case DuringChecks::State::Running:
      ex.holdForDuring(std::move(checks));
      return FilterStatus::Continue;
  }
  return FilterStatus::Continue;
}

}  // namespace aigw::guardrails
