// Token usage found in an OpenAI-shaped JSON body or stream event, without parsing the
// whole document: the "usage" object is located and only it is parsed.
#pragma once

#include <string_view>

#include "core/call.h"

namespace aigw {

// Returns true when `json` has a non-null top-level-looking "usage" object with a token count,
// and sets the counts that object has (leaving the others as they were), cached prompt
// tokens included.
bool extractUsage(std::string_view json, CallUsage* usage);

}  // namespace aigw
