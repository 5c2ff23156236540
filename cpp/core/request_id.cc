#include "core/request_id.h"

#include <atomic>
#include <random>

namespace aigw {
namespace {
uint64_t processPrefix() {
  static const uint64_t prefix = [] {
    std::random_device rd;
    return (static_cast<uint64_t>(rd()) << 32 | rd()) & 0xffffffffull;
  }();
  return prefix;
}

// Each generator (one per worker of each gateway started in this process) takes the next
// prefix after the random per-process one, so ids stay unique when a process runs several
// gateways, or stops and starts one again: all their counters start at 1.
uint64_t nextPrefix() {
  static std::atomic<uint64_t> generators{0};
  return (processPrefix() + generators.fetch_add(1, std::memory_order_relaxed)) & 0xffffffffull;
}

void putHex(char* out, uint64_t value, int digits) {
  static const char kHex[] = "0123456789abcdef";
  for (int i = digits - 1; i >= 0; --i) {
    out[i] = kHex[value & 0xf];
    value >>= 4;
  }
}
}  // namespace

RequestIdGenerator::RequestIdGenerator(uint32_t worker_index)
    : prefix_(nextPrefix()), worker_(worker_index & 0xff) {}

std::string RequestIdGenerator::next() {
  std::string id(28, '0');
  id[0] = 'r';
  id[1] = 'e';
  id[2] = 'q';
  id[3] = '_';
  putHex(&id[4], prefix_, 8);
  putHex(&id[12], worker_, 2);
  putHex(&id[14], ++counter_, 14);
  return id;
}

}  // namespace aigw
