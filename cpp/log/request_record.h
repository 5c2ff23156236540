// One request's log record as the data plane knows it, and its serialization: one compact JSON
// line, written to the worker's journal. Field meanings are documented in docs/logging.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace aigw::log {

struct AttemptRecord {
  std::string target;
  std::string provider;
  std::string model;
  int status = 0;        // 0: no answer (null in JSON)
  double duration_ms = 0;
  std::string error;     // empty: null
};

struct RequestRecord {
  std::string id;
  uint64_t ts_start_ms = 0;  // wall clock
  uint64_t ts_end_ms = 0;
  std::string method;
  std::string path;
  std::string endpoint;      // empty: null (not an API request)
  std::string model;         // as requested; empty: null
  std::string route;
  std::string provider;
  std::string upstream_model;
  int status = 0;            // sent to the client; 0: none (null)
  double latency_ms = 0;
  double ttft_ms = -1;       // first response byte handed to the client; < 0: null
  bool stream = false;
  int64_t prompt_tokens = -1;      // < 0: null
  int64_t completion_tokens = -1;  // < 0: null
  std::optional<double> cost_usd;
  std::vector<AttemptRecord> attempts;
  // Pre-serialized JSON values (one per guardrail that ran), appended as they are.
  std::vector<std::string> guardrails;
  std::string error_type;    // empty: "error" is null
  std::string error_message;
  bool client_aborted = false;
  bool partial = false;      // the response started and was cut (stream error, reset, abort)
  bool has_bodies = false;
  std::string request_body;  // capped and redacted by the caller (see redactBody)
  std::string response_body;
  bool request_body_truncated = false;
  bool response_body_truncated = false;
};

// The "attempts" array of a record: [{target, provider, model, status, duration_ms, error}].
// The routing summary of a response uses it too.
void appendAttempts(std::string& out, const std::vector<AttemptRecord>& attempts);
// Appends `record` as one JSON object and a '\n' to `out`.
void appendRecordLine(std::string& out, const RequestRecord& record);

// Replaces every occurrence of each of `secrets` in `text` with "[REDACTED]".
void redactSecrets(std::string& text, const std::vector<std::string>& secrets);
// Replaces strings that look like credentials (sk-…, Bearer …, AIza…, AKIA…) with "[REDACTED]".
void redactCredentialPatterns(std::string& text);
// A captured body: at most `max` bytes (on a UTF-8 boundary), `secrets` and credential
// patterns redacted before the cut, so a secret the cut would split is still recognized.
std::string captureBody(std::string_view body, size_t max, const std::vector<std::string>& secrets,
                        bool* truncated);

}  // namespace aigw::log
