// The stream stage: decodes an OpenAI SSE answer, runs the stream guardrails over each
// choice's text through a window that holds back the last K bytes (K: the longest lookback
// of the selected guardrails), so a match split across chunks is seen whole before any of it
// leaves, and re-encodes the events with the text that may go out. Held text is flushed at the
// choice's finish_reason, at [DONE], and when the upstream ends.
//
// Asynchronous guardrails (Python) make a window wait for their verdicts. The events behind it
// queue up in order (the host pauses the upstream past kMaxQueued bytes); when the verdicts
// come, the queue goes on, and the text of every queued chunk but the last of a run joins the
// next window unchecked, so one check covers what arrived while the last one ran.
#pragma once

#include <nlohmann/json.hpp>

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/event_loop.h"
#include "guardrails/stage_run.h"
#include "guardrails/text_views.h"
#include "http/sse.h"
#include "providers/provider.h"

namespace aigw::guardrails {

class RequestGuardrails;

// What a StreamGuard reports to, and asks of, its owner (the Exchange). Every call comes on the
// loop thread; none comes after StreamGuard::detach().
class StreamHost {
 public:
  virtual ~StreamHost() = default;
  // Bytes (whole SSE events) that may go to the client now, in order.
  virtual void streamOut(std::string_view bytes) = 0;
  // A guardrail blocked (RequestGuardrails::blocked() says how): nothing more comes out.
  virtual void streamBlocked() = 0;
  // After finish(): everything held went out; the answer may end.
  virtual void streamFinished() = 0;
  // The queue fell back under kMaxQueued: the upstream may be read again.
  virtual void streamDrained() = 0;
  // Starts an asynchronous check; `subject` gives the request as Python sees it.
  virtual AsyncCheckPtr startStreamCheck(const Guardrail& g, const CheckInput& in,
                                         std::function<std::string_view()> subject, CheckDone done) = 0;
  // The request subject (`"request":{...}`) for a check, appended to `out`.
  virtual void appendStreamSubject(std::string& out) = 0;
  // Releases something that may be on the stack (a finished check, a settled run) later.
  virtual void releaseLater(DeferredDeletablePtr p) = 0;
};

class StreamGuard final : public DeferredDeletable, private StageHost {
 public:
  StreamGuard(RequestGuardrails& req, Endpoint endpoint, StreamHost& host);
  ~StreamGuard() override;
  StreamGuard(const StreamGuard&) = delete;
  StreamGuard& operator=(const StreamGuard&) = delete;

  // Upstream SSE bytes in; what may go out reaches the host (now, or when verdicts come).
  void feed(std::string_view bytes);
  // The upstream ended: what is still held is checked as final, then streamFinished().
  void finish();
  // Stops for good: running checks are cancelled and the host hears nothing more. The owner
  // then releases the guard through deferred deletion (it may be on the stack).
  void detach();
  // More than kMaxQueued bytes wait behind a window's checks: stop reading the upstream.
  bool full() const { return queued_bytes_ > kMaxQueued; }

  // Text held for one choice past this size is checked as final (redacting an open match to
  // its end) and let go: the window is bounded even under a match that never ends.
  static constexpr size_t kMaxHeld = 256 * 1024;
  static constexpr size_t kMaxQueued = 64 * 1024;

 private:
  struct Choice {
    int64_t index = 0;
    std::string pending;  // checked up to the window, not yet sent
  };
  struct Item {
    enum class Kind : uint8_t { Event, TooBig, End };
    Kind kind = Kind::Event;
    std::string data;
    std::string event;
  };
  // Where the front item's processing stands (it may wait for a window's verdicts midway).
  struct Progress {
    bool parsed = false;
    bool is_chunk = false;  // a JSON object with a choices array
    nlohmann::json doc;
    size_t next = 0;        // the next choice of doc (or of choices_ while flushing)
    bool changed = false;
    std::string original;   // the text the chunk brought for the choice being checked
  };
  class WindowRun;

  static void onEvent(void* self, const http::SseDecoder::Event& e);
  // Processes queued items until one waits for verdicts, then hands out what may go out.
  void pump();
  // Processes one item (its bytes: `data`, `event`) as far as it goes; false: it waits for a
  // window's verdicts (cur_ keeps its place; settled() goes on).
  bool step(Item& item, std::string_view data, std::string_view event);
  bool stepChunk(std::string_view data, std::string_view event);
  // Sends what every choice still holds (at [DONE] or the end); false: waiting.
  bool flush();
  void tooBig();
  size_t choiceAt(int64_t index);  // choices_ position of a choice index (added if new)
  // Starts the checks of a window of choices_[choice]; true when they are done (window_out_
  // holds what may go out, or blocked_ is set), false when verdicts are awaited.
  bool startWindow(size_t choice, bool final);
  void endWindow(const StageOutcome& outcome);
  void append(std::string_view data, std::string_view event_name);
  void release();

  // StageHost
  AsyncCheckPtr startCheck(const Guardrail& g, const CheckInput& in, CheckDone done) override;
  void dropCheck(AsyncCheckPtr check) override;
  void settled(StageOutcome outcome) override;

  RequestGuardrails& req_;
  Endpoint endpoint_;
  StreamHost& host_;
  http::SseDecoder decoder_;
  bool has_async_ = false;  // a selected stream guardrail is asynchronous
  std::deque<Item> queue_;
  size_t queued_bytes_ = 0;
  Progress cur_;
  std::vector<Choice> choices_;
  nlohmann::json last_chunk_;  // id, object, created, model of the last chunk (for flushes)
  std::string out_;            // what may go out, handed to the host at the end of pump()
  // The window being checked.
  TextRefs window_texts_;
  size_t window_settled_ = 0;
  size_t window_choice_ = 0;
  std::string window_out_;
  bool window_done_ = false;  // its verdicts came: the front item goes on from there
  std::unique_ptr<WindowRun> run_;
  std::string subject_;  // the request as Python sees it, built on the first async check
  bool blocked_ = false;
  bool done_ = false;      // [DONE] passed
  bool ended_ = false;     // the End item passed: streamFinished() is due
  bool detached_ = false;
  bool pumping_ = false;
  // Until the first text may go out, events without text (the role chunk) wait here too: a
  // block before any text left is then still a clean error response instead of a cut stream.
  std::string early_;
  bool released_ = false;
};

}  // namespace aigw::guardrails
