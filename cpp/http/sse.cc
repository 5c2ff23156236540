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

namespace aigw::http {

bool SseDecoder::feed(std::string_view bytes) {
  if (overflow_) return false;
  size_t pos = 0;
  while (pos < bytes.size()) {
    if (last_was_cr_) {
      last_was_cr_ = false;
      if (bytes[pos] == '\n') {  // the LF of a CRLF whose CR ended the previous feed
        ++pos;
        continue;
      }
    }
    size_t eol = bytes.find_first_of("\r\n", pos);
    if (eol == std::string_view::npos) {
      partial_.append(bytes.substr(pos));
      if (partial_.size() + data_.size() > max_) {
        overflow_ = true;
        return false;
      }
      return true;
    }
    // The cap covers the whole line, however it was split across feeds: the same stream
    // overflows (or not) whatever the read boundaries were.
    if (partial_.size() + (eol - pos) + data_.size() > max_) {
      overflow_ = true;
      return false;
    }
    if (partial_.empty()) {
      line(bytes.substr(pos, eol - pos));
    } else {
      partial_.append(bytes.substr(pos, eol - pos));
      std::string whole;
      whole.swap(partial_);
      line(whole);
    }
    if (bytes[eol] == '\r') {
      if (eol + 1 < bytes.size()) {
        pos = bytes[eol + 1] == '\n' ? eol + 2 : eol + 1;
      } else {
        last_was_cr_ = true;
        pos = eol + 1;
      }
    } else {
      pos = eol + 1;
    }
  }
  return true;
}

void SseDecoder::line(std::string_view text) {
  if (text.empty()) {
    dispatch();
    return;
  }
  if (text[0] == ':') return;  // comment
  size_t colon = text.find(':');
  std::string_view field = text.substr(0, colon);
  std::string_view value;
  if (colon != std::string_view::npos) {
    value = text.substr(colon + 1);
    if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    if (has_data_) data_.push_back('\n');
    data_.append(value);
    has_data_ = true;
  } else if (field == "event") {
    event_.assign(value);
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) id_.assign(value);
  }
  // "retry" and unknown fields are ignored.
}

void SseDecoder::dispatch() {
  if (has_data_) {
    Event e{event_.empty() ? std::string_view("message") : std::string_view(event_), data_, id_};
    cb_(ctx_, e);
  }
  data_.clear();
  event_.clear();
  has_data_ = false;
}

}  // namespace aigw::http
