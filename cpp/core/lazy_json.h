// A JSON document parsed on first use, from text that outlives it (a request body).
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string_view>

#include "core/json_parse.h"

namespace aigw {

// A JSON body parsed on first use only.
class LazyJson {
 public:
  LazyJson() = default;
  explicit LazyJson(std::string_view text) : text_(text) {}
  void reset(std::string_view text) {
    text_ = text;
    doc_.reset();
  }
  // Text and the document it says, already parsed (a body decoded from another API).
  void reset(std::string_view text, nlohmann::json doc) {
    text_ = text;
    doc_ = std::move(doc);
  }
  // The document, or a discarded value when the text is not JSON.
  const nlohmann::json& get() const {
    if (!doc_) doc_ = parseJson(text_);
    return *doc_;
  }
  // For a stage that rewrites the body (guardrail redaction): edit the document in place, then
  // retarget() it to the new text, which must say the same.
  nlohmann::json& mutableDoc() {
    get();
    return *doc_;
  }
  void retarget(std::string_view text) { text_ = text; }

 private:
  std::string_view text_;
  mutable std::optional<nlohmann::json> doc_;
};

}  // namespace aigw
