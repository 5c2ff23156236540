#include "log/request_record.h"

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

void stringOrNull(std::string& out, const std::string& value) {
  if (value.empty()) {
    out += "null";
  } else {
    appendJsonString(out, value);
  }
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
    if (a.status > 0) {
      appendJsonNumber(out, static_cast<int64_t>(a.status));
    } else {
      out += "null";
    }
    key(out, "duration_ms");
    appendJsonNumber(out, a.duration_ms);
    key(out, "error");
    stringOrNull(out, a.error);
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
  stringOrNull(out, r.endpoint);
  key(out, "model");
  stringOrNull(out, r.model);
  key(out, "route");
  stringOrNull(out, r.route);
  key(out, "provider");
  stringOrNull(out, r.provider);
  key(out, "upstream_model");
  stringOrNull(out, r.upstream_model);
  key(out, "status");
  if (r.status > 0) {
    appendJsonNumber(out, static_cast<int64_t>(r.status));
  } else {
    out += "null";
  }
  key(out, "latency_ms");
  appendJsonNumber(out, r.latency_ms);
  key(out, "ttft_ms");
  if (r.ttft_ms >= 0) {
    appendJsonNumber(out, r.ttft_ms);
  } else {
    out += "null";
  }
  key(out, "stream");
  bool_(out, r.stream);
  key(out, "prompt_tokens");
  if (r.prompt_tokens >= 0) {
    appendJsonNumber(out, r.prompt_tokens);
  } else {
    out += "null";
  }
  key(out, "completion_tokens");
  if (r.completion_tokens >= 0) {
    appendJsonNumber(out, r.completion_tokens);
  } else {
    out += "null";
  }
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
    stringOrNull(out, r.error_type);
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
    if (startsWith(text, i, "sk-") || startsWith(text, i, "pk-") || startsWith(text, i, "rk-")) {
      prefix = 3;
      min_rest = 16;
    } else if (startsWith(text, i, "sk_") || startsWith(text, i, "pk_")) {
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

std::string captureBody(std::string_view body, size_t max, bool* truncated) {
  // Redact first, with some slack past the cap, so a key cut by the cap is still recognized.
  std::string out(body.substr(0, max + 256));
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
