// The routing summary (x-aigw-routing-summary, server.routing_summary): the route and its
// attempts, added to a JSON answer as "aigw_routing" and sent after an event stream's head as
// an SSE comment. It sits below the output guardrails, which check the answer as the upstream
// gave it; a guardrail's block is the guardrail's answer and gets none.
#pragma once

#include <string>

#include "gateway/route_attempts.h"
#include "pipeline/answer_source.h"
#include "pipeline/record_state.h"
#include "pipeline/response_stage.h"

namespace aigw {

struct ServerSettings;

// Whether this request's answer carries the summary (routed requests only).
bool routingSummaryAsked(const ApiCall& api, const http::Request& http, const ServerSettings& server);

class RoutingSummaryStage final : public ResponseStage {
 public:
  RoutingSummaryStage(ResponseStage& next, const AnswerSource& source, const RouteAttempts& routes,
                      const RecordState& record)
      : ResponseStage(next), source_(source), routes_(routes), record_(record) {}

  void respond(int status, const http::HeaderList& headers, std::string_view body) override;
  void writeHead(int status, const http::HeaderList& headers, int64_t content_length) override;

  // Adds "aigw_routing" to a JSON object body (anything else is returned as is).
  static std::string withSummary(std::string body, const std::string& summary);

 private:
  // {"route": ..., "attempts": [...]}
  std::string summaryJson() const;

  const AnswerSource& source_;
  const RouteAttempts& routes_;
  const RecordState& record_;
};

}  // namespace aigw
