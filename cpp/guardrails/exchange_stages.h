// The guardrail stages that run on a request and may wait for asynchronous guardrails
// (moderation, Python): the input stage before dispatch and the output stage over a held,
// complete answer. Each is kept by its caller while checks run (RequestContext::park: destroyed,
// and its checks cancelled, if the request ends first) and resumes it when the StageRun settles.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/request_stage.h"
#include "guardrails/guardrail.h"

namespace aigw::guardrails {

class RequestGuardrails;

// Runs the input stage of `list` over the request document `doc` (the API body, edited in
// place). Continue: the request goes on (its body rewritten if a guardrail changed it).
// StopIteration: answered (blocked) or parked until the checks answer.
FilterStatus runInputStage(RequestContext& ex, RequestGuardrails& req, const std::vector<const Guardrail*>& list,
                           nlohmann::json& doc);

// What the output stage decided about a held answer: it goes out with `body` (as the
// guardrails left it), or `blocked` (RequestGuardrails::blocked() says how).
using AnswerChecked = std::function<void(bool blocked, std::string body)>;

// Runs the output stage over a held answer `body` (moved in: the stage owns it while it runs).
// `checked` hears the verdict at once (and null is returned) or later, from the returned
// stage, which the caller keeps until then: destroying it cancels the checks.
DeferredDeletablePtr runOutputStage(RequestContext& ex, RequestGuardrails& req, std::string body,
                                    AnswerChecked checked);

// Starts an asynchronous check of `ex` with the worker's services (call context, hook queue);
// `subject` gives what Python sees of it. The input, output and stream stages all start theirs here.
AsyncCheckPtr startCheck(RequestContext& ex, const Guardrail& g, const CheckInput& in,
                         std::function<std::string_view()> subject, CheckDone done);

// Appends `"request":{...}`: the request as a Python guardrail sees it (request_id, endpoint,
// path, model, route, stream, headers without credentials, and `body`, a JSON object text).
void appendRequestSubject(std::string& out, RequestContext& ex, std::string_view body);

}  // namespace aigw::guardrails
