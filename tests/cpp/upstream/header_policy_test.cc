// Header policy: which headers cross the gateway in each direction. Each case is one list of
// headers and the ones that cross, in order, with their values.
#include "upstream/header_policy.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace aigw::upstream {
namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;
using Copy = void (*)(const http::HeaderList&, http::HeaderList*);

Fields fields(const http::HeaderList& h) {
  Fields out;
  for (const auto& f : h) out.emplace_back(f.name, f.value);
  return out;
}

struct Crossing {
  const char* name;
  Copy copy;  // the direction: copyForwardableRequestHeaders or copyForwardableResponseHeaders
  Fields in;
  bool keeps_all;  // every header crosses, as it is; else only `kept`
  Fields kept;
};

class HeaderPolicy : public ::testing::TestWithParam<Crossing> {};

TEST_P(HeaderPolicy, LetsAcrossOnlyWhatItShould) {
  const Crossing& c = GetParam();
  http::HeaderList in;
  for (const auto& [n, v] : c.in) in.add(n, v);
  http::HeaderList out;
  c.copy(in, &out);
  EXPECT_EQ(fields(out), c.keeps_all ? c.in : c.kept) << ::testing::PrintToString(fields(out));
}

INSTANTIATE_TEST_SUITE_P(
    ResponseHeaderPolicy, HeaderPolicy,
    ::testing::Values(
        Crossing{"DropsCookiesFramingHopByHopAndServerIdentity",
                 copyForwardableResponseHeaders,
                 {{"set-cookie", "session=1"},
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
                  {"x-aigw-provider", "spoofed"}},
                 false,
                 {}},
        Crossing{"KeepsRateLimitRetryAndContentHeadersInOrder",
                 copyForwardableResponseHeaders,
                 {{"content-type", "text/event-stream; charset=utf-8"},
                  {"x-ratelimit-limit-requests", "500"},
                  {"x-ratelimit-remaining-tokens", "149984"},
                  {"retry-after", "2"},
                  {"retry-after-ms", "2000"},
                  {"openai-processing-ms", "87"},
                  {"x-request-id", "req_123"},
                  {"content-encoding", "identity"},
                  {"cache-control", "no-cache"}},
                 true,
                 {}},
        Crossing{"DropsHeadersNamedByConnection",
                 copyForwardableResponseHeaders,
                 {{"connection", "x-internal, Keep-Alive"}, {"x-internal", "secret"}, {"x-other", "1"}},
                 false,
                 {{"x-other", "1"}}},
        Crossing{"KeepsRepeatedHeaders", copyForwardableResponseHeaders, {{"vary", "a"}, {"vary", "b"}}, true, {}}),
    [](const ::testing::TestParamInfo<Crossing>& info) { return info.param.name; });

INSTANTIATE_TEST_SUITE_P(
    RequestHeaderPolicy, HeaderPolicy,
    ::testing::Values(
        Crossing{"DropsCredentialsFramingAndAddressing",
                 copyForwardableRequestHeaders,
                 {{"authorization", "Bearer client"},
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
                  {"x-aigw-mock-status", "500"}},
                 false,
                 {}},
        Crossing{"KeepsContentTypeUserAgentAndProviderHeaders",
                 copyForwardableRequestHeaders,
                 {{"content-type", "application/json"},
                  {"user-agent", "OpenAI/Python 1.40"},
                  {"accept", "text/event-stream"},
                  {"openai-beta", "assistants=v2"},
                  {"anthropic-version", "2023-06-01"},
                  {"x-stainless-lang", "python"}},
                 true,
                 {}},
        Crossing{"DropsHeadersNamedByConnection",
                 copyForwardableRequestHeaders,
                 {{"connection", "close, X-Hop"}, {"x-hop", "1"}, {"x-keep", "2"}},
                 false,
                 {{"x-keep", "2"}}}),
    [](const ::testing::TestParamInfo<Crossing>& info) { return info.param.name; });

}  // namespace
}  // namespace aigw::upstream
