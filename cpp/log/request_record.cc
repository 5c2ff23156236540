#include "log/request_record.h"

#include <algorithm>
#include <cstring>

#include "core/json_text.h"

namespace aigw::log {
namespace {

constexpr std::string_view kRedacted = "[REDACTED]";

void key(std::string& out, const char* name) {
  out += ",\"";
  out += name;
  out += "\":";
}

void bool_(std::string& out, bool value) { out += value ? "true" : "false"; }

bool tokenChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.';
}

// Length of the run of token characters at `at`.
size_t tokenRun(const std::string& text, size_t at) {
  size_t n = 0;
  while (at + n < text.size() && tokenChar(text[at + n])) ++n;
  return n;
}

bool startsWith(const std::string& text, size_t at, std::string_view prefix) {
  return text.compare(at, prefix.size(), prefix) == 0;
}

}  // namespace

void appendAttempts(std::string& out, const std::vector<AttemptRecord>& attempts) {
  out += "[";
  for (size_t i = 0; i < attempts.size(); ++i) {
    const AttemptRecord& a = attempts[i];
    if (i > 0) out += ",";
    out += "{\"target\":";
    appendJsonString(out, a.target);
    key(out, "provider");
    appendJsonString(out, a.provider);
    key(out, "model");
    appendJsonString(out, a.model);
    key(out, "status");
    appendJsonNumberOrNull(out, static_cast<int64_t>(a.status > 0 ? a.status : -1));
    key(out, "duration_ms");
    appendJsonNumber(out, a.duration_ms);
    key(out, "error");
    appendJsonStringOrNull(out, a.error);
    out += "}";
  }
  out += "]";
}

void appendRecordLine(std::string& out, const RequestRecord& r) {
  out += "{\"id\":";
  appendJsonString(out, r.id);
  key(out, "ts_start");
  appendJsonNumber(out, static_cast<int64_t>(r.ts_start_ms));
  key(out, "ts_end");
  appendJsonNumber(out, static_cast<int64_t>(r.ts_end_ms));
  key(out, "method");
  appendJsonString(out, r.method);
  key(out, "path");
  appendJsonString(out, r.path);
  key(out, "endpoint");
  appendJsonStringOrNull(out, r.endpoint);
  key(out, "model");
  appendJsonStringOrNull(out, r.model);
  key(out, "route");
  appendJsonStringOrNull(out, r.route);
  key(out, "provider");
  appendJsonStringOrNull(out, r.provider);
  key(out, "upstream_model");
  appendJsonStringOrNull(out, r.upstream_model);
  key(out, "status");
  appendJsonNumberOrNull(out, static_cast<int64_t>(r.status > 0 ? r.status : -1));
  key(out, "latency_ms");
  appendJsonNumber(out, r.latency_ms);
  key(out, "ttft_ms");
  appendJsonNumberOrNull(out, r.ttft_ms);
  key(out, "stream");
  bool_(out, r.stream);
  key(out, "prompt_tokens");
  appendJsonNumberOrNull(out, r.prompt_tokens);
  key(out, "completion_tokens");
  appendJsonNumberOrNull(out, r.completion_tokens);
  key(out, "cost_usd");
  if (r.cost_usd) {
    appendJsonNumber(out, *r.cost_usd);
  } else {
    out += "null";
  }
  key(out, "attempts");
  appendAttempts(out, r.attempts);
  key(out, "guardrails");
  out += "[";
  for (size_t i = 0; i < r.guardrails.size(); ++i) {
    if (i > 0) out += ",";
    out += r.guardrails[i];
  }
  out += "]";
  key(out, "error");
  if (r.error_type.empty() && r.error_message.empty()) {
    out += "null";
  } else {
    out += "{\"type\":";
    appendJsonStringOrNull(out, r.error_type);
    out += ",\"message\":";
    appendJsonString(out, r.error_message);
    out += "}";
  }
  key(out, "client_aborted");
  bool_(out, r.client_aborted);
  key(out, "partial");
  bool_(out, r.partial);
  if (r.has_bodies) {
    key(out, "request_body");
    appendJsonString(out, r.request_body);
    key(out, "response_body");
    appendJsonString(out, r.response_body);
    key(out, "bodies_truncated");
    bool_(out, r.request_body_truncated || r.response_body_truncated);
  }
  out += "}\n";
}

void redactSecrets(std::string& text, const std::vector<std::string>& secrets) {
  for (const std::string& secret : secrets) {
    if (secret.empty()) continue;
    size_t at = 0;
    while ((at = text.find(secret, at)) != std::string::npos) {
      text.replace(at, secret.size(), kRedacted);
      at += kRedacted.size();
    }
  }
}

void redactCredentialPatterns(std::string& text) {
  for (size_t i = 0; i < text.size(); ++i) {
    // Only at the start of a token: "task-force" is not a key.
    if (i > 0 && tokenChar(text[i - 1])) continue;
    size_t prefix = 0, min_rest = 0;
    if (startsWith(text, i, "sk-") || startsWith(text, i, "pk-") || startsWith(text, i, "rk-") ||
        startsWith(text, i, "sk_") || startsWith(text, i, "pk_")) {
      prefix = 3;
      min_rest = 16;
    } else if (startsWith(text, i, "AIza")) {
      prefix = 4;
      min_rest = 30;
    } else if (startsWith(text, i, "AKIA")) {
      prefix = 4;
      min_rest = 16;
    } else if (startsWith(text, i, "Bearer ") || startsWith(text, i, "bearer ")) {
      const size_t run = tokenRun(text, i + 7);
      if (run >= 8) text.replace(i + 7, run, kRedacted);
      continue;
    } else {
      continue;
    }
    const size_t run = tokenRun(text, i + prefix);
    if (run >= min_rest) text.replace(i, prefix + run, kRedacted);
  }
}

std::string captureBody(std::string_view body, size_t max, const std::vector<std::string>& secrets,
                        bool* truncated) {
  // Redact first, with slack past the cap (a key pattern's length, or the longest secret), so
  // a secret cut by the cap is still recognized whole.
  size_t slack = 256;
  for (const std::string& s : secrets) slack = std::max(slack, s.size());
  std::string out(body.substr(0, max + slack));
  redactSecrets(out, secrets);
  redactCredentialPatterns(out);
  *truncated = body.size() > max || out.size() > max;
  if (out.size() > max) {
    size_t n = max;
    // Back off to a UTF-8 boundary so the cut does not leave a replacement character.
    while (n > 0 && (static_cast<unsigned char>(out[n]) & 0xc0) == 0x80) --n;
    out.resize(n);
  }
  return out;
}

}  // namespace aigw::log
