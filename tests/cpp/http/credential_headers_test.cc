// Credential headers: which fields never reach a provider or a hook, and which configured
// values the relay masks.
#include "http/credential_headers.h"

#include <gtest/gtest.h>

namespace aigw::http {
namespace {

TEST(CredentialHeaders, ClientCredentialsAreTheAuthAndKeyFieldsAndCookies) {
  for (const char* name : {"authorization", "proxy-authorization", "x-api-key", "api-key", "cookie"}) {
    EXPECT_TRUE(isClientCredential(name)) << name;
  }
  for (const char* name : {"content-type", "x-goog-api-key-hint", "set-cookie", "openai-organization"}) {
    EXPECT_FALSE(isClientCredential(name)) << name;
  }
}

TEST(CredentialHeaders, NamesThatSayTheyHoldASecretLookLikeCredentials) {
  for (const char* name : {"authorization", "cookie", "x-goog-api-key", "x-auth-token", "x-client-secret",
                           "x-password", "anthropic-api-key"}) {
    EXPECT_TRUE(looksLikeCredential(name)) << name;
  }
  for (const char* name : {"content-type", "x-request-id", "openai-organization", "anthropic-version"}) {
    EXPECT_FALSE(looksLikeCredential(name)) << name;
  }
}

TEST(CredentialHeaders, HookViewOfHeadersLeavesClientCredentialsOut) {
  HeaderList h;
  h.add("authorization", "Bearer sk-secret");
  h.add("content-type", "application/json");
  h.add("cookie", "session=1");
  h.add("x-note", "say \"hi\"");
  h.add("x-api-key", "k");
  std::string out = "prefix:";
  appendHeadersJsonWithoutCredentials(out, h);
  EXPECT_EQ(out, R"(prefix:{"content-type":"application/json","x-note":"say \"hi\""})");
}

TEST(CredentialHeaders, HookViewOfOnlyCredentialsIsAnEmptyObject) {
  HeaderList h;
  h.add("authorization", "Bearer x");
  std::string out;
  appendHeadersJsonWithoutCredentials(out, h);
  EXPECT_EQ(out, "{}");
}

}  // namespace
}  // namespace aigw::http
