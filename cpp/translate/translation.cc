#include "translate/translation.h"

#include <algorithm>

namespace aigw::translate {

bool FieldPolicy::drop(std::string_view drop_name, std::string_view path, std::string_view why) {
  if (std::find(drop_params_.begin(), drop_params_.end(), drop_name) != drop_params_.end() ||
      std::find(drop_params_.begin(), drop_params_.end(), kDropEverything) != drop_params_.end()) {
    if (std::find(outcome_.dropped.begin(), outcome_.dropped.end(), drop_name) == outcome_.dropped.end()) {
      outcome_.dropped.emplace_back(drop_name);
    }
    return true;
  }
  if (!outcome_.ok) return false;  // the first refusal is the one reported
  outcome_.ok = false;
  outcome_.error.field = path;
  outcome_.error.drop_name = drop_name;
  std::string& m = outcome_.error.message;
  m = "'";
  m += path;
  m += "' cannot be expressed for ";
  m += target_;
  if (!why.empty()) {
    m += " (";
    m += why;
    m += ")";
  }
  m += "; add \"";
  m += drop_name;
  m += "\" to the route's drop_params to drop it";
  return false;
}

void FieldPolicy::refuse(std::string_view path, std::string_view message) {
  if (!outcome_.ok) return;
  outcome_.ok = false;
  outcome_.error.field = path;
  outcome_.error.drop_name.clear();
  outcome_.error.message = "'";
  outcome_.error.message += path;
  outcome_.error.message += "': ";
  outcome_.error.message += message;
}

}  // namespace aigw::translate
