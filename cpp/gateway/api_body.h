// What the API request filter needs from a JSON request body, read in one pass without
// building a document (nlohmann's SAX interface): is it valid JSON, the types of the fields
// that decide routing and validity, the model and stream values, and the first bad message.
// Stages that need the whole document (the mock provider, transforms, guardrails) parse it
// lazily, once, through LazyJson.
#pragma once

#include <nlohmann/json.hpp>

#include "core/lazy_json.h"

#include <string>
#include <string_view>

namespace aigw {

// Deeper documents are refused: nlohmann parses iteratively, but copying and dumping a
// document recurse once per level (transforms, the model rename's fallback, guardrails), and a
// body of a few megabytes of '[' overflowed a worker's stack, taking the gateway down.
inline constexpr int kMaxJsonDepth = 512;

struct ApiBodySummary {
  struct Field {
    bool present = false;
    nlohmann::json::value_t type = nlohmann::json::value_t::null;
  };
  enum class MessageProblem { None, NotObject, MissingRole, RoleNotString, RoleInvalid, ContentInvalidType };

  bool valid = false;  // syntactically valid JSON, nested at most kMaxJsonDepth levels
  bool too_deep = false;  // valid up to where it passed kMaxJsonDepth
  nlohmann::json::value_t root = nlohmann::json::value_t::null;
  Field model, stream, messages, prompt, input;
  std::string model_value;
  bool stream_value = false;
  size_t message_count = 0;
  // The first message that is not {"role": <a known role>, ...}.
  MessageProblem problem = MessageProblem::None;
  size_t problem_index = 0;
  nlohmann::json::value_t problem_type = nlohmann::json::value_t::null;
  std::string problem_role;
  // A key repeated in one object, anywhere in the document. JSON leaves duplicates undefined:
  // the gateway's reader and the upstream's could take different ones (route by one model,
  // serve another; guard one content, send another), so such a body is refused.
  bool duplicate_key = false;
  std::string duplicate_key_name;
};

ApiBodySummary summarizeApiBody(std::string_view text);
bool isKnownRole(std::string_view role);

}  // namespace aigw
