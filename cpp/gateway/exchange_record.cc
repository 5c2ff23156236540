// The Exchange's request-log record: what the RecordingWriter saw reach the client, plus the
// request, route and attempts, written to the worker's journal exactly once per admitted
// request (see docs/logging.md).
#include "gateway/exchange_record.h"

#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/echo.h"
#include "core/json_parse.h"
#include "gateway/config.h"
#include "gateway/exchange.h"
#include "gateway/worker.h"
#include "guardrails/request_guardrails.h"
#include "log/request_record.h"

namespace aigw {
namespace {

// The type and message of an OpenAI-shaped (or Anthropic-shaped) error body.
void errorFromBody(std::string_view body, RecordState* state) {
  if (body.empty() || body.size() > (1u << 20)) return;
  const nlohmann::json doc = parseJson(body);
  if (!doc.is_object()) return;
  auto it = doc.find("error");
  if (it == doc.end()) return;
  if (it->is_string()) {
    state->noteError("", it->get_ref<const std::string&>());
  } else if (it->is_object()) {
    auto t = it->find("type");
    auto m = it->find("message");
    state->noteError(t != it->end() && t->is_string() ? std::string_view(t->get_ref<const std::string&>()) : "",
                     m != it->end() && m->is_string() ? std::string_view(m->get_ref<const std::string&>()) : "");
  }
}

}  // namespace

void RecordingWriter::firstByte() {
  if (state_.first_byte_ns == 0) state_.first_byte_ns = monotonicNs();
}

void RecordingWriter::capture(std::string_view data) {
  const log::LogSettings& s = owner_.config().log();
  if (!s.bodies || state_.response_truncated) return;
  const size_t room = s.max_body_bytes + 256 - std::min(state_.response_body.size(), s.max_body_bytes + 256);
  if (data.size() > room) {
    state_.response_body.append(data.substr(0, room));
    state_.response_truncated = true;
  } else {
    state_.response_body.append(data);
  }
}

void RecordingWriter::respond(int status, const http::HeaderList& headers, std::string_view body) {
  state_.ended = true;
  state_.status = status;
  state_.head_sent = true;
  firstByte();
  capture(body);
  // An error answer the gateway did not make itself (sendError notes its own): read why, if
  // there is a record to say it in.
  if (status >= 400 && state_.error_message.empty() && owner_.worker().journal() != nullptr) {
    errorFromBody(body, &state_);
  }
  owner_.writeRecord(false);
  next_.respond(status, headers, body);
}

void RecordingWriter::writeHead(int status, const http::HeaderList& headers, int64_t content_length) {
  state_.status = status;
  state_.head_sent = true;
  next_.writeHead(status, headers, content_length);
}

void RecordingWriter::writeBody(std::string_view data) {
  if (!data.empty()) {
    firstByte();
    capture(data);
  }
  next_.writeBody(data);
}

void RecordingWriter::endResponse() {
  state_.ended = true;
  owner_.writeRecord(false);
  next_.endResponse();
}

void RecordingWriter::resetConnection() {
  state_.ended = true;
  state_.reset = true;
  if (state_.head_sent) state_.partial = true;
  if (state_.error_message.empty()) {
    state_.error_type = "connection_reset";
    state_.error_message = state_.head_sent ? "the response was cut by a connection reset"
                                            : "the connection was reset without a response";
  }
  owner_.writeRecord(false);
  next_.resetConnection();
}

void RecordingWriter::onEvent(AnswerEvent e) {
  if (e != AnswerEvent::ClientGone) return;
  state_.ended = true;
  owner_.writeRecord(true);
}

void Exchange::writeRecord(bool client_gone) {
  if (rec_.written || rec_.skip) return;
  rec_.written = true;
  // Checks still in flight will not decide anything for this request any more.
  if (guardrails_) guardrails_->cutShort();
  log::Journal* journal = worker_.journal();
  if (journal == nullptr) return;
  const log::LogSettings& settings = config().log();
  const uint64_t now = monotonicNs();

  log::RequestRecord r;
  r.id = id_;
  r.ts_start_ms = rec_.start_wall_ms;
  r.ts_end_ms = wallMs();
  r.method = request_.method;
  r.path = echoed(request_.path(), kEchoMaxBytes * 4);
  const bool api = api_.route != nullptr || api_.provider != nullptr;
  if (api) r.endpoint = endpointName(api_.endpoint);
  r.model = echoed(api_.model);
  const router::Route* route = attempts_ ? attempts_->currentRoute() : api_.route;
  if (route != nullptr) r.route = route->name;
  std::string_view upstream_model = api_.model;
  const Provider* provider = api_.provider;
  if (attempts_) attempts_->answeredBy(&upstream_model, &provider);
  if (provider != nullptr) {
    r.provider = provider->name();
    r.upstream_model = upstream_model;
  }
  r.status = rec_.status;
  r.latency_ms = static_cast<double>(now - start_ns_) / 1e6;
  if (rec_.first_byte_ns != 0) r.ttft_ms = static_cast<double>(rec_.first_byte_ns - start_ns_) / 1e6;
  r.stream = api_.stream;
  r.prompt_tokens = rec_.usage.prompt_tokens;
  r.completion_tokens = rec_.usage.completion_tokens;
  r.cost_usd = rec_.cost_usd;
  if (attempts_) r.attempts = attempts_->routes().records(now, client_gone ? "cancelled: the client went away" : "unfinished");
  if (guardrails_) {
    r.guardrails.reserve(guardrails_->results().size());
    for (const guardrails::GuardrailResult& g : guardrails_->results()) {
      nlohmann::json one = {{"name", g.name()},
                            {"kind", g.guardrail->settings().kind},
                            {"stage", guardrails::stageName(g.stage)},
                            {"verdict", g.cancelled ? "cancelled" : guardrails::verdictName(g.verdict)},
                            {"duration_ms", static_cast<double>(g.duration_us) / 1000.0},
                            {"error", g.error ? nlohmann::json(g.error_reason) : nlohmann::json()},
                            {"timeout", g.timeout}};
      r.guardrails.push_back(one.dump());
    }
  }
  r.client_aborted = client_gone;
  r.partial = rec_.partial || (client_gone && rec_.head_sent);
  if (client_gone && rec_.error_message.empty()) {
    r.error_type = "client_disconnected";
    r.error_message = rec_.head_sent ? "the client went away before the response ended"
                                     : "the client went away before an answer";
  } else {
    r.error_type = std::move(rec_.error_type);
    r.error_message = std::move(rec_.error_message);
  }
  if (settings.bodies) {
    r.has_bodies = true;
    if (!request_.body_streamed) {
      r.request_body = log::captureBody(request_.body, settings.max_body_bytes, settings.secrets, &r.request_body_truncated);
    } else {
      r.request_body_truncated = true;  // streamed uploads are not captured
    }
    r.response_body = log::captureBody(rec_.response_body, settings.max_body_bytes, settings.secrets,
                                        &r.response_body_truncated);
    r.response_body_truncated = r.response_body_truncated || rec_.response_truncated;
  }

  std::string line;
  line.reserve(512 + r.request_body.size() + r.response_body.size());
  log::appendRecordLine(line, r);
  // The configured keys never reach a record, whichever field they found their way into.
  log::redactSecrets(line, settings.secrets);
  journal->append(line);
}

}  // namespace aigw
