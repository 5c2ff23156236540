// The AnswerGate alone: closed, it keeps what the Exchange writes (and says the head went out,
// and blocks past its bound); opened, it lets it out in order; discarded, nothing went out.
#include "guardrails/answer_gate.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace aigw {
namespace {
using guardrails::AnswerGate;

// Records each call as one line.
class RecordingSink final : public http::ResponseWriter {
 public:
  void respond(int status, const http::HeaderList& headers, std::string_view body) override {
    calls.push_back("respond " + std::to_string(status) + " " + headerOf(headers) + " " + std::string(body));
    head = true;
  }
  void writeHead(int status, const http::HeaderList& headers, int64_t length) override {
    calls.push_back("head " + std::to_string(status) + " " + headerOf(headers) + " " + std::to_string(length));
    head = true;
  }
  void writeBody(std::string_view data) override { calls.push_back("body " + std::string(data)); }
  void endResponse() override { calls.push_back("end"); }
  void resetConnection() override { calls.push_back("reset"); }
  bool writeBlocked() const override { return blocked; }
  bool headSent() const override { return head; }
  void pauseRequestBody() override {}
  void resumeRequestBody() override {}

  std::vector<std::string> calls;
  bool head = false;
  bool blocked = false;

 private:
  static std::string headerOf(const http::HeaderList& h) {
    const std::string* v = h.find("x-test");
    return v != nullptr ? *v : "-";
  }
};

http::HeaderList headers() {
  http::HeaderList h;
  h.add("x-test", "t");
  return h;
}

TEST(AnswerGate, OpenPassesEverythingThrough) {
  RecordingSink sink;
  AnswerGate gate(sink);
  gate.writeHead(200, headers(), -1);
  gate.writeBody("a");
  EXPECT_TRUE(gate.headSent());
  sink.blocked = true;
  EXPECT_TRUE(gate.writeBlocked());
  gate.endResponse();
  EXPECT_EQ(sink.calls, (std::vector<std::string>{"head 200 t -1", "body a", "end"}));
}

TEST(AnswerGate, ClosedItHoldsAStreamAndLetsItOutInOrder) {
  RecordingSink sink;
  AnswerGate gate(sink);
  gate.close();
  EXPECT_FALSE(gate.headSent());
  gate.writeHead(200, headers(), -1);
  EXPECT_TRUE(gate.headSent());  // to the Exchange the answer has started
  gate.writeBody("one ");
  gate.writeBody("two");
  EXPECT_TRUE(sink.calls.empty());
  gate.open();
  EXPECT_EQ(sink.calls, (std::vector<std::string>{"head 200 t -1", "body one two"}));
  gate.writeBody(" three");  // open: straight through
  gate.endResponse();
  EXPECT_EQ(sink.calls.back(), "end");
  EXPECT_EQ(sink.calls.size(), 4u);
}

TEST(AnswerGate, ClosedItHoldsAWholeAnswerAndAnEnd) {
  RecordingSink sink;
  AnswerGate gate(sink);
  gate.close();
  gate.respond(502, headers(), "{\"error\":{}}");
  EXPECT_TRUE(sink.calls.empty());
  gate.open();
  EXPECT_EQ(sink.calls, (std::vector<std::string>{"respond 502 t {\"error\":{}}"}));

  RecordingSink sink2;
  AnswerGate gate2(sink2);
  gate2.close();
  gate2.writeHead(200, headers(), 3);
  gate2.writeBody("abc");
  gate2.endResponse();
  gate2.open();
  EXPECT_EQ(sink2.calls, (std::vector<std::string>{"head 200 t 3", "body abc", "end"}));

  RecordingSink sink3;
  AnswerGate gate3(sink3);
  gate3.close();
  gate3.writeHead(200, headers(), 10);
  gate3.writeBody("abc");
  gate3.resetConnection();
  gate3.open();
  EXPECT_EQ(sink3.calls, (std::vector<std::string>{"head 200 t 10", "body abc", "reset"}));
}

TEST(AnswerGate, ClosedItBlocksWritesPastItsBound) {
  RecordingSink sink;
  AnswerGate gate(sink);
  gate.close();
  gate.writeHead(200, headers(), -1);
  gate.writeBody(std::string(AnswerGate::kMaxHeld, 'x'));
  EXPECT_FALSE(gate.writeBlocked());
  gate.writeBody("y");
  EXPECT_TRUE(gate.writeBlocked());  // the provider call stops reading until the gate opens
  gate.open();
  EXPECT_FALSE(gate.writeBlocked());
  ASSERT_EQ(sink.calls.size(), 2u);
  EXPECT_EQ(sink.calls[1].size(), std::string("body ").size() + AnswerGate::kMaxHeld + 1);
}

TEST(AnswerGate, DiscardDropsWhatWasHeld) {
  RecordingSink sink;
  AnswerGate gate(sink);
  gate.close();
  gate.writeHead(200, headers(), -1);
  gate.writeBody("secret");
  gate.endResponse();
  gate.discard();
  EXPECT_TRUE(sink.calls.empty());
  EXPECT_FALSE(gate.headSent());
  gate.respond(400, headers(), "blocked");
  EXPECT_EQ(sink.calls, (std::vector<std::string>{"respond 400 t blocked"}));
}

}  // namespace
}  // namespace aigw
