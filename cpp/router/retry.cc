#include "router/retry.h"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <iterator>
#include <string>

#include "http/headers.h"

namespace aigw::router {
namespace {

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool parseDigits(std::string_view s, int64_t* out) {
  if (s.empty()) return false;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil);
// done by hand because timegm() is not standard and strptime() depends on the locale.
int64_t daysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

// IMF-fixdate, the only HTTP-date form senders may generate: "Sun, 06 Nov 1994 08:49:37 GMT".
bool parseImfFixdate(std::string_view s, int64_t* epoch_ms) {
  static constexpr std::string_view kDays[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (s.size() != 29 || s.substr(3, 2) != ", " || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' ||
      s[19] != ':' || s[22] != ':' || s.substr(25) != " GMT") {
    return false;
  }
  if (std::find(std::begin(kDays), std::end(kDays), s.substr(0, 3)) == std::end(kDays)) return false;
  const auto month_it = std::find(std::begin(kMonths), std::end(kMonths), s.substr(8, 3));
  if (month_it == std::end(kMonths)) return false;
  int64_t day, year, hour, minute, second;
  if (!parseDigits(s.substr(5, 2), &day) || !parseDigits(s.substr(12, 4), &year) ||
      !parseDigits(s.substr(17, 2), &hour) || !parseDigits(s.substr(20, 2), &minute) ||
      !parseDigits(s.substr(23, 2), &second)) {
    return false;
  }
  if (day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return false;
  const auto month = static_cast<unsigned>(month_it - std::begin(kMonths) + 1);
  const int64_t days = daysFromCivil(year, month, static_cast<unsigned>(day));
  *epoch_ms = ((days * 24 + hour) * 60 + minute) * 60000 + second * 1000;
  return true;
}

}  // namespace

const char* failureName(Failure f) {
  switch (f) {
    case Failure::None: return "none";
    case Failure::Connect: return "connect";
    case Failure::Timeout: return "timeout";
    case Failure::Protocol: return "protocol";
    case Failure::Status5xx: return "status_5xx";
    case Failure::Status429: return "status_429";
    case Failure::ContextWindow: return "context_window";
    case Failure::ContentPolicy: return "content_policy";
    case Failure::StatusFinal: return "status_final";
  }
  return "none";
}

bool retryable(const RetryPolicy& policy, Failure failure) {
  switch (failure) {
    case Failure::Connect:
    case Failure::Protocol: return policy.on_connect;
    case Failure::Timeout: return policy.on_timeout;
    case Failure::Status5xx: return policy.on_5xx;
    case Failure::Status429: return policy.on_429;
    default: return false;
  }
}

bool countsAsFailure(Failure failure) {
  switch (failure) {
    case Failure::Connect:
    case Failure::Timeout:
    case Failure::Protocol:
    case Failure::Status5xx: return true;
    default: return false;
  }
}

uint64_t backoffMs(const RetryPolicy& policy, int retry, std::mt19937_64& rng) {
  const unsigned shift = static_cast<unsigned>(std::max(retry, 1) - 1);
  const uint64_t cap = shift >= 63 || policy.backoff_base_ms > (policy.backoff_max_ms >> shift)
                           ? policy.backoff_max_ms
                           : std::min(policy.backoff_max_ms, policy.backoff_base_ms << shift);
  return std::uniform_int_distribution<uint64_t>(0, cap)(rng);
}

int64_t parseRetryAfterMs(std::string_view value, uint64_t now_wall_ms) {
  value = trimmed(value);
  if (!value.empty() && value.front() >= '0' && value.front() <= '9') {
    // Ten digits is over 300 years: anything longer is garbage, not a delay.
    int64_t seconds;
    if (value.size() > 10 || !parseDigits(value, &seconds)) return -1;
    return seconds * 1000;
  }
  int64_t epoch_ms;
  if (!parseImfFixdate(value, &epoch_ms)) return -1;
  return std::max<int64_t>(0, epoch_ms - static_cast<int64_t>(now_wall_ms));
}

Failure classifyStatus(int status, std::string_view body) {
  if (status < 400) return Failure::None;
  if (status == 429) return Failure::Status429;
  if (status >= 500) return Failure::Status5xx;
  // Providers say "context window" and "content policy" in many ways, and only in the body;
  // error bodies are small, so a lower-cased copy searched for known phrases is enough.
  std::string text(body);
  http::toLowerAscii(text);
  const auto mentions = [&](std::initializer_list<std::string_view> phrases) {
    return std::any_of(phrases.begin(), phrases.end(),
                       [&](std::string_view p) { return text.find(p) != std::string::npos; });
  };
  if (mentions({"context_length_exceeded", "context_window_exceeded", "maximum context length", "context length",
                "prompt is too long", "input is too long", "too many tokens"})) {
    return Failure::ContextWindow;
  }
  if (mentions({"content_policy_violation", "content_filter", "content management policy", "content policy",
                "safety system"})) {
    return Failure::ContentPolicy;
  }
  return Failure::StatusFinal;
}

namespace {
int64_t secondOf(uint64_t now_ns) { return static_cast<int64_t>(now_ns / 1000000000); }
}  // namespace

RetryBudget::Second& RetryBudget::bucket(int64_t second) {
  Second& b = seconds_[static_cast<size_t>(second % kWindowSeconds)];
  if (b.second != second) b = Second{second, 0, 0};
  return b;
}

void RetryBudget::sums(int64_t second, int64_t* requests, int64_t* retries) const {
  *requests = *retries = 0;
  for (const Second& b : seconds_) {
    if (b.second > second - kWindowSeconds && b.second <= second) {
      *requests += b.requests;
      *retries += b.retries;
    }
  }
}

void RetryBudget::requestStarted(uint64_t now_ns) {
  std::lock_guard<std::mutex> lock(mu_);
  ++bucket(secondOf(now_ns)).requests;
}

bool RetryBudget::tryStartRetry(const RetryPolicy& policy, uint64_t now_ns) {
  const int64_t second = secondOf(now_ns);
  std::lock_guard<std::mutex> lock(mu_);
  int64_t requests = 0, retries = 0;
  sums(second, &requests, &retries);
  const auto by_ratio = static_cast<int64_t>(std::floor(policy.budget_ratio * static_cast<double>(requests)));
  if (retries >= by_ratio + policy.budget_min) return false;
  ++bucket(second).retries;
  return true;
}

int64_t RetryBudget::requests(uint64_t now_ns) const {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t requests = 0, retries = 0;
  sums(secondOf(now_ns), &requests, &retries);
  return requests;
}

int64_t RetryBudget::retries(uint64_t now_ns) const {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t requests = 0, retries = 0;
  sums(secondOf(now_ns), &requests, &retries);
  return retries;
}

}  // namespace aigw::router
