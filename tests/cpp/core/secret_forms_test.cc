// addSecretForms: a secret and its JSON-escaped form, each once, never a short string.
#include "core/secret_forms.h"

#include <gtest/gtest.h>

namespace aigw {
namespace {

TEST(SecretForms, PlainAndJsonEscapedEachOnce) {
  std::vector<std::string> out;
  addSecretForms(out, "key/with\"quote");
  addSecretForms(out, "key/with\"quote");
  EXPECT_EQ(out, (std::vector<std::string>{"key/with\"quote", "key/with\\\"quote"}));
  addSecretForms(out, "sk-plain-123");
  EXPECT_EQ(out.size(), 3u);  // a key JSON leaves alone has one form
}

TEST(SecretForms, ShortStringsAreNoSecrets) {
  std::vector<std::string> out;
  addSecretForms(out, "abcde");
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace aigw
