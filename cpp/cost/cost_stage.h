// The cost stage: prices an answer when it ends (from the config's table, or by the Python cost
// hook), counts it in the usage book, and tells the client (x-aigw-cost-usd on a whole answer,
// an SSE comment before a stream ends). With a cost hook the answer waits for it: a whole
// answer, or a stream's closing "data: [DONE]", goes out once the cost is known.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "cost/price_table.h"
#include "cost/usage_book.h"
#include "pipeline/answer_source.h"
#include "pipeline/record_state.h"
#include "pipeline/request_stage.h"
#include "pipeline/response_stage.h"

namespace aigw::hooks {
class HookWait;
}

namespace aigw::cost {

// One worker's pricing: the table, the hook, and where usage is counted.
struct CostSettings {
  const PriceTable* prices = nullptr;
  bool hook = false;             // a Python cost hook prices every answer with usage
  uint64_t hook_timeout_ms = 0;  // its backstop: no result by then keeps the table's cost
  bool mock_mode = false;        // serving as a mock upstream: nothing is told
  std::atomic<uint64_t>* prompt_tokens = nullptr;
  std::atomic<uint64_t>* completion_tokens = nullptr;
  std::atomic<uint64_t>* hook_backstops = nullptr;
  UsageBook* book = nullptr;
};

class CostStage final : public ResponseStage {
 public:
  CostStage(ResponseStage& next, const CostSettings& settings, RequestContext& request, RecordState& record,
            AnswerSource& source);
  // Usage seen and not yet priced is counted at the table's cost (a hook still working is cancelled).
  ~CostStage() override;

  void respond(int status, const http::HeaderList& headers, std::string_view body) override;
  void writeHead(int status, const http::HeaderList& headers, int64_t content_length) override;
  void writeBody(std::string_view data) override;
  void endResponse() override;
  void resetConnection() override;
  void onEvent(AnswerEvent e) override;

 private:
  struct Held {
    int status;
    http::HeaderList headers;
    std::string body;
  };
  enum class Step : uint8_t { Open, Waiting, Settled };

  // Prices the answer that ended; true when the Python hook prices it first (the answer waits
  // for hookDone()).
  bool price();
  void hookDone(double usd);
  // The client left, or the answer is cut with no way to tell its cost: usage already seen is
  // counted at the table's cost.
  void settleNow();
  void book(double usd);
  // Tells the client the cost: a header on a whole answer waiting here, a comment in a stream.
  void tell();
  bool told() const;  // there is a cost to tell
  void addCostHeader(http::HeaderList& headers) const;
  // With a cost hook: a stream's closing "data: [DONE]" (at the end of `data`) is kept back
  // until the cost is known, so clients that stop reading there (the OpenAI SDKs) wait for it.
  void holdStreamEnd(std::string_view& data);
  void finishStream();

  const CostSettings& settings_;
  RequestContext& request_;
  RecordState& record_;
  AnswerSource& source_;
  Step step_ = Step::Open;
  bool event_stream_ = false;
  int status_ = 0;
  double table_cost_ = -1;  // the table's cost, kept while the hook works
  std::string stream_end_;  // a held "data: [DONE]" event
  std::unique_ptr<Held> held_;  // a whole answer waiting for its cost
  bool end_waits_ = false;      // a stream's end waiting for its cost
  std::unique_ptr<hooks::HookWait> wait_;
};

}  // namespace aigw::cost
