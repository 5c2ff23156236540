// What the Python cost hook sees of an answer (a JSON snapshot the worker builds and the hook
// thread reads), and how its result comes back. No Python here: the HookQueue carries text.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

#include "core/call.h"
#include "cost/price_table.h"
#include "http/headers.h"

namespace aigw::cost {

// The job kind the hook thread dispatches on (python/aigw/_hooks.py).
inline constexpr const char* kCostJob = "cost";

struct CostHookInput {
  std::string_view request_id;
  std::string_view endpoint;
  std::string_view provider;         // who answered; empty: null
  std::string_view model;            // the model that answered (x-aigw-model); empty: null
  std::string_view requested_model;  // as the client asked; empty: null
  std::string_view route;            // empty: null
  bool stream = false;
  int status = 0;                    // the answer's status
  bool partial = false;              // a stream cut after it started (its usage came before the cut)
  CallUsage usage;
  const Price* price = nullptr;      // the table's price of `model`, or null
  double table_cost_usd = -1;        // < 0: null
  const http::HeaderList* headers = nullptr;  // the request's; credentials are left out
  const nlohmann::json* metadata = nullptr;   // the request body's "metadata" object, or null
};

// {"request_id", "endpoint", "provider", "model", "requested_model", "route", "stream",
//  "status", "partial", "usage": {"prompt_tokens", "completion_tokens", "cached_tokens"},
//  "price": {"input", "output", "cached_input"} | null, "table_cost_usd", "headers", "metadata"}
// (unknown counts are null).
std::string costHookSnapshot(const CostHookInput& in);

// The hook thread's answer, {"cost_usd": number | null}: the cost to use (< 0: none, the
// answer is unpriced). Anything unreadable, negative or not finite gives `fallback`.
double costHookResult(std::string_view result, double fallback);

}  // namespace aigw::cost
