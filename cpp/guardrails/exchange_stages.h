// The guardrail stages that run on an Exchange and may wait for asynchronous guardrails
// (moderation, Python): the input stage before dispatch and the output stage over a held,
// complete answer. Each parks the exchange while checks run (Exchange::park: destroyed, and its
// checks cancelled, if the request ends first) and resumes it when the StageRun settles.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/pipeline.h"
#include "guardrails/guardrail.h"

namespace aigw {
class Exchange;
}

namespace aigw::guardrails {

class RequestGuardrails;

// Runs the input stage of `list` over the request document `doc` (the API body, edited in
// place). Continue: the request goes on (its body rewritten if a guardrail changed it).
// StopIteration: answered (blocked) or parked until the checks answer.
FilterStatus runInputStage(Exchange& ex, RequestGuardrails& req, const std::vector<const Guardrail*>& list,
                           nlohmann::json& doc);

// Runs the output stage over the exchange's held answer `body` (moved in: the stage owns it
// while it runs); the verdict and the body (rewritten or not) go back to the exchange through
// Exchange::answerChecked (at once, or later from the parked stage).
void runOutputStage(Exchange& ex, RequestGuardrails& req, std::string body);

// Starts an asynchronous check of `ex` with the worker's services (call context, hook queue);
// `subject` gives what Python sees of it. The input, output and stream stages all start theirs here.
AsyncCheckPtr startCheck(Exchange& ex, const Guardrail& g, const CheckInput& in,
                         std::function<std::string_view()> subject, CheckDone done);

// Appends `"request":{...}`: the request as a Python guardrail sees it (request_id, endpoint,
// path, model, route, stream, headers without credentials, and `body`, a JSON object text).
void appendRequestSubject(std::string& out, Exchange& ex, std::string_view body);

}  // namespace aigw::guardrails
