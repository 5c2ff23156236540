// Request ids: unique per process run (across every gateway it starts, and restarts), cheap
// enough for every request. Format: 8 hex digits of a prefix (random per process, plus one per
// generator created), 2 of the worker, 14 of a counter.
#pragma once

#include <cstdint>
#include <string>

namespace aigw {

class RequestIdGenerator {
 public:
  explicit RequestIdGenerator(uint32_t worker_index);
  std::string next();

 private:
  uint64_t prefix_;
  uint32_t worker_;
  uint64_t counter_ = 0;
};

}  // namespace aigw
