// parseJson against nlohmann's own parser on arbitrary bytes. Property: the two agree exactly —
// both refuse, or both give the same document with the same type at every node (unsigned,
// integer and float numbers kept apart, -0.0 apart from 0.0) — so parseJson can replace
// nlohmann::json::parse wherever the data plane parses a body or an event.
#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/json_parse.h"
#include "fuzz_check.h"

namespace {

using json = nlohmann::json;

bool same(const json& a, const json& b) {
  if (a.type() != b.type()) return false;
  if (a.is_object()) {
    if (a.size() != b.size()) return false;
    for (auto ia = a.begin(), ib = b.begin(); ia != a.end(); ++ia, ++ib) {
      if (ia.key() != ib.key() || !same(ia.value(), ib.value())) return false;
    }
    return true;
  }
  if (a.is_array()) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      if (!same(a[i], b[i])) return false;
    }
    return true;
  }
  // dump() spells a float's sign and every bit of its value.
  return a.dump() == b.dump();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const json ours = aigw::parseJson(text);
  const json theirs = json::parse(text, nullptr, false);
  FUZZ_CHECK(ours.is_discarded() == theirs.is_discarded(), "accepted by %s only: %.*s",
             ours.is_discarded() ? "nlohmann" : "parseJson", static_cast<int>(size > 200 ? 200 : size), text.data());
  FUZZ_CHECK(ours.is_discarded() || same(ours, theirs), "documents differ: %s vs %s", ours.dump().c_str(),
             theirs.dump().c_str());
  return 0;
}
