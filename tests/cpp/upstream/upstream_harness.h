// Drives a DnsCache, an UpstreamPool and UpstreamCalls on the test thread: the test owns the
// loop and runs it (uv_run once at a time) until what it waits for has happened, with a
// deadline so a broken case fails instead of hanging.
#pragma once

#include <gtest/gtest.h>
#include <uv.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/event_loop.h"
#include "loop_driver.h"
#include "upstream/dns_cache.h"
#include "upstream/origin.h"
#include "upstream/upstream_call.h"
#include "upstream/upstream_pool.h"

namespace aigw::testing {

// What an UpstreamCall reported.
struct CallRecord final : upstream::UpstreamCall::Listener {
  int heads = 0;
  int status = 0;
  http::HeaderList headers;
  int64_t content_length = -2;
  std::string body;
  bool completed = false;
  bool failed = false;
  CallErrorKind kind = CallErrorKind::Internal;
  std::string error;
  uint64_t done_at_ms = 0;
  uv_loop_t* loop = nullptr;
  std::function<void()> on_body;  // optional hook, runs after each body piece
  std::function<void()> on_done;  // optional hook, runs once the call ended either way

  bool done() const { return completed || failed; }
  void onUpstreamHead(int s, http::HeaderList& h, int64_t cl) override {
    ++heads;
    status = s;
    headers = h;
    content_length = cl;
  }
  void onUpstreamBody(std::string_view data) override {
    body.append(data);
    if (on_body) on_body();
  }
  void onUpstreamComplete() override {
    EXPECT_FALSE(done()) << "second end";
    completed = true;
    done_at_ms = uv_now(loop);
    if (on_done) on_done();
  }
  void onUpstreamError(CallErrorKind k, const std::string& e) override {
    EXPECT_FALSE(done()) << "second end: " << e;
    failed = true;
    kind = k;
    error = e;
    done_at_ms = uv_now(loop);
    if (on_done) on_done();
  }
};

inline const char* kindName(CallErrorKind k) {
  switch (k) {
    case CallErrorKind::Connect: return "Connect";
    case CallErrorKind::Timeout: return "Timeout";
    case CallErrorKind::Reset: return "Reset";
    case CallErrorKind::Protocol: return "Protocol";
    case CallErrorKind::Overflow: return "Overflow";
    case CallErrorKind::Internal: return "Internal";
  }
  return "?";
}

// A call and the record it reports to (the record outlives the call).
struct TestCall {
  CallRecord rec;
  std::unique_ptr<upstream::UpstreamCall> call;
  std::string describe() const {
    if (rec.completed) return "completed " + std::to_string(rec.status) + " body=" + rec.body;
    if (rec.failed) return std::string("failed ") + kindName(rec.kind) + ": " + rec.error;
    return "not done";
  }
};

inline std::string getRequest(const std::string& path = "/v1/models") {
  return "GET " + path + " HTTP/1.1\r\nhost: upstream\r\n\r\n";
}

inline std::string postRequest(const std::string& body, const std::string& path = "/v1/chat/completions") {
  return "POST " + path + " HTTP/1.1\r\nhost: upstream\r\ncontent-type: application/json\r\ncontent-length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

class UpstreamHarness {
 public:
  UpstreamHarness() : dns_(loop_.uv(), 60000) {}
  ~UpstreamHarness() { teardown(); }

  EventLoop& loop() { return loop_; }
  upstream::DnsCache& dns() { return dns_; }
  upstream::UpstreamPool& pool() { return *pool_; }

  upstream::UpstreamPool& makePool(const std::string& base_url, upstream::PoolOptions options = {}) {
    upstream::Origin origin;
    std::string error;
    EXPECT_TRUE(upstream::parseBaseUrl(base_url, &origin, &error)) << error;
    pool_ = std::make_unique<upstream::UpstreamPool>(loop_, dns_, origin, nullptr, options);
    return *pool_;
  }

  TestCall& startCall(std::string request, upstream::CallTimeouts timeouts = {}) {
    calls_.push_back(std::make_unique<TestCall>());
    TestCall& c = *calls_.back();
    c.rec.loop = loop_.uv();
    c.call = std::make_unique<upstream::UpstreamCall>(loop_, *pool_, timeouts, c.rec);
    c.call->start(std::move(request));
    return c;
  }

  // Runs the loop until `pred` holds or `timeout_ms` passes; returns pred() (loop_driver.h).
  bool runUntil(const std::function<bool()>& pred, uint64_t timeout_ms = 5000) {
    return testing::runUntil(loop_, pred, timeout_ms);
  }
  bool runUntilDone(const TestCall& c, uint64_t timeout_ms = 5000) {
    return runUntil([&c] { return c.rec.done(); }, timeout_ms);
  }
  // Runs the loop for `ms` whatever happens (to show that something does NOT happen).
  void runFor(uint64_t ms) { testing::runFor(loop_, ms); }

  void teardown() {
    calls_.clear();
    if (pool_) {
      pool_->shutdown();
      runUntil([this] { return pool_->total() == 0; }, 2000);
      EXPECT_EQ(pool_->total(), 0u) << "connections still open after shutdown";
      pool_.reset();
    }
  }

 private:
  EventLoop loop_;
  upstream::DnsCache dns_;
  std::unique_ptr<upstream::UpstreamPool> pool_;
  std::vector<std::unique_ptr<TestCall>> calls_;
};

}  // namespace aigw::testing
