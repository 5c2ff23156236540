// The cost of an answer that ended: priced from the config's table (or by the Python cost hook),
// counted in the usage book, and told to the client (x-aigw-cost-usd on a held answer, an SSE
// comment before a stream ends). With a cost hook the answer waits for it: a held answer's head,
// or a stream's end, goes out once the cost is known (releaseAnswer).
#include <memory>

#include "core/clock.h"
#include "cost/cost_hook.h"
#include "cost/price_table.h"
#include "cost/usage_book.h"
#include "gateway/config.h"
#include "gateway/exchange.h"
#include "gateway/worker.h"
#include "guardrails/request_guardrails.h"
#include "hooks/hook_wait.h"

namespace aigw {
namespace {

bool hasTokens(const CallUsage& usage) { return usage.prompt_tokens >= 0 || usage.completion_tokens >= 0; }

// The table's price of what answered (else of what was asked), or null.
const cost::Price* priceOf(const cost::PriceTable& prices, std::string_view model, std::string_view requested) {
  const cost::Price* price = prices.find(model);
  if (price == nullptr && model != requested) price = prices.find(requested);
  return price;
}

}  // namespace

void Exchange::onCallUsage(const CallUsage& usage) {
  if (!done_) rec_.usage = usage;
}

// The model the answer came from (x-aigw-model), and who answered. Only routed requests have
// attempts; the last one answered (its route may be released already: the client left).
void Exchange::answeredBy(std::string_view* model, const Provider** provider) const {
  *model = api_.model;
  *provider = api_.provider;
  if (!attempts_.empty()) {
    *model = attempts_.back().model;
    *provider = attempts_.back().target->provider;
  }
}

bool Exchange::priceAnswer() {
  if (cost_step_ != CostStep::Open) return false;
  const CallUsage& usage = rec_.usage;
  const bool has_tokens = hasTokens(usage);
  std::string_view model;
  const Provider* provider = nullptr;
  answeredBy(&model, &provider);
  // A failed answer or a model-less passthrough with no usage is no usage.
  if (!has_tokens && (status_ >= 400 || model.empty())) {
    cost_step_ = CostStep::Settled;
    return false;
  }
  const cost::Price* price = has_tokens ? priceOf(config().prices(), model, api_.model) : nullptr;
  const double table = price != nullptr ? cost::answerCost(*price, usage) : -1;

  const HookSettings& hooks = config().hooks();
  if (!hooks.cost || config().server().mock_mode) {
    bookCost(table);
    tellCost();
    return false;
  }

  // The Python cost hook prices it: park the answer until it does (or its backstop fires).
  cost::CostHookInput in;
  in.request_id = id_;
  if (api_.route != nullptr || api_.provider != nullptr) in.endpoint = endpointName(api_.endpoint);
  if (provider != nullptr) in.provider = provider->name();
  in.model = model;
  in.requested_model = api_.model;
  const router::Route* route = route_ != nullptr ? route_ : api_.route;
  if (route != nullptr) in.route = route->name;
  in.stream = api_.stream;
  in.status = status_;
  in.partial = rec_.partial;
  in.usage = usage;
  in.price = price;
  in.table_cost_usd = table;
  in.headers = &request_.headers;
  if (api_.json_object && !request_.body_streamed) {
    const nlohmann::json& body = api_.body.get();
    if (body.is_object()) {
      if (auto it = body.find("metadata"); it != body.end() && it->is_object()) in.metadata = &*it;
    }
  }
  table_cost_ = table;
  cost_step_ = CostStep::Waiting;
  // The answer is complete: the deadline no longer applies (the hook has its own timeout).
  if (deadline_timer_) deadline_timer_->stop();

  hooks::HookQueue& queue = worker_.shared().hooks;
  auto wait = std::make_unique<hooks::HookWait>(queue, worker_.loop());
  // `done` and the timer only run while the exchange holds `wait` (its destructor cancels both).
  auto ticket = queue.submit(worker_.loop(), cost::kCostJob, cost::costHookSnapshot(in),
                             [this](bool ok, std::string result) {
                               costHookDone(ok ? cost::costHookResult(result, table_cost_) : table_cost_);
                             });
  wait->arm(std::move(ticket), hooks.cost_timeout_ms, [this] {
    worker_.shared().cost_hook_backstops.fetch_add(1, std::memory_order_relaxed);
    costHookDone(table_cost_);
  });
  park(std::move(wait));
  return true;
}

void Exchange::costHookDone(double usd) {
  // A result already posted when the client left (settleCostNow booked the table's cost).
  if (cost_step_ != CostStep::Waiting) return;
  // The wait may be on the stack below us (its backstop timer): release it on the next turn.
  if (parked_) worker_.loop().deferredDelete(std::move(parked_));
  bookCost(usd);
  tellCost();
  releaseAnswer();
}

void Exchange::settleCostNow() {
  if (cost_step_ == CostStep::Waiting) {
    bookCost(table_cost_);
    return;
  }
  if (cost_step_ != CostStep::Open || !hasTokens(rec_.usage)) return;
  std::string_view model;
  const Provider* provider = nullptr;
  answeredBy(&model, &provider);
  const cost::Price* price = priceOf(config().prices(), model, api_.model);
  bookCost(price != nullptr ? cost::answerCost(*price, rec_.usage) : -1);
}

void Exchange::bookCost(double usd) {
  cost_step_ = CostStep::Settled;
  const CallUsage& usage = rec_.usage;
  GatewayShared& shared = worker_.shared();
  if (usage.prompt_tokens > 0) shared.prompt_tokens.fetch_add(static_cast<uint64_t>(usage.prompt_tokens), std::memory_order_relaxed);
  if (usage.completion_tokens > 0) {
    shared.completion_tokens.fetch_add(static_cast<uint64_t>(usage.completion_tokens), std::memory_order_relaxed);
  }
  std::string_view model;
  const Provider* provider = nullptr;
  answeredBy(&model, &provider);
  if (usd >= 0) rec_.cost_usd = usd;  // the request's record (null until priced)
  shared.usage.record(cost::utcDay(wallSeconds()), provider != nullptr ? std::string_view(provider->name()) : "",
                      model, usage, usd >= 0 ? usd : -1);
}

void Exchange::tellCost() {
  // Serving as a mock upstream the gateway plays the provider: no gateway metadata.
  if (!rec_.cost_usd || config().server().mock_mode) return;
  char amount[64];
  const size_t n = cost::formatUsd(*rec_.cost_usd, amount, sizeof(amount));
  if (held_ && !sse_head_held_) {
    held_->headers.add("x-aigw-cost-usd", std::string(amount, n));
  } else if (event_stream_ && writer_.headSent()) {
    // The head is long gone: SDKs skip SSE comments, and a client that wants the cost reads it.
    std::string comment = ": aigw_cost_usd ";
    comment.append(amount, n);
    comment += "\n\n";
    writer_.writeBody(comment);
  }
}

void Exchange::releaseAnswer() {
  if (held_) {
    // Output guardrails check a whole 2xx answer before it goes (exchange_answer.cc).
    if (guardrails_ && !event_stream_ && held_->status < 300 && guardrails_->checksAnswer()) return holdAnswer();
    respondHeld(std::move(held_));
    return;
  }
  done_ = true;
  if (!stream_end_.empty()) writer_.writeBody(stream_end_);  // after the cost comment
  writer_.endResponse();
}

void Exchange::holdStreamEnd(std::string_view& data) {
  if (!stream_end_.empty() && writer_.headSent()) {  // more after [DONE]: keep the order
    writer_.writeBody(stream_end_);
    stream_end_.clear();
  }
  for (std::string_view end : {std::string_view("data: [DONE]\n\n"), std::string_view("data: [DONE]\r\n\r\n"),
                               std::string_view("data:[DONE]\n\n")}) {
    if (data.size() >= end.size() && data.substr(data.size() - end.size()) == end) {
      stream_end_.assign(end);
      data.remove_suffix(end.size());
      return;
    }
  }
}

void Exchange::endCutStream() {
  if (hasTokens(rec_.usage) && priceAnswer()) return;  // the end waits for the cost hook
  writer_.endResponse();
}

}  // namespace aigw
