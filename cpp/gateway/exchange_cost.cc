// The cost of an answer that ended: priced from the config's table, counted in the usage book,
// and told to the client (x-aigw-cost-usd on a held answer, an SSE comment before a stream ends).
#include "cost/price_table.h"
#include "cost/usage_book.h"
#include "core/clock.h"
#include "gateway/config.h"
#include "gateway/exchange.h"
#include "gateway/worker.h"

namespace aigw {

void Exchange::accountUsage(const CallUsage& usage) {
  GatewayShared& shared = worker_.shared();
  const bool has_tokens = usage.prompt_tokens >= 0 || usage.completion_tokens >= 0;
  if (usage.prompt_tokens > 0) shared.prompt_tokens.fetch_add(static_cast<uint64_t>(usage.prompt_tokens), std::memory_order_relaxed);
  if (usage.completion_tokens > 0) {
    shared.completion_tokens.fetch_add(static_cast<uint64_t>(usage.completion_tokens), std::memory_order_relaxed);
  }
  // The model the answer came from (x-aigw-model), and who answered.
  std::string_view model = api_.model;
  const Provider* provider = api_.provider;
  if (route_ != nullptr && !attempts_.empty()) {
    model = attempts_.back().model;
    provider = attempts_.back().target->provider;
  }
  // A failed answer or a model-less passthrough with no usage is no usage.
  if (!has_tokens && (status_ >= 400 || model.empty())) return;

  if (has_tokens) {
    const cost::PriceTable& prices = config().prices();
    const cost::Price* price = prices.find(model);
    if (price == nullptr && model != api_.model) price = prices.find(api_.model);
    if (price != nullptr) {
      cost_usd_ = cost::answerCost(*price, usage);
      setCost(cost_usd_);  // the request's record
    }
  }
  shared.usage.record(cost::utcDay(wallSeconds()), provider != nullptr ? std::string_view(provider->name()) : "",
                      model, usage, cost_usd_);

  // Serving as a mock upstream the gateway plays the provider: no gateway metadata.
  if (cost_usd_ < 0 || config().server().mock_mode) return;
  char amount[64];
  const size_t n = cost::formatUsd(cost_usd_, amount, sizeof(amount));
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

}  // namespace aigw
