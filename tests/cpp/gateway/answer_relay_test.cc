// The AnswerRelay alone, on a request with no route: what it holds back, what it writes into the
// response stages and when, and what it tells the loop. (Routed attempts, where a failure is
// held for a retry decision, are driven through the whole loop in routing_test.cc.)
#include "gateway/answer_relay.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "gateway/config.h"

namespace aigw {
namespace {

// Records each write as one line; long bodies by their size.
class RecordingWire final : public http::ResponseWriter {
 public:
  void respond(int status, const http::HeaderList& headers, std::string_view body) override {
    calls.push_back("respond " + std::to_string(status) + " " + shown(body));
    last_body = body;
    const std::string* after = headers.find("retry-after");
    last_retry_after = after != nullptr ? *after : "";
    head = true;
  }
  void writeHead(int status, const http::HeaderList& headers, int64_t length) override {
    const std::string* id = headers.find("x-aigw-request-id");
    calls.push_back("head " + std::to_string(status) + " " + std::to_string(length) + (id != nullptr ? " " + *id : ""));
    head = true;
  }
  void writeBody(std::string_view data) override { calls.push_back("body " + shown(data)); }
  void endResponse() override { calls.push_back("end"); }
  void resetConnection() override { calls.push_back("reset"); }
  bool writeBlocked() const override { return blocked; }
  bool headSent() const override { return head; }
  void pauseRequestBody() override { calls.push_back("pause"); }
  void resumeRequestBody() override { calls.push_back("resume"); }

  std::vector<std::string> calls;
  std::string last_body;
  std::string last_retry_after;
  bool head = false;
  bool blocked = false;

 private:
  static std::string shown(std::string_view b) {
    return b.size() > 64 ? std::to_string(b.size()) + " bytes" : std::string(b);
  }
};

class RecordingOutcomes final : public AttemptOutcomes {
 public:
  void attemptAnswered(int status) override { calls.push_back("answered " + std::to_string(status)); }
  void attemptFailed(std::unique_ptr<HeldResponse> answer, const CallUsage&) override {
    calls.push_back("failed " + std::to_string(answer->status) + " " + answer->body);
  }
  void attemptEnded(int status) override { calls.push_back("ended " + std::to_string(status)); }
  void attemptErrored(CallErrorKind, const std::string& message, bool head_sent) override {
    calls.push_back("errored " + message + (head_sent ? " after the head" : " before the head"));
  }
  std::vector<std::string> calls;
};

// One call event: "head <status> <length> [sse]", "body <text>", "big" (a body past the hold
// bound), "end", "error <message>".
struct Case {
  const char* name;
  std::vector<std::string> events;
  std::vector<std::string> wire;
  std::vector<std::string> outcomes;
  bool finished;
};

void play(AnswerRelay& relay, const std::string& event) {
  if (event.rfind("head ", 0) == 0) {
    int status = 0;
    long long length = 0;
    char kind[8] = "";
    ASSERT_GE(std::sscanf(event.c_str(), "head %d %lld %7s", &status, &length, kind), 2);
    http::HeaderList h;
    h.add("content-type", std::string(kind) == "sse" ? "text/event-stream" : "application/json");
    relay.onCallHead(status, std::move(h), length);
  } else if (event.rfind("body ", 0) == 0) {
    relay.onCallBody(event.substr(5));
  } else if (event == "big") {
    relay.onCallBody(std::string(AnswerRelay::kMaxHeldBody + 1, 'x'));
  } else if (event == "end") {
    relay.onCallEnd(CallUsage{});
  } else if (event.rfind("error ", 0) == 0) {
    relay.onCallError(CallErrorKind::Connect, event.substr(6));
  } else {
    FAIL() << "unknown event " << event;
  }
}

// A relay on a POST with no route, writing into a RecordingWire.
struct Harness {
  Harness() {
    http.method = "POST";
    relay.start(out);
  }
  ApiCall api;
  http::Request http;
  std::mt19937_64 rng{1};
  RouteAttempts routes{api, http, rng};
  const std::string id = "req-1";
  ServerSettings server;
  RecordState record;
  RecordingOutcomes outcomes;
  RecordingWire wire;
  ResponseStage out{wire};
  AnswerRelay relay{routes, http, id, server, record, outcomes};
};

class AnswerRelayCases : public ::testing::TestWithParam<Case> {};

TEST_P(AnswerRelayCases, Relays) {
  const Case& c = GetParam();
  Harness h;
  for (const std::string& e : c.events) play(h.relay, e);
  EXPECT_EQ(h.wire.calls, c.wire);
  EXPECT_EQ(h.outcomes.calls, c.outcomes);
  EXPECT_EQ(h.relay.finished(), c.finished);
}

INSTANTIATE_TEST_SUITE_P(
    Unrouted, AnswerRelayCases,
    ::testing::Values(
        Case{"SmallAnswerIsHeldUntilItsEndAndGoesOutInOneWrite",
             {"head 200 5", "body he", "body llo", "end"},
             {"respond 200 hello"},
             {"answered 200", "ended 200"},
             true},
        Case{"EventStreamWithNoRouteGoesOutAsItComes",
             {"head 200 -1 sse", "body data: a", "end"},
             {"head 200 -1 req-1", "body data: a", "end"},
             {"answered 200", "ended 200"},
             true},
        Case{"AnswerPastTheHoldBoundIsCommittedAndRelayedAsItComes",
             {"head 200 -1", "big", "body tail", "end"},
             {"head 200 -1 req-1", "body 8388609 bytes", "body tail", "end"},
             {"answered 200", "ended 200"},
             true},
        Case{"NoContentIsNotHeld",
             {"head 204 0", "end"},
             {"head 204 0 req-1", "end"},
             {"answered 204", "ended 204"},
             true},
        Case{"ErrorBeforeTheHeadIsTheLoopsToAnswer",
             {"error refused"},
             {},
             {"errored refused before the head"},
             false},
        Case{"ErrorWhileAnAnswerIsHeldDropsItUnsent",
             {"head 200 10", "body hello", "error reset"},
             {},
             {"answered 200", "errored reset before the head"},
             false},
        Case{"ErrorAfterAStreamsHeadWentOutSaysSo",
             {"head 200 -1 sse", "body data: a", "error gone"},
             {"head 200 -1 req-1", "body data: a"},
             {"answered 200", "errored gone after the head"},
             false}),
    [](const ::testing::TestParamInfo<Case>& info) { return std::string(info.param.name); });

TEST(AnswerRelay, StoppedItIgnoresTheCallAndReportsItselfBlocked) {
  Harness h;
  EXPECT_FALSE(h.relay.callBlocked());
  h.wire.blocked = true;
  EXPECT_TRUE(h.relay.callBlocked());  // nothing held: the client's backpressure is the call's
  h.wire.blocked = false;
  h.relay.stop();
  EXPECT_TRUE(h.relay.callBlocked());
  h.relay.onCallHead(200, {}, 1);
  h.relay.onCallBody("x");
  h.relay.onCallEnd(CallUsage{});
  EXPECT_TRUE(h.wire.calls.empty());
  EXPECT_TRUE(h.outcomes.calls.empty());
}

TEST(AnswerRelay, SendErrorAnswersWithAnOpenAiErrorAndRetryAfter) {
  Harness h;
  h.relay.sendError(503, "no target", "service_unavailable", {}, 2);
  ASSERT_EQ(h.wire.calls.size(), 1u);
  EXPECT_EQ(h.wire.calls[0].rfind("respond 503 ", 0), 0u) << h.wire.calls[0];
  EXPECT_NE(h.wire.last_body.find("\"message\":\"no target\""), std::string::npos) << h.wire.last_body;
  EXPECT_EQ(h.wire.last_retry_after, "2");
  EXPECT_TRUE(h.relay.finished());
  EXPECT_EQ(h.relay.status(), 503);
  EXPECT_FALSE(h.record.relayed);
}

}  // namespace
}  // namespace aigw
