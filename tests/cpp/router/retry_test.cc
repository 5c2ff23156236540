// Retry policy: which failures are retried and count against a target, the jittered backoff,
// Retry-After parsing, classification of real provider error bodies, and the retry budget.
#include "router/retry.h"

#include <gtest/gtest.h>

#include <set>

namespace aigw::router {
namespace {

TEST(RetryPolicy, RetryableFollowsThePolicySwitches) {
  RetryPolicy p;
  for (Failure f : {Failure::Connect, Failure::Protocol, Failure::Timeout, Failure::Status5xx, Failure::Status429}) {
    EXPECT_TRUE(retryable(p, f)) << failureName(f);
  }
  for (Failure f : {Failure::None, Failure::ContextWindow, Failure::ContentPolicy, Failure::StatusFinal}) {
    EXPECT_FALSE(retryable(p, f)) << failureName(f);
  }
  p.on_connect = false;
  EXPECT_FALSE(retryable(p, Failure::Connect));
  EXPECT_FALSE(retryable(p, Failure::Protocol));
  EXPECT_TRUE(retryable(p, Failure::Timeout));
  p.on_timeout = false;
  p.on_5xx = false;
  p.on_429 = false;
  EXPECT_FALSE(retryable(p, Failure::Timeout));
  EXPECT_FALSE(retryable(p, Failure::Status5xx));
  EXPECT_FALSE(retryable(p, Failure::Status429));
}

TEST(RetryPolicy, OnlyTargetFaultsCountAgainstTheBreaker) {
  for (Failure f : {Failure::Connect, Failure::Timeout, Failure::Protocol, Failure::Status5xx}) {
    EXPECT_TRUE(countsAsFailure(f)) << failureName(f);
  }
  for (Failure f : {Failure::None, Failure::Status429, Failure::ContextWindow, Failure::ContentPolicy,
                    Failure::StatusFinal}) {
    EXPECT_FALSE(countsAsFailure(f)) << failureName(f);
  }
}

TEST(RetryBackoff, StaysWithinTheGrowingCapAndIsJittered) {
  RetryPolicy p;
  p.backoff_base_ms = 100;
  p.backoff_max_ms = 1000;
  std::mt19937_64 rng(7);
  const uint64_t caps[] = {100, 200, 400, 800, 1000, 1000};
  for (int retry = 1; retry <= 6; ++retry) {
    std::set<uint64_t> seen;
    uint64_t max_seen = 0, sum = 0;
    const int n = 5000;
    for (int i = 0; i < n; ++i) {
      const uint64_t b = backoffMs(p, retry, rng);
      ASSERT_LE(b, caps[retry - 1]) << "retry " << retry;
      max_seen = std::max(max_seen, b);
      sum += b;
      seen.insert(b);
    }
    EXPECT_GT(seen.size(), 50u) << "retry " << retry;
    EXPECT_GE(max_seen, caps[retry - 1] * 9 / 10);
    // Uniform: the mean is about half the cap.
    EXPECT_NEAR(static_cast<double>(sum) / n, caps[retry - 1] / 2.0, caps[retry - 1] * 0.05);
  }
}

TEST(RetryBackoff, HugeRetryNumbersDoNotOverflow) {
  RetryPolicy p;
  p.backoff_base_ms = 3000;
  p.backoff_max_ms = 5000;
  std::mt19937_64 rng(1);
  for (int retry : {2, 40, 63, 64, 65, 1000, 1 << 30}) {
    for (int i = 0; i < 100; ++i) ASSERT_LE(backoffMs(p, retry, rng), 5000u);
  }
}

constexpr uint64_t kNow = 1445412480000;  // Wed, 21 Oct 2015 07:28:00 GMT

// A Retry-After value read at `now`: the delay in ms, or -1 (invalid).
struct RetryAfterCase {
  const char* value;
  uint64_t now;
  int64_t ms;
};

class RetryAfter : public ::testing::TestWithParam<RetryAfterCase> {};

TEST_P(RetryAfter, IsReadAsADelay) {
  const RetryAfterCase& c = GetParam();
  EXPECT_EQ(parseRetryAfterMs(c.value, c.now), c.ms) << '"' << c.value << '"';
}

INSTANTIATE_TEST_SUITE_P(DelaySeconds, RetryAfter,
                         ::testing::Values(RetryAfterCase{"0", kNow, 0}, RetryAfterCase{"3", kNow, 3000},
                                           RetryAfterCase{" 120 ", kNow, 120000},
                                           RetryAfterCase{"9999999999", kNow, 9999999999000}));

INSTANTIATE_TEST_SUITE_P(
    HttpDate, RetryAfter,
    ::testing::Values(RetryAfterCase{"Wed, 21 Oct 2015 07:28:00 GMT", kNow, 0},
                      RetryAfterCase{"Wed, 21 Oct 2015 07:28:05 GMT", kNow, 5000},
                      RetryAfterCase{"Thu, 22 Oct 2015 07:28:00 GMT", kNow, 86400000},
                      RetryAfterCase{"Sun, 06 Nov 1994 08:49:37 GMT", 784111777000, 0},
                      RetryAfterCase{"Sun, 06 Nov 1994 08:49:37 GMT", 784111777000 - 1500, 1500},
                      RetryAfterCase{"Thu, 29 Feb 2024 00:00:01 GMT", 1709164800000, 1000}));  // a leap day

INSTANTIATE_TEST_SUITE_P(PastDateIsZero, RetryAfter,
                         ::testing::Values(RetryAfterCase{"Tue, 20 Oct 2015 07:28:00 GMT", kNow, 0},
                                           RetryAfterCase{"Thu, 01 Jan 1970 00:00:00 GMT", kNow, 0}));

INSTANTIATE_TEST_SUITE_P(
    GarbageIsInvalid, RetryAfter,
    ::testing::Values(RetryAfterCase{"", kNow, -1}, RetryAfterCase{" ", kNow, -1}, RetryAfterCase{"-1", kNow, -1},
                      RetryAfterCase{"1.5", kNow, -1}, RetryAfterCase{"3s", kNow, -1}, RetryAfterCase{"soon", kNow, -1},
                      RetryAfterCase{"12345678901", kNow, -1},
                      RetryAfterCase{"Wed, 21 Oct 2015 07:28:00", kNow, -1},
                      RetryAfterCase{"Wed, 21 Oct 2015 07:28:00 UTC", kNow, -1},
                      RetryAfterCase{"Xyz, 21 Oct 2015 07:28:00 GMT", kNow, -1},
                      RetryAfterCase{"Wed, 21 Foo 2015 07:28:00 GMT", kNow, -1},
                      RetryAfterCase{"Wed, 32 Oct 2015 07:28:00 GMT", kNow, -1},
                      RetryAfterCase{"Wed, 21 Oct 2015 25:28:00 GMT", kNow, -1},
                      RetryAfterCase{"Wed, 21 Oct 2015 07:6x:00 GMT", kNow, -1},
                      RetryAfterCase{"Wednesday, 21-Oct-15 07:28:00 GMT", kNow, -1}));

// An upstream's error answer and the failure it is classified as.
struct Classified {
  const char* source;  // who answers this way
  int status;
  const char* body;
  Failure failure;
};

class RetryClassify : public ::testing::TestWithParam<Classified> {};

TEST_P(RetryClassify, ErrorAnswer) {
  const Classified& c = GetParam();
  EXPECT_EQ(classifyStatus(c.status, c.body), c.failure) << c.source << ": " << c.status << " " << c.body;
}

INSTANTIATE_TEST_SUITE_P(
    StatusClasses, RetryClassify,
    ::testing::Values(
        Classified{"ok", 200, "", Failure::None}, Classified{"redirect", 302, "", Failure::None},
        Classified{"OpenAI", 429, R"({"error":{"message":"Rate limit reached","code":"rate_limit_exceeded"}})",
                   Failure::Status429},
        Classified{"any", 500, "", Failure::Status5xx},
        Classified{"a 5xx is a 5xx whatever it says", 503, "context length", Failure::Status5xx},
        Classified{"Anthropic", 529, R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})",
                   Failure::Status5xx},
        Classified{"any", 400, "{}", Failure::StatusFinal}, Classified{"any", 401, "{}", Failure::StatusFinal},
        Classified{"any", 403, "{}", Failure::StatusFinal}, Classified{"any", 404, "{}", Failure::StatusFinal},
        Classified{"any", 413, "{}", Failure::StatusFinal}, Classified{"any", 422, "{}", Failure::StatusFinal},
        Classified{"OpenAI", 401, R"({"error":{"message":"Incorrect API key provided: sk-abc.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}})",
                   Failure::StatusFinal},
        Classified{"OpenAI", 404, R"({"error":{"message":"The model `gpt-5o` does not exist","type":"invalid_request_error","param":null,"code":"model_not_found"}})",
                   Failure::StatusFinal}));

INSTANTIATE_TEST_SUITE_P(
    ContextWindowErrorsOfRealProviders, RetryClassify,
    ::testing::Values(
        Classified{"OpenAI", 400, R"({"error":{"message":"This model's maximum context length is 128000 tokens. However, your messages resulted in 130452 tokens. Please reduce the length of the messages.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}})",
                   Failure::ContextWindow},
        Classified{"Anthropic", 400, R"({"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 208363 tokens > 200000 maximum"}})",
                   Failure::ContextWindow},
        Classified{"Azure OpenAI", 400, R"({"error":{"message":"This model's maximum context length is 8192 tokens, however you requested 9000 tokens (8000 in your prompt; 1000 for the completion). Please reduce your prompt; or completion length.","type":"invalid_request_error","param":null,"code":null}})",
                   Failure::ContextWindow},
        Classified{"vLLM", 400, R"({"object":"error","message":"This model's maximum context length is 4096 tokens.","type":"BadRequestError","code":400})",
                   Failure::ContextWindow},
        Classified{"OpenAI-compatible", 413, R"({"error":{"code":"context_window_exceeded"}})", Failure::ContextWindow},
        Classified{"OpenAI-compatible", 400, R"({"message":"Input is too long for requested model."})",
                   Failure::ContextWindow},
        Classified{"OpenAI-compatible", 422, R"({"error":"Too many tokens in the request"})", Failure::ContextWindow}));

INSTANTIATE_TEST_SUITE_P(
    ContentPolicyErrorsOfRealProviders, RetryClassify,
    ::testing::Values(
        Classified{"Azure OpenAI content filter", 400, R"({"error":{"message":"The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry. To learn more about our content filtering policies please read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766","type":null,"param":"prompt","code":"content_filter","status":400,"innererror":{"code":"ResponsibleAIPolicyViolation","content_filter_result":{"hate":{"filtered":true,"severity":"high"}}}}})",
                   Failure::ContentPolicy},
        Classified{"OpenAI images", 400, R"({"error":{"code":"content_policy_violation","message":"Your request was rejected as a result of our safety system. Your prompt may contain text that is not allowed by our safety system.","param":null,"type":"invalid_request_error"}})",
                   Failure::ContentPolicy},
        Classified{"OpenAI-compatible", 403, R"({"error":{"message":"Request blocked by Content Policy"}})",
                   Failure::ContentPolicy}));

constexpr uint64_t kSecond = 1000000000;

TEST(RetryBudget, FloorAllowsAFewRetriesAtLowTraffic) {
  RetryPolicy p;
  p.budget_min = 2;
  p.budget_ratio = 0.2;
  RetryBudget b;
  const uint64_t t = 100 * kSecond;
  b.requestStarted(t);
  EXPECT_TRUE(b.tryStartRetry(p, t));
  EXPECT_TRUE(b.tryStartRetry(p, t));
  EXPECT_FALSE(b.tryStartRetry(p, t));
  EXPECT_EQ(b.retries(t), 2);
}

TEST(RetryBudget, RetriesAreARatioOfRecentRequestsNotOfThoseInFlight) {
  RetryPolicy p;
  p.budget_min = 1;
  p.budget_ratio = 0.25;
  RetryBudget b;
  const uint64_t t = 100 * kSecond;
  for (int i = 0; i < 19; ++i) b.requestStarted(t);  // floor(0.25 * 19) + 1 = 5
  int allowed = 0;
  while (b.tryStartRetry(p, t)) ++allowed;
  EXPECT_EQ(allowed, 5);
  b.requestStarted(t);  // 20 -> 6
  EXPECT_TRUE(b.tryStartRetry(p, t));
  EXPECT_FALSE(b.tryStartRetry(p, t));
  // Retries that ended long ago still count while they are in the window: fast failures
  // cannot recycle the budget (what the in-flight budget allowed).
  EXPECT_FALSE(b.tryStartRetry(p, t + 5 * kSecond));
}

TEST(RetryBudget, TheWindowSlides) {
  RetryPolicy p;
  p.budget_min = 0;
  p.budget_ratio = 0.5;
  RetryBudget b;
  const uint64_t t = 100 * kSecond;
  for (int i = 0; i < 4; ++i) b.requestStarted(t);
  EXPECT_TRUE(b.tryStartRetry(p, t));
  EXPECT_TRUE(b.tryStartRetry(p, t));
  EXPECT_FALSE(b.tryStartRetry(p, t + 9 * kSecond));
  EXPECT_EQ(b.requests(t + 9 * kSecond), 4);
  // Ten seconds on, those requests and retries have left the window.
  EXPECT_EQ(b.requests(t + 10 * kSecond), 0);
  EXPECT_EQ(b.retries(t + 10 * kSecond), 0);
  EXPECT_FALSE(b.tryStartRetry(p, t + 10 * kSecond));
  b.requestStarted(t + 10 * kSecond);
  b.requestStarted(t + 10 * kSecond);
  EXPECT_TRUE(b.tryStartRetry(p, t + 10 * kSecond));
}

TEST(RetryBudget, AStormStaysWithinTheBound) {
  // Every request fails and wants two retries, 1000 requests over 5 s: attempts stay within
  // (1 + ratio) x requests + the floor.
  RetryPolicy p;
  p.budget_min = 3;
  p.budget_ratio = 0.2;
  RetryBudget b;
  int attempts = 0;
  for (int i = 0; i < 1000; ++i) {
    const uint64_t now = 100 * kSecond + static_cast<uint64_t>(i) * 5 * kSecond / 1000;
    b.requestStarted(now);
    ++attempts;
    for (int r = 0; r < 2 && b.tryStartRetry(p, now); ++r) ++attempts;
  }
  EXPECT_LE(attempts, static_cast<int>(1.2 * 1000) + 3);
  EXPECT_GE(attempts, static_cast<int>(1.2 * 1000) - 3);  // and the budget is used, not starved
}

TEST(RetryBudget, ZeroFloorAndRatioAllowsNothing) {
  RetryPolicy p;
  p.budget_min = 0;
  p.budget_ratio = 0;
  RetryBudget b;
  b.requestStarted(kSecond);
  EXPECT_FALSE(b.tryStartRetry(p, kSecond));
}

}  // namespace
}  // namespace aigw::router
