// The openai provider's translation: a client request (parsed from the input by the gateway's
// own parser) rebuilt as the upstream request, and usage read from an answer. Properties of
// the rebuilt request, for each client request in the input:
//  - it is exactly one well-formed request to the gateway's strict parser (nothing smuggled),
//    to base_path + the endpoint's path, with one Host and the provider's credentials only;
//  - no hop-by-hop field, client credential or field the client's Connection names crosses;
//  - the body is the client's bytes, or with a renamed model exactly the client's document
//    with "model" set; its length is announced once and right.
// The usage reader must not crash on any body, and reports only counts it found.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/json_text.h"
#include "fuzz_check.h"
#include "http/request_parser.h"
#include "providers/openai_provider.h"
#include "providers/usage.h"
#include "upstream/origin.h"

namespace {

using aigw::CallRequest;
using aigw::Endpoint;
using aigw::http::Request;
using aigw::http::RequestParser;
using json = nlohmann::json;

const aigw::OpenAiProvider& provider() {
  static const std::unique_ptr<aigw::OpenAiProvider> p = [] {
    aigw::OpenAiOptions o;
    std::string error;
    aigw::upstream::parseBaseUrl("http://upstream.test:8080/base/v1", &o.origin, &error);
    o.api_key = "sk-upstream";
    o.headers.add("x-configured", "yes");
    o.headers.add("content-length", "999");  // gateway-owned: must never win
    auto made = aigw::OpenAiProvider::create("up", std::move(o), &error);
    FUZZ_CHECK(made != nullptr, "provider: %s", error.c_str());
    return made;
  }();
  return *p;
}

struct Routed {
  Endpoint endpoint = Endpoint::Passthrough;
  std::string suffix;  // what follows base_path in the upstream target
};

Routed route(const Request& r) {
  struct Known {
    std::string_view path;
    Endpoint endpoint;
    std::string_view suffix;
  };
  static const Known kEndpoints[] = {
      {"/v1/chat/completions", Endpoint::ChatCompletions, "/chat/completions"},
      {"/chat/completions", Endpoint::ChatCompletions, "/chat/completions"},
      {"/v1/completions", Endpoint::Completions, "/completions"},
      {"/completions", Endpoint::Completions, "/completions"},
      {"/v1/embeddings", Endpoint::Embeddings, "/embeddings"},
      {"/embeddings", Endpoint::Embeddings, "/embeddings"}};
  for (const Known& k : kEndpoints) {
    if (r.path() == k.path) return {k.endpoint, std::string(k.suffix)};
  }
  // Passthrough, as the gateway does it: the target after "/v1", query included.
  return {Endpoint::Passthrough, r.target.substr(r.target.rfind("/v1", 0) == 0 ? 3 : 0)};
}

bool connectionNames(const Request& r, std::string_view name) {
  for (const auto& h : r.headers) {
    if (h.name == "connection" && aigw::http::headerHasToken(h.value, name)) return true;
  }
  return false;
}

void checkBuilt(const Request& parsed) {
  // A streamed request reaches the provider at its head, as the gateway hands it over: no body
  // yet, and not read as JSON.
  const bool streamed = parsed.headers.find("x-fuzz-streamed") != nullptr;
  Request client = parsed;
  if (streamed) {
    client.body.clear();
    client.body_streamed = true;
  }
  const Routed routed = route(client);
  const json doc = streamed ? json() : json::parse(client.body, nullptr, false);
  const bool object = doc.is_object();
  std::string model;
  if (object && doc.contains("model") && doc["model"].is_string()) model = doc["model"].get<std::string>();
  // The upstream name: the client may pick it (to reach odd bytes), else a rename or none.
  std::string upstream_model = model;
  if (const std::string* pick = client.headers.find("x-fuzz-upstream-model")) {
    upstream_model = *pick;
  } else if (client.body.size() % 2 == 1) {
    upstream_model = "renamed/" + model;
  }
  aigw::LazyJson lazy(client.body);
  const CallRequest req{routed.endpoint, client,          client.body, lazy,     object, model, upstream_model,
                        false,           "req_fuzz",      routed.suffix, streamed};
  const std::string built = provider().buildRequest(req);

  aigw::http::ParserLimits generous;
  generous.max_header_bytes = generous.max_url_bytes = 1 << 20;
  generous.max_headers = 1 << 10;
  RequestParser parser(generous);
  const RequestParser::Result r = parser.feed(built.data(), built.size());
  if (streamed) {
    // The body follows later: the head alone must be well-formed and complete.
    FUZZ_CHECK(r.event != RequestParser::Event::Error, "a streamed request head that fails: %s\n%s",
               parser.errorReason().c_str(), built.c_str());
    FUZZ_CHECK(r.consumed == built.size() && (parser.inBody() || r.event == RequestParser::Event::MessageComplete),
               "a streamed request head that is not complete:\n%s", built.c_str());
    return;
  }
  FUZZ_CHECK(r.event == RequestParser::Event::MessageComplete && r.consumed == built.size(),
             "the upstream request is not one request (event %d, %zu of %zu bytes, %s):\n%s",
             static_cast<int>(r.event), r.consumed, built.size(), parser.errorReason().c_str(), built.c_str());
  const Request& up = parser.request();
  FUZZ_CHECK(up.method == (routed.endpoint == Endpoint::Passthrough ? client.method : "POST"), "method %s",
             up.method.c_str());
  FUZZ_CHECK(up.target == "/base/v1" + routed.suffix, "target %s", up.target.c_str());
  FUZZ_CHECK(up.headers.count("host") == 1 && *up.headers.find("host") == "upstream.test:8080", "Host");
  FUZZ_CHECK(up.headers.count("authorization") == 1 && *up.headers.find("authorization") == "Bearer sk-upstream",
             "the upstream credentials");
  for (const auto& h : up.headers) {
    const std::string& n = h.name;
    FUZZ_CHECK(n != "connection" && n != "keep-alive" && n != "te" && n != "trailer" && n != "upgrade" &&
                   n != "transfer-encoding" && n != "proxy-authorization" && n != "cookie" && n != "x-api-key" &&
                   n != "expect",
               "'%s' crossed the gateway", n.c_str());
    FUZZ_CHECK(n == "host" || n == "content-length" || n == "authorization" || n == "accept-encoding" ||
                   n == "user-agent" || n == "content-type" || n == "x-configured" || !connectionNames(client, n),
               "'%s', named by the client's Connection, crossed the gateway", n.c_str());
  }
  FUZZ_CHECK(up.headers.count("content-length") <= 1, "two lengths");
  if (up.headers.count("content-length") == 0) FUZZ_CHECK(up.body.empty(), "a body without a length");
  if (!object || upstream_model.empty() || upstream_model == model) {
    FUZZ_CHECK(up.body == client.body, "the body changed without a rename");
    return;
  }
  json want = doc;
  std::string literal;
  aigw::appendJsonString(literal, upstream_model);
  want["model"] = json::parse(literal);
  FUZZ_CHECK(json::parse(up.body, nullptr, false) == want, "the renamed body says more than the new model:\n%s",
             up.body.c_str());
}

void checkUsage(std::string_view body) {
  aigw::CallUsage usage;
  const bool found = aigw::extractUsage(body, &usage);
  if (found) FUZZ_CHECK(usage.prompt_tokens >= 0 || usage.completion_tokens >= 0, "usage found without a count");
  if (body.find("\"usage\"") == std::string_view::npos) FUZZ_CHECK(!found, "usage found where there is none");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  checkUsage(input);
  RequestParser parser(aigw::http::ParserLimits{});
  size_t off = 0;
  for (int requests = 0, calls = 0; off < input.size() && requests < 4 && calls < 16; ++calls) {
    const RequestParser::Result r = parser.feed(input.data() + off, input.size() - off);
    off += r.consumed;
    if (r.event == RequestParser::Event::Error || r.event == RequestParser::Event::NeedMore) break;
    if (r.event != RequestParser::Event::MessageComplete) continue;
    ++requests;
    checkBuilt(parser.request());
    checkUsage(parser.request().body);
    parser.nextMessage();
  }
  return 0;
}
