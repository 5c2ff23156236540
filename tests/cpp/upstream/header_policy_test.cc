// Header policy: which headers cross the gateway in each direction.
#include "upstream/header_policy.h"

#include <gtest/gtest.h>

namespace aigw::upstream {
namespace {

http::HeaderList list(std::initializer_list<std::pair<const char*, const char*>> fields) {
  http::HeaderList h;
  for (const auto& [n, v] : fields) h.add(n, v);
  return h;
}

std::vector<std::string> names(const http::HeaderList& h) {
  std::vector<std::string> out;
  for (const auto& f : h) out.push_back(f.name);
  return out;
}

TEST(ResponseHeaderPolicy, DropsCookiesFramingHopByHopAndServerIdentity) {
  http::HeaderList in = list({{"set-cookie", "session=1"},
                              {"content-length", "10"},
                              {"transfer-encoding", "chunked"},
                              {"connection", "keep-alive"},
                              {"keep-alive", "timeout=5"},
                              {"upgrade", "h2c"},
                              {"trailer", "x"},
                              {"te", "trailers"},
                              {"proxy-connection", "keep-alive"},
                              {"date", "Mon, 01 Jan 2024 00:00:00 GMT"},
                              {"server", "cloudflare"},
                              {"alt-svc", "h3=\":443\""},
                              {"strict-transport-security", "max-age=1"},
                              {"x-aigw-provider", "spoofed"}});
  http::HeaderList out;
  copyForwardableResponseHeaders(in, &out);
  EXPECT_TRUE(out.empty()) << ::testing::PrintToString(names(out));
}

TEST(ResponseHeaderPolicy, KeepsRateLimitRetryAndContentHeadersInOrder) {
  http::HeaderList in = list({{"content-type", "text/event-stream; charset=utf-8"},
                              {"x-ratelimit-limit-requests", "500"},
                              {"x-ratelimit-remaining-tokens", "149984"},
                              {"retry-after", "2"},
                              {"retry-after-ms", "2000"},
                              {"openai-processing-ms", "87"},
                              {"x-request-id", "req_123"},
                              {"content-encoding", "identity"},
                              {"cache-control", "no-cache"}});
  http::HeaderList out;
  copyForwardableResponseHeaders(in, &out);
  EXPECT_EQ(names(out), names(in));
  EXPECT_EQ(*out.find("retry-after"), "2");
}

TEST(ResponseHeaderPolicy, DropsHeadersNamedByConnection) {
  http::HeaderList in = list({{"connection", "x-internal, Keep-Alive"}, {"x-internal", "secret"}, {"x-other", "1"}});
  http::HeaderList out;
  copyForwardableResponseHeaders(in, &out);
  EXPECT_EQ(names(out), std::vector<std::string>{"x-other"});
}

TEST(ResponseHeaderPolicy, KeepsRepeatedHeaders) {
  http::HeaderList in = list({{"vary", "a"}, {"vary", "b"}});
  http::HeaderList out;
  copyForwardableResponseHeaders(in, &out);
  EXPECT_EQ(out.count("vary"), 2u);
}

TEST(RequestHeaderPolicy, DropsCredentialsFramingAndAddressing) {
  http::HeaderList in = list({{"authorization", "Bearer client"},
                              {"proxy-authorization", "Basic x"},
                              {"x-api-key", "k"},
                              {"api-key", "k"},
                              {"cookie", "c=1"},
                              {"openai-organization", "org"},
                              {"openai-project", "proj"},
                              {"host", "gateway"},
                              {"content-length", "3"},
                              {"transfer-encoding", "chunked"},
                              {"expect", "100-continue"},
                              {"accept-encoding", "gzip"},
                              {"connection", "keep-alive"},
                              {"keep-alive", "1"},
                              {"te", "trailers"},
                              {"upgrade", "websocket"},
                              {"forwarded", "for=1.2.3.4"},
                              {"x-forwarded-for", "1.2.3.4"},
                              {"x-forwarded-host", "h"},
                              {"x-aigw-mock-status", "500"}});
  http::HeaderList out;
  copyForwardableRequestHeaders(in, &out);
  EXPECT_TRUE(out.empty()) << ::testing::PrintToString(names(out));
}

TEST(RequestHeaderPolicy, KeepsContentTypeUserAgentAndProviderHeaders) {
  http::HeaderList in = list({{"content-type", "application/json"},
                              {"user-agent", "OpenAI/Python 1.40"},
                              {"accept", "text/event-stream"},
                              {"openai-beta", "assistants=v2"},
                              {"anthropic-version", "2023-06-01"},
                              {"x-stainless-lang", "python"}});
  http::HeaderList out;
  copyForwardableRequestHeaders(in, &out);
  EXPECT_EQ(names(out), names(in));
}

TEST(RequestHeaderPolicy, DropsHeadersNamedByConnection) {
  http::HeaderList in = list({{"connection", "close, X-Hop"}, {"x-hop", "1"}, {"x-keep", "2"}});
  http::HeaderList out;
  copyForwardableRequestHeaders(in, &out);
  EXPECT_EQ(names(out), std::vector<std::string>{"x-keep"});
}

}  // namespace
}  // namespace aigw::upstream
