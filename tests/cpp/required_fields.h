// A reader of the core config must refuse a document that lacks any of its fields: Python
// sends every one (config_fixture.h), so a missing one is a bug to report, not to default.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <functional>
#include <vector>

namespace aigw::testing {

// Each object field of `doc` in turn, taken away: `accepts(doc without it)` must be false, else
// the test fails naming the field. Skips the fields whose keys are names rather than the
// schema's (headers, prices) and the values transforms set.
inline void expectEveryFieldRequired(const nlohmann::json& doc,
                                     const std::function<bool(const nlohmann::json&)>& accepts) {
  ASSERT_TRUE(accepts(doc)) << "the complete document must be accepted";
  std::vector<nlohmann::json::json_pointer> fields;
  std::function<void(const nlohmann::json&, const nlohmann::json::json_pointer&, bool)> walk =
      [&](const nlohmann::json& j, const nlohmann::json::json_pointer& at, bool named_keys) {
        if (j.is_object()) {
          for (const auto& [key, value] : j.items()) {
            if (!named_keys) fields.push_back(at / key);
            const bool names = key == "headers" || key == "pricing";
            if (key != "value") walk(value, at / key, names);
          }
        } else if (j.is_array()) {
          for (size_t i = 0; i < j.size(); ++i) walk(j[i], at / i, false);
        }
      };
  walk(doc, nlohmann::json::json_pointer(), false);
  ASSERT_FALSE(fields.empty());
  for (const auto& field : fields) {
    nlohmann::json without = doc;
    without[field.parent_pointer()].erase(field.back());
    EXPECT_FALSE(accepts(without)) << "accepted without " << field.to_string();
  }
}

// The same for a reader that throws on a document it refuses.
template <typename Read>
void expectEveryFieldRequiredBy(const nlohmann::json& doc, Read read) {
  expectEveryFieldRequired(doc, [&](const nlohmann::json& d) {
    try {
      read(d);
      return true;
    } catch (const std::exception&) {
      return false;
    }
  });
}

}  // namespace aigw::testing
