#include "cost/cost_stage.h"

#include "core/clock.h"
#include "cost/cost_hook.h"
#include "hooks/hook_wait.h"
#include "http/sse.h"

namespace aigw::cost {
namespace {

bool hasTokens(const CallUsage& usage) { return usage.prompt_tokens >= 0 || usage.completion_tokens >= 0; }

// The table's price of what answered (else of what was asked), or null.
const Price* priceOf(const PriceTable& prices, std::string_view model, std::string_view requested) {
  const Price* price = prices.find(model);
  if (price == nullptr && model != requested) price = prices.find(requested);
  return price;
}

}  // namespace

CostStage::CostStage(ResponseStage& next, const CostSettings& settings, RequestContext& request, RecordState& record,
                     AnswerSource& source)
    : ResponseStage(next), settings_(settings), request_(request), record_(record), source_(source) {}

CostStage::~CostStage() { settleNow(); }

void CostStage::respond(int status, const http::HeaderList& headers, std::string_view body) {
  // Only the upstream's answer is priced here; an answer the gateway made is settled when the
  // request ends (usage an attempt reported still counts).
  if (!record_.relayed || record_.blocked) return next_.respond(status, headers, body);
  status_ = status;
  if (price()) {
    // The hook prices it: the answer waits (a copy: the writer above lends it only for this call).
    held_ = std::make_unique<Held>(Held{status, headers, std::string(body)});
    return;  // hookDone() lets it out
  }
  if (!told()) return next_.respond(status, headers, body);
  http::HeaderList with_cost = headers;
  addCostHeader(with_cost);
  next_.respond(status, with_cost, body);
}

void CostStage::writeHead(int status, const http::HeaderList& headers, int64_t content_length) {
  status_ = status;
  event_stream_ = http::isEventStream(headers);
  next_.writeHead(status, headers, content_length);
}

void CostStage::writeBody(std::string_view data) {
  if (event_stream_ && settings_.hook && status_ < 400 && !record_.blocked) {
    holdStreamEnd(data);
    if (data.empty()) return;
  }
  next_.writeBody(data);
}

void CostStage::endResponse() {
  if (record_.blocked) {  // a guardrail ended the stream: nothing is told
    settleNow();
    return next_.endResponse();
  }
  if (record_.partial) {
    // A stream cut after its head went out, its error event written: priced, then it ends.
    if (hasTokens(record_.usage) && price()) {
      end_waits_ = true;
      return;
    }
    return next_.endResponse();
  }
  if (price()) {
    end_waits_ = true;
    return;
  }
  finishStream();
}

void CostStage::finishStream() {
  if (!stream_end_.empty()) next_.writeBody(stream_end_);  // after the cost comment
  next_.endResponse();
}

void CostStage::resetConnection() {
  settleNow();
  next_.resetConnection();
}

void CostStage::onEvent(AnswerEvent e) {
  if (e == AnswerEvent::ClientGone) {
    settleNow();  // usage already reported still counts; a hook at work is cancelled
    held_.reset();
    end_waits_ = false;
  }
  ResponseStage::onEvent(e);
}

bool CostStage::price() {
  if (step_ != Step::Open) return false;
  const CallUsage& usage = record_.usage;
  const bool has_tokens = hasTokens(usage);
  std::string_view model;
  const Provider* provider = nullptr;
  source_.answeredBy(&model, &provider);
  const ApiCall& api = request_.api();
  // A failed answer or a model-less passthrough with no usage is no usage.
  if (!has_tokens && (status_ >= 400 || model.empty())) {
    step_ = Step::Settled;
    return false;
  }
  const Price* price = has_tokens ? priceOf(*settings_.prices, model, api.model) : nullptr;
  const double table = price != nullptr ? answerCost(*price, usage) : -1;
  if (!settings_.hook || settings_.mock_mode) {
    book(table);
    tell();
    return false;
  }

  // The Python cost hook prices it: the answer waits until it does (or its backstop fires).
  CostHookInput in;
  in.request_id = request_.id();
  if (api.route != nullptr || api.provider != nullptr) in.endpoint = endpointName(api.endpoint);
  if (provider != nullptr) in.provider = provider->name();
  in.model = model;
  in.requested_model = api.model;
  if (const router::Route* route = source_.currentRoute()) in.route = route->name;
  in.stream = api.stream;
  in.status = status_;
  in.partial = record_.partial;
  in.usage = usage;
  in.price = price;
  in.table_cost_usd = table;
  const http::Request& http = request_.request();
  in.headers = &http.headers;
  if (api.json_object && !http.body_streamed) {
    const nlohmann::json& body = api.body.get();
    if (body.is_object()) {
      if (auto it = body.find("metadata"); it != body.end() && it->is_object()) in.metadata = &*it;
    }
  }
  table_cost_ = table;
  step_ = Step::Waiting;
  source_.answerComplete();  // the deadline no longer applies (the hook has its own backstop)

  hooks::HookQueue& queue = request_.hookQueue();
  wait_ = std::make_unique<hooks::HookWait>(queue, request_.loop());
  // The result and the backstop only run while this stage holds `wait_` (its destructor cancels both).
  auto ticket = queue.submit(request_.loop(), kCostJob, costHookSnapshot(in), [this](bool ok, std::string result) {
    hookDone(ok ? costHookResult(result, table_cost_) : table_cost_);
  });
  wait_->arm(std::move(ticket), settings_.hook_timeout_ms, [this] {
    settings_.hook_backstops->fetch_add(1, std::memory_order_relaxed);
    hookDone(table_cost_);
  });
  return true;
}

void CostStage::hookDone(double usd) {
  // A result already posted when the client left (settleNow booked the table's cost).
  if (step_ != Step::Waiting) return;
  // The wait may be on the stack below us (its backstop timer): release it on the next turn.
  if (wait_) request_.loop().deferredDelete(std::move(wait_));
  book(usd);
  tell();
  if (held_) {
    std::unique_ptr<Held> held = std::move(held_);
    next_.respond(held->status, held->headers, held->body);
    return;
  }
  if (end_waits_) {
    end_waits_ = false;
    finishStream();
  }
}

void CostStage::settleNow() {
  wait_.reset();
  if (step_ == Step::Waiting) {
    book(table_cost_);
    return;
  }
  if (step_ != Step::Open || !hasTokens(record_.usage)) return;
  std::string_view model;
  const Provider* provider = nullptr;
  source_.answeredBy(&model, &provider);
  const Price* price = priceOf(*settings_.prices, model, request_.api().model);
  book(price != nullptr ? answerCost(*price, record_.usage) : -1);
}

void CostStage::book(double usd) {
  step_ = Step::Settled;
  const CallUsage& usage = record_.usage;
  if (usage.prompt_tokens > 0) {
    settings_.prompt_tokens->fetch_add(static_cast<uint64_t>(usage.prompt_tokens), std::memory_order_relaxed);
  }
  if (usage.completion_tokens > 0) {
    settings_.completion_tokens->fetch_add(static_cast<uint64_t>(usage.completion_tokens), std::memory_order_relaxed);
  }
  std::string_view model;
  const Provider* provider = nullptr;
  source_.answeredBy(&model, &provider);
  if (usd >= 0) record_.cost_usd = usd;  // the request's record (null until priced)
  settings_.book->record(utcDay(wallSeconds()), provider != nullptr ? std::string_view(provider->name()) : "", model,
                         usage, usd >= 0 ? usd : -1);
}

bool CostStage::told() const {
  // Serving as a mock upstream the gateway plays the provider: no gateway metadata.
  return record_.cost_usd && !settings_.mock_mode;
}

void CostStage::addCostHeader(http::HeaderList& headers) const {
  char amount[64];
  const size_t n = formatUsd(*record_.cost_usd, amount, sizeof(amount));
  headers.add("x-aigw-cost-usd", std::string(amount, n));
}

void CostStage::tell() {
  if (!told()) return;
  if (held_) {
    addCostHeader(held_->headers);
  } else if (event_stream_ && next_.headSent()) {
    // The head is long gone: SDKs skip SSE comments, and a client that wants the cost reads it.
    char amount[64];
    const size_t n = formatUsd(*record_.cost_usd, amount, sizeof(amount));
    std::string comment = ": aigw_cost_usd ";
    comment.append(amount, n);
    comment += "\n\n";
    next_.writeBody(comment);
  }
}

void CostStage::holdStreamEnd(std::string_view& data) {
  if (!stream_end_.empty() && next_.headSent()) {  // more after [DONE]: keep the order
    next_.writeBody(stream_end_);
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

}  // namespace aigw::cost
