// The guardrail interface: one check over the texts of a request, a whole answer, or a window
// of a streamed answer, returning a verdict. Built-ins (phrases, regex, limits) implement it in
// C++ and run on the loop thread without the GIL; moderation and Python guardrails are
// asynchronous implementations whose check completes later (StageRun in stage_run.h).
#pragma once

#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/event_loop.h"
#include "providers/provider.h"

namespace aigw::hooks {
class HookQueue;
}

namespace aigw::guardrails {

// Where a guardrail runs (a guardrail may run at several: a bit set). `During` checks the
// request's texts beside the upstream call (during_checks.h); it can only block.
enum class Stage : uint8_t { Input = 1, Output = 2, Stream = 4, During = 8 };
const char* stageName(Stage s);

enum class Verdict : uint8_t { Allow, Block, Rewrite, Redact };
const char* verdictName(Verdict v);

// What a block answers with. An empty message becomes "... blocked by guardrail '<name>'" and
// the guardrail's own reason, when it gives one that reveals no content (limits do).
struct BlockResponse {
  int status = 400;
  std::string message;
  std::string type = "invalid_request_error";
  std::string code = "content_blocked";
};

struct GuardrailSettings {
  std::string name;
  std::string kind;
  uint8_t stages = static_cast<uint8_t>(Stage::Input);
  int64_t priority = 0;          // lower runs first; config order breaks ties
  bool redact = false;           // action: redact (else block)
  bool fail_open = false;        // on_error: allow (else block: fail closed)
  bool is_default = false;       // applies to routes without a `guardrails` key
  bool request_selectable = false;  // may be added by the x-aigw-guardrails header
  bool passthrough = false;      // input: also checks passthrough JSON bodies (every string)
  bool everywhere = false;       // applies to every route, whatever its `guardrails` list says
  BlockResponse block;
  uint32_t index = 0;            // position in the config (ties of priority keep this order)

  bool at(Stage s) const { return (stages & static_cast<uint8_t>(s)) != 0; }
};

// Shared by every worker. `runs` counts stage runs (a whole stream counts once).
struct GuardrailCounters {
  std::atomic<uint64_t> runs{0};
  std::atomic<uint64_t> blocks{0};
  std::atomic<uint64_t> redactions{0};
  std::atomic<uint64_t> errors{0};
  std::atomic<uint64_t> timeouts{0};
  std::atomic<uint64_t> duration_us{0};
  std::atomic<uint64_t> upstream_cancels{0};  // during blocks that cancelled an upstream call in flight
};

// What one check looks at. `texts` point into a document the stage owns: a guardrail that
// redacts or rewrites changes them in place and says so in its verdict.
struct CheckInput {
  Stage stage = Stage::Input;
  Endpoint endpoint = Endpoint::ChatCompletions;
  std::vector<std::string*>* texts = nullptr;
  const nlohmann::json* body = nullptr;  // input: the request document (null elsewhere)
  size_t body_bytes = 0;                 // input: the request body's size
  // Stream stage only: `texts` holds one window (the held-back text of one choice).
  // text[0, *settled) may go to the client after this check; a guardrail lowers it to hold
  // back a match that may still grow, and keeps it in step with its own edits before it.
  // `final`: no more text follows (finish_reason, [DONE] or the end of the stream).
  size_t* settled = nullptr;
  bool final = true;
  int64_t choice = 0;  // stream: the choice's index
};

struct CheckResult {
  Verdict verdict = Verdict::Allow;
  bool error = false;       // the check could not decide: on_error does
  bool timeout = false;     // ... because it ran out of time (counted apart)
  std::string reason;       // why it blocked; shown to the client only when it reveals no content
  bool reason_public = false;
  // Edits from an asynchronous check (a synchronous one edits the texts in place instead),
  // applied by StageRun: Rewrite: the new texts, one per CheckInput text, in order, or a whole
  // new document (`document` not null); Redact: literal replacements in every text.
  std::vector<std::string> rewritten;
  nlohmann::json document;
  std::vector<std::pair<std::string, std::string>> redactions;
  // A block (or a failed-closed error) that answers with its own response instead of the
  // guardrail's configured one (Python verdicts carry theirs).
  std::optional<BlockResponse> block;
  // Stream stage, an asynchronous verdict other than Block: hold back the window's last
  // `*hold` characters (code points, after its edits; kHoldAll: the whole window) until a
  // later window. Ignored on a final window.
  std::optional<size_t> hold;
  static constexpr size_t kHoldAll = SIZE_MAX;
};

// What an asynchronous check may use: the worker's call services (to call a provider), the
// queue to the Python hook thread, and the stage's subject as Python sees it.
struct AsyncCheckContext {
  CallContext& calls;
  std::string_view request_id;
  hooks::HookQueue* hooks = nullptr;
  // JSON object members (no braces) describing what the stage checks, as it is now:
  // `"request":{...}` (input), plus `,"response":{...}` (output). Built on first use.
  std::function<std::string_view()> subject;
};

// An asynchronous check in flight. cancel() stops it for good (its callback never runs);
// the owner then releases it through the loop's deferredDelete.
class AsyncCheck : public DeferredDeletable {
 public:
  virtual void cancel() = 0;
};
using AsyncCheckPtr = std::unique_ptr<AsyncCheck>;
using CheckDone = std::function<void(CheckResult)>;

class Guardrail {
 public:
  explicit Guardrail(GuardrailSettings settings) : settings_(std::move(settings)) {}
  virtual ~Guardrail() = default;
  Guardrail(const Guardrail&) = delete;
  Guardrail& operator=(const Guardrail&) = delete;

  const GuardrailSettings& settings() const { return settings_; }
  const std::string& name() const { return settings_.name; }
  GuardrailCounters& counters() const { return counters_; }

  // Checks synchronously (phrases, regex, limits do).
  virtual CheckResult check(CheckInput& in) const = 0;
  // Asynchronous guardrails (moderation, Python) answer through startCheck() instead: `done`
  // runs on the loop thread, possibly before startCheck() returns, and never after the
  // returned check was cancelled. `in` is valid during the call only: copy what the check
  // needs. Every stage runs them (a stream window waits for its verdicts: stream_guard.h).
  virtual bool asynchronous() const { return false; }
  virtual AsyncCheckPtr startCheck(AsyncCheckContext& ctx, const CheckInput& in, CheckDone done) const {
    return nullptr;
  }
  // The longest text a match can span: streams hold back at least this much so a match split
  // across chunks is seen whole before any of it leaves.
  virtual size_t lookback() const { return 0; }

 private:
  GuardrailSettings settings_;
  mutable GuardrailCounters counters_;
};

class RequestGuardrails;

// Checks in flight for one request (a StageRun waiting for verdicts, the during checks),
// registered with the request's books meanwhile. When the request's record is written while
// they still run (the client left, the deadline passed, the upstream failed mid-stream),
// RequestGuardrails::cutShort() cancels them and books them as cancelled: the record shows
// every check that started.
class RunningChecks {
 public:
  // Cancel what still runs (no callback comes after this), book it as cancelled, leave.
  virtual void cutShort() = 0;

 protected:
  RunningChecks() = default;
  ~RunningChecks() { leaveBooks(); }
  void enterBooks(RequestGuardrails& req);
  void leaveBooks();

 private:
  friend class RequestGuardrails;
  RequestGuardrails* books_ = nullptr;
};

// One guardrail's outcome for one request and stage (kept in the Exchange for the request log).
struct GuardrailResult {
  const Guardrail* guardrail = nullptr;
  Stage stage = Stage::Input;
  Verdict verdict = Verdict::Allow;
  bool error = false;
  bool timeout = false;
  bool cancelled = false;  // a sibling of equal priority blocked first: its verdict never came
  std::string error_reason;
  uint64_t duration_us = 0;
  std::string_view name() const { return guardrail->name(); }
};

}  // namespace aigw::guardrails
