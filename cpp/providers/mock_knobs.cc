#include "providers/mock_knobs.h"

#include <charconv>
#include <cstdlib>

#include "core/json_field.h"

namespace aigw {
namespace {

bool parseInt(const std::string& text, int64_t min, int64_t max, int64_t* out) {
  int64_t v = 0;
  auto res = std::from_chars(text.data(), text.data() + text.size(), v);
  if (res.ec != std::errc() || res.ptr != text.data() + text.size() || v < min || v > max) return false;
  *out = v;
  return true;
}

}  // namespace

MockKnobs MockKnobs::fromJson(const nlohmann::json& p) {
  MockKnobs k;
  k.latency_ms = field<int64_t>(p, "latency_ms");
  k.ttft_ms = field<int64_t>(p, "ttft_ms");
  k.chunk_delay_ms = field<int64_t>(p, "chunk_delay_ms");
  k.chunks = field<int64_t>(p, "chunks");
  k.status = field<int>(p, "status");
  k.error_rate = field<double>(p, "error_rate");
  k.retry_after = field<int64_t>(p, "retry_after");
  k.stall_after = field<int64_t>(p, "stall_after");
  k.reset_after = field<int64_t>(p, "reset_after");
  if (!fieldValue(p, "response").is_null()) k.response = field<std::string>(p, "response");
  k.error_code = fieldOrNone<std::string>(p, "error_code", "");
  k.embedding_dimensions = field<int64_t>(p, "embedding_dimensions");
  k.header_knobs = field<bool>(p, "header_knobs");
  return k;
}

bool MockKnobs::applyHeaders(const http::HeaderList& headers, std::string* error) {
  if (!header_knobs) return true;
  constexpr int64_t kMaxMs = 24 * 3600 * 1000;
  struct IntKnob {
    const char* header;
    int64_t* field;
    int64_t min;
    int64_t max;
  };
  int64_t status = this->status;
  const IntKnob ints[] = {
      {"x-mock-latency-ms", &latency_ms, 0, kMaxMs},
      {"x-mock-ttft-ms", &ttft_ms, 0, kMaxMs},
      {"x-mock-chunk-delay-ms", &chunk_delay_ms, 0, kMaxMs},
      {"x-mock-chunks", &chunks, 1, 100000},
      {"x-mock-status", &status, 100, 599},
      {"x-mock-retry-after", &retry_after, -1, 86400},
      {"x-mock-stall-after", &stall_after, -1, 100000},
      {"x-mock-reset-after", &reset_after, -1, 100000},
      {"x-mock-embedding-dimensions", &embedding_dimensions, 1, 65536},
  };
  for (const auto& h : headers) {
    if (h.name.size() < 7 || h.name.compare(0, 7, "x-mock-") != 0) continue;
    bool known = false;
    for (const auto& knob : ints) {
      if (h.name != knob.header) continue;
      known = true;
      if (!parseInt(h.value, knob.min, knob.max, knob.field)) {
        *error = std::string("invalid ") + knob.header + " header: expected an integer from " +
                 std::to_string(knob.min) + " to " + std::to_string(knob.max);
        return false;
      }
    }
    if (h.name == "x-mock-error-rate") {
      known = true;
      char* end = nullptr;
      double v = std::strtod(h.value.c_str(), &end);
      if (h.value.empty() || end != h.value.c_str() + h.value.size() || !(v >= 0.0 && v <= 1.0)) {
        *error = "invalid x-mock-error-rate header: expected a number from 0 to 1";
        return false;
      }
      error_rate = v;
    } else if (h.name == "x-mock-response") {
      known = true;
      response = h.value;
    } else if (h.name == "x-mock-error-code") {
      known = true;
      error_code = h.value;
    }
    if (!known) {
      *error = "unknown mock knob header " + h.name;
      return false;
    }
  }
  this->status = static_cast<int>(status);
  return true;
}

}  // namespace aigw
