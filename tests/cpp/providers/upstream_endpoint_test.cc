// pathSafeModel: which client-named models may go into an upstream URL's path, and that the
// providers that put the model in the path refuse the others instead of sending them.
#include "providers/upstream_endpoint.h"

#include <gtest/gtest.h>

#include "providers/gemini_provider.h"

namespace aigw {
namespace {

TEST(PathSafeModel, DotSegmentsAndEmptyNamesAreRefused) {
  struct Case {
    const char* model;
    bool safe;
  } cases[] = {
      {"gpt-4o", true},           {"gemini-2.5-flash", true}, {"anthropic.claude-v2:1", true},
      {"tunedModels/my-1", true}, {"v1.2", true},             {"...", true},
      {"", false},                {".", false},               {"..", false},
      {"../x", false},            {"a/../b", false},          {"a/..", false},
      {"%2e%2e", false},          {"%2E.", false},            {"a/%2e", false},
  };
  for (const Case& c : cases) EXPECT_EQ(pathSafeModel(c.model), c.safe) << c.model;
}

TEST(PathSafeModel, AGeminiProviderRefusesATraversingModel) {
  GeminiOptions o;
  std::string error;
  ASSERT_TRUE(upstream::parseBaseUrl("http://127.0.0.1:1/v1beta", &o.origin, &error)) << error;
  auto provider = GeminiProvider::create("g", std::move(o), &error);
  ASSERT_TRUE(provider) << error;
  http::Request http;
  http.body = R"({"model":"x","messages":[{"role":"user","content":"hi"}]})";
  LazyJson json(http.body);
  CallRequest req{Endpoint::ChatCompletions, http, http.body, json, true, "x", "../../v1/files", false, "req_1", {}};
  std::string out;
  int status = 0;
  EXPECT_FALSE(provider->buildRequest(req, &out, &status));
  EXPECT_EQ(status, 400);
  EXPECT_NE(out.find("cannot be used in the provider's URL"), std::string::npos);
}

}  // namespace
}  // namespace aigw
