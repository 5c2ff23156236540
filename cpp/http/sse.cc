#include "http/sse.h"

namespace aigw::http {

void appendSseEvent(std::string& out, std::string_view data, std::string_view event) {
  if (!event.empty()) {
    out.append("event: ");
    out.append(event);
    out.push_back('\n');
  }
  size_t pos = 0;
  while (true) {
    size_t eol = data.find_first_of("\r\n", pos);
    out.append("data: ");
    if (eol == std::string_view::npos) {
      out.append(data.substr(pos));
      out.push_back('\n');
      break;
    }
    out.append(data.substr(pos, eol - pos));
    out.push_back('\n');
    pos = eol + 1;
    if (data[eol] == '\r' && pos < data.size() && data[pos] == '\n') ++pos;
  }
  out.push_back('\n');
}

}  // namespace aigw::http
