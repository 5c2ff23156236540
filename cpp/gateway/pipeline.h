// The request pipeline: an ordered chain of stateless filters, compiled once per worker from
// the config. A filter either lets the request continue to the next one, or stops iteration
// because it answered the request or started async work that will resume the chain through
// Exchange::continuePipeline() (Envoy's pattern). Per-request state lives in the Exchange.
#pragma once

#include <functional>
#include <memory>
#include <vector>

namespace aigw {

class Exchange;

enum class FilterStatus { Continue, StopIteration };

class Filter {
 public:
  virtual ~Filter() = default;
  virtual const char* name() const = 0;
  virtual FilterStatus onRequest(Exchange& exchange) const = 0;
};
using FilterPtr = std::unique_ptr<Filter>;
using FilterChain = std::vector<FilterPtr>;
// Makes one worker's instance of an extra stage (stages are per worker: no sharing, no locks).
using FilterFactory = std::function<FilterPtr()>;

}  // namespace aigw
