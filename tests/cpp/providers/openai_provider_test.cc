// OpenAiProvider::buildRequest: the upstream request is rebuilt from the client's, never
// forwarded byte for byte.
#include "providers/openai_provider.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace aigw {
namespace {

struct Built {
  std::string method, target, version;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  size_t count(std::string_view name) const {
    size_t n = 0;
    for (const auto& h : headers) n += h.first == name;
    return n;
  }
  std::string get(std::string_view name) const {
    for (const auto& h : headers) {
      if (h.first == name) return h.second;
    }
    return "<missing>";
  }
};

Built parseBuilt(const std::string& raw) {
  Built b;
  size_t head_end = raw.find("\r\n\r\n");
  EXPECT_NE(head_end, std::string::npos) << raw;
  std::string head = raw.substr(0, head_end);
  b.body = raw.substr(head_end + 4);
  size_t line_end = head.find("\r\n");
  std::string request_line = head.substr(0, line_end);
  size_t s1 = request_line.find(' '), s2 = request_line.rfind(' ');
  b.method = request_line.substr(0, s1);
  b.target = request_line.substr(s1 + 1, s2 - s1 - 1);
  b.version = request_line.substr(s2 + 1);
  size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
  while (pos < head.size()) {
    size_t end = head.find("\r\n", pos);
    if (end == std::string::npos) end = head.size();
    std::string line = head.substr(pos, end - pos);
    size_t colon = line.find(':');
    EXPECT_NE(colon, std::string::npos) << line;
    std::string value = line.substr(colon + 1);
    if (!value.empty() && value[0] == ' ') value.erase(0, 1);
    for (char c : line.substr(0, colon)) EXPECT_FALSE(c >= 'A' && c <= 'Z') << "name not lower-case: " << line;
    b.headers.emplace_back(line.substr(0, colon), value);
    pos = end + 2;
  }
  return b;
}

class BuildRequest : public ::testing::Test {
 protected:
  std::unique_ptr<OpenAiProvider> makeProvider(const std::string& base_url = "http://127.0.0.1:1/v1",
                                               std::string api_key = "sk-upstream",
                                               http::HeaderList config_headers = {}) {
    OpenAiOptions o;
    std::string error;
    EXPECT_TRUE(upstream::parseBaseUrl(base_url, &o.origin, &error)) << error;
    o.api_key = std::move(api_key);
    o.headers = std::move(config_headers);
    auto p = OpenAiProvider::create("up", std::move(o), &error);
    EXPECT_TRUE(p) << error;
    return p;
  }

  Built build(const OpenAiProvider& p, Endpoint endpoint, std::string_view model = "gpt-4o",
              std::string_view upstream_model = "gpt-4o", std::string_view path_suffix = {}) {
    body_.reset(http_.body);
    const bool object = body_.get().is_object();
    CallRequest req{endpoint, http_, http_.body, body_, object, model, upstream_model, false, "req_1", path_suffix};
    raw_ = p.buildRequest(req);
    return parseBuilt(raw_);
  }

  void clientRequest(std::string method, std::string target, std::string body,
                     std::initializer_list<std::pair<const char*, const char*>> headers) {
    http_.method = std::move(method);
    http_.target = std::move(target);
    http_.body = std::move(body);
    http_.headers.clear();
    for (const auto& [n, v] : headers) http_.headers.add(n, v);
  }

  http::Request http_;
  LazyJson body_;
  std::string raw_;
};

const char* kChatBody = R"({"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]})";

TEST_F(BuildRequest, PathIsBasePathPlusEndpointSuffix) {
  auto p = makeProvider();
  clientRequest("POST", "/v1/chat/completions", kChatBody, {{"content-type", "application/json"}});
  Built b = build(*p, Endpoint::ChatCompletions);
  EXPECT_EQ(b.method, "POST");
  EXPECT_EQ(b.target, "/v1/chat/completions");
  EXPECT_EQ(b.version, "HTTP/1.1");
  EXPECT_EQ(build(*p, Endpoint::Completions).target, "/v1/completions");
  EXPECT_EQ(build(*p, Endpoint::Embeddings).target, "/v1/embeddings");
}

TEST_F(BuildRequest, BasePathWithoutVersionOrDeeper) {
  clientRequest("POST", "/v1/chat/completions", kChatBody, {});
  EXPECT_EQ(build(*makeProvider("http://127.0.0.1:1"), Endpoint::ChatCompletions).target, "/chat/completions");
  EXPECT_EQ(build(*makeProvider("http://127.0.0.1:1/api/openai/v1/"), Endpoint::Embeddings).target,
            "/api/openai/v1/embeddings");
}

TEST_F(BuildRequest, HostIsTheUpstreamsExactlyOnce) {
  auto p = makeProvider();
  clientRequest("POST", "/v1/chat/completions", kChatBody, {{"host", "gateway.example"}});
  Built b = build(*p, Endpoint::ChatCompletions);
  EXPECT_EQ(b.count("host"), 1u);
  EXPECT_EQ(b.get("host"), "127.0.0.1:1");
}

TEST_F(BuildRequest, ModelIsRewrittenToTheUpstreamModel) {
  auto p = makeProvider();
  clientRequest("POST", "/v1/chat/completions",
                R"({"model":"my-alias","temperature":0.5,"messages":[{"role":"user","content":"hé \"q\""}]})", {});
  Built b = build(*p, Endpoint::ChatCompletions, "my-alias", "gpt-4o-2024-08-06");
  auto sent = nlohmann::json::parse(b.body);
  EXPECT_EQ(sent["model"], "gpt-4o-2024-08-06");
  EXPECT_EQ(sent["temperature"], 0.5);
  EXPECT_EQ(sent["messages"][0]["content"], "hé \"q\"");
  EXPECT_EQ(b.get("content-length"), std::to_string(b.body.size()));
}

// Found by the openai_provider fuzz target: with "model" twice only the first copy was
// renamed, and an upstream that keeps the last copy got the client's name.
TEST_F(BuildRequest, EveryCopyOfARepeatedModelKeyIsRewritten) {
  auto p = makeProvider();
  clientRequest("POST", "/v1/chat/completions", R"({"model":"a","messages":[],"model":"my-alias"})", {});
  Built b = build(*p, Endpoint::ChatCompletions, "my-alias", "gpt-4o");
  EXPECT_EQ(b.body, R"({"model":"gpt-4o","messages":[],"model":"gpt-4o"})");
  // A key spelled with escapes cannot be spliced safely: the document is re-encoded.
  clientRequest("POST", "/v1/chat/completions", R"({"mo\u0064el":"a","model":"my-alias"})", {});
  b = build(*p, Endpoint::ChatCompletions, "my-alias", "gpt-4o");
  EXPECT_EQ(b.body, R"({"model":"gpt-4o"})");
}

TEST_F(BuildRequest, BodyIsUntouchedWhenModelIsTheSame) {
  auto p = makeProvider();
  const std::string body = "{ \"model\" : \"gpt-4o\",\n  \"messages\": [] }";
  clientRequest("POST", "/v1/chat/completions", body, {});
  EXPECT_EQ(build(*p, Endpoint::ChatCompletions, "gpt-4o", "gpt-4o").body, body);
  EXPECT_EQ(build(*p, Endpoint::ChatCompletions, "gpt-4o", "").body, body);
}

TEST_F(BuildRequest, ExactlyOneContentLengthAndNoTransferEncoding) {
  auto p = makeProvider("http://127.0.0.1:1/v1", "sk-upstream",
                        [] {
                          http::HeaderList h;
                          h.add("content-length", "1");
                          h.add("transfer-encoding", "chunked");
                          return h;
                        }());
  clientRequest("POST", "/v1/chat/completions", kChatBody,
                {{"content-length", "999"}, {"transfer-encoding", "chunked"}, {"content-length", "5"}});
  Built b = build(*p, Endpoint::ChatCompletions);
  EXPECT_EQ(b.count("content-length"), 1u);
  EXPECT_EQ(b.get("content-length"), std::to_string(std::string(kChatBody).size()));
  EXPECT_EQ(b.count("transfer-encoding"), 0u);
  EXPECT_EQ(b.body, kChatBody);
}

TEST_F(BuildRequest, ClientCredentialsAreReplacedByTheProviderKey) {
  auto p = makeProvider();
  clientRequest("POST", "/v1/chat/completions", kChatBody,
                {{"authorization", "Bearer sk-gateway-client"},
                 {"x-api-key", "client"},
                 {"api-key", "client"},
                 {"cookie", "session=abc"},
                 {"openai-organization", "org-client"},
                 {"openai-project", "proj-client"},
                 {"proxy-authorization", "Basic abc"}});
  Built b = build(*p, Endpoint::ChatCompletions);
  EXPECT_EQ(b.count("authorization"), 1u);
  EXPECT_EQ(b.get("authorization"), "Bearer sk-upstream");
  for (const char* n : {"x-api-key", "api-key", "cookie", "openai-organization", "openai-project", "proxy-authorization"}) {
    EXPECT_EQ(b.count(n), 0u) << n;
  }
  EXPECT_EQ(raw_.find("sk-gateway-client"), std::string::npos);
}

TEST_F(BuildRequest, NoKeyMeansNoAuthorization) {
  auto p = makeProvider("http://127.0.0.1:1/v1", "");
  clientRequest("POST", "/v1/chat/completions", kChatBody, {{"authorization", "Bearer client"}});
  EXPECT_EQ(build(*p, Endpoint::ChatCompletions).count("authorization"), 0u);
}

TEST_F(BuildRequest, HopByHopHeadersAndThoseNamedByConnectionAreDropped) {
  auto p = makeProvider();
  clientRequest("POST", "/v1/chat/completions", kChatBody,
                {{"connection", "keep-alive, x-private"},
                 {"keep-alive", "timeout=5"},
                 {"x-private", "secret"},
                 {"te", "trailers"},
                 {"trailer", "x"},
                 {"upgrade", "h2c"},
                 {"proxy-connection", "keep-alive"},
                 {"expect", "100-continue"},
                 {"x-forwarded-for", "10.0.0.1"},
                 {"x-aigw-mock-status", "500"},
                 {"x-app", "kept"}});
  Built b = build(*p, Endpoint::ChatCompletions);
  for (const char* n : {"connection", "keep-alive", "x-private", "te", "trailer", "upgrade", "proxy-connection", "expect",
                        "x-forwarded-for", "x-aigw-mock-status"}) {
    EXPECT_EQ(b.count(n), 0u) << n;
  }
  EXPECT_EQ(b.get("x-app"), "kept");
}

TEST_F(BuildRequest, ConfigHeadersOverrideClientHeaders) {
  http::HeaderList config;
  config.add("x-tenant", "from-config");
  config.add("openai-organization", "org-config");
  auto p = makeProvider("http://127.0.0.1:1/v1", "sk-upstream", config);
  clientRequest("POST", "/v1/chat/completions", kChatBody,
                {{"x-tenant", "from-client"}, {"openai-organization", "org-client"}});
  Built b = build(*p, Endpoint::ChatCompletions);
  EXPECT_EQ(b.count("x-tenant"), 1u);
  EXPECT_EQ(b.get("x-tenant"), "from-config");
  EXPECT_EQ(b.get("openai-organization"), "org-config");
}

TEST_F(BuildRequest, ConfigAuthHeaderReplacesBearerKey) {
  // Azure-style: the key goes in "api-key"; a configured authorization replaces the bearer one.
  http::HeaderList config;
  config.add("api-key", "azure-key");
  config.add("authorization", "Token custom");
  auto p = makeProvider("http://127.0.0.1:1/v1", "sk-upstream", config);
  clientRequest("POST", "/v1/chat/completions", kChatBody, {{"api-key", "client"}});
  Built b = build(*p, Endpoint::ChatCompletions);
  EXPECT_EQ(b.get("api-key"), "azure-key");
  EXPECT_EQ(b.count("authorization"), 1u);
  EXPECT_EQ(b.get("authorization"), "Token custom");
}

TEST_F(BuildRequest, ConfigCannotBreakFraming) {
  http::HeaderList config;
  config.add("host", "other.example");
  config.add("connection", "close");
  config.add("accept-encoding", "gzip");
  auto p = makeProvider("http://127.0.0.1:1/v1", "sk-upstream", config);
  clientRequest("POST", "/v1/chat/completions", kChatBody, {});
  Built b = build(*p, Endpoint::ChatCompletions);
  EXPECT_EQ(b.count("host"), 1u);
  EXPECT_EQ(b.get("host"), "127.0.0.1:1");
  EXPECT_EQ(b.count("connection"), 0u);
  EXPECT_EQ(b.count("accept-encoding"), 1u);
  EXPECT_EQ(b.get("accept-encoding"), "identity");
}

TEST_F(BuildRequest, AcceptEncodingIsIdentity) {
  auto p = makeProvider();
  clientRequest("POST", "/v1/chat/completions", kChatBody, {{"accept-encoding", "gzip, br"}});
  Built b = build(*p, Endpoint::ChatCompletions);
  EXPECT_EQ(b.count("accept-encoding"), 1u);
  EXPECT_EQ(b.get("accept-encoding"), "identity");
}

TEST_F(BuildRequest, ContentTypeAndUserAgentDefaultsAndClientValues) {
  auto p = makeProvider();
  clientRequest("POST", "/v1/chat/completions", kChatBody, {});
  Built b = build(*p, Endpoint::ChatCompletions);
  EXPECT_EQ(b.get("content-type"), "application/json");
  EXPECT_EQ(b.get("user-agent").rfind("aigw/", 0), 0u);
  clientRequest("POST", "/v1/chat/completions", kChatBody,
                {{"content-type", "application/json; charset=utf-8"}, {"user-agent", "OpenAI/Python"}});
  b = build(*p, Endpoint::ChatCompletions);
  EXPECT_EQ(b.count("content-type"), 1u);
  EXPECT_EQ(b.get("content-type"), "application/json; charset=utf-8");
  EXPECT_EQ(b.get("user-agent"), "OpenAI/Python");
}

TEST_F(BuildRequest, PassthroughKeepsMethodPathSuffixAndQuery) {
  auto p = makeProvider();
  clientRequest("GET", "/v1/models?limit=2&after=m-1", "", {{"accept", "application/json"}});
  Built b = build(*p, Endpoint::Passthrough, "", "", "/models?limit=2&after=m-1");
  EXPECT_EQ(b.method, "GET");
  EXPECT_EQ(b.target, "/v1/models?limit=2&after=m-1");
  EXPECT_EQ(b.body, "");
  EXPECT_EQ(b.count("content-length"), 0u);
  EXPECT_EQ(b.count("content-type"), 0u);
  EXPECT_EQ(b.get("authorization"), "Bearer sk-upstream");
}

TEST_F(BuildRequest, PassthroughDeleteAndHeadWithoutBodyCarryNoContentLength) {
  auto p = makeProvider();
  clientRequest("DELETE", "/v1/files/file-1", "", {});
  Built b = build(*p, Endpoint::Passthrough, "", "", "/files/file-1");
  EXPECT_EQ(b.method, "DELETE");
  EXPECT_EQ(b.target, "/v1/files/file-1");
  EXPECT_EQ(b.count("content-length"), 0u);
  clientRequest("HEAD", "/v1/models", "", {});
  EXPECT_EQ(build(*p, Endpoint::Passthrough, "", "", "/models").count("content-length"), 0u);
}

TEST_F(BuildRequest, PassthroughPostWithEmptyBodySaysSo) {
  auto p = makeProvider();
  clientRequest("POST", "/v1/batches/b1/cancel", "", {});
  Built b = build(*p, Endpoint::Passthrough, "", "", "/batches/b1/cancel");
  EXPECT_EQ(b.get("content-length"), "0");
}

TEST_F(BuildRequest, PassthroughNonJsonBodyIsRelayedAsIs) {
  auto p = makeProvider();
  const std::string body = "--b\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n--b--\r\n";
  clientRequest("POST", "/v1/files", body, {{"content-type", "multipart/form-data; boundary=b"}});
  Built b = build(*p, Endpoint::Passthrough, "", "", "/files");
  EXPECT_EQ(b.body, body);
  EXPECT_EQ(b.get("content-length"), std::to_string(body.size()));
  EXPECT_EQ(b.get("content-type"), "multipart/form-data; boundary=b");
}

TEST_F(BuildRequest, PassthroughJsonBodyGetsTheUpstreamModel) {
  auto p = makeProvider();
  clientRequest("POST", "/v1/responses", R"({"model":"alias","input":"hi"})", {{"content-type", "application/json"}});
  Built b = build(*p, Endpoint::Passthrough, "alias", "gpt-4.1", "/responses");
  EXPECT_EQ(b.target, "/v1/responses");
  EXPECT_EQ(nlohmann::json::parse(b.body)["model"], "gpt-4.1");
}

TEST_F(BuildRequest, DescribeShowsBaseUrlButNoKey) {
  auto p = makeProvider("http://127.0.0.1:1/v1", "sk-secret");
  nlohmann::json out;
  p->describe(out);
  EXPECT_EQ(out["base_url"], "http://127.0.0.1:1/v1");
  EXPECT_EQ(out.dump().find("sk-secret"), std::string::npos);
}

}  // namespace
}  // namespace aigw
