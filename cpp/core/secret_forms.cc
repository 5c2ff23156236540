#include "core/secret_forms.h"

#include <algorithm>

#include "core/json_text.h"

namespace aigw {

void addSecretForms(std::vector<std::string>& out, std::string_view secret) {
  if (secret.size() < kMinSecretBytes) return;
  std::string escaped;
  appendJsonString(escaped, secret);
  escaped = escaped.substr(1, escaped.size() - 2);
  for (std::string form : {std::string(secret), std::move(escaped)}) {
    if (std::find(out.begin(), out.end(), form) == out.end()) out.push_back(std::move(form));
  }
}

}  // namespace aigw
