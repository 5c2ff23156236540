// Name patterns: '*' matches any run of characters (also none); everything else is literal.
// Model names are matched this way by routes, conditional route groups and the price table.
#pragma once

#include <string_view>

namespace aigw {

// True when `text` matches `pattern`. If `captured` is given and the pattern has exactly one
// '*', it receives the part of `text` that '*' matched (a view into `text`).
bool globMatch(std::string_view pattern, std::string_view text, std::string_view* captured = nullptr);

}  // namespace aigw
