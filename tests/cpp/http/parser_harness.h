// Test harness for RequestParser: feeds a byte string in pieces (whole, byte by byte, split at
// every point) and records what the parser reports, so every test can demand that the result
// does not depend on how the bytes arrived.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "http/request_parser.h"

namespace aigw::http::testing {

struct ParseEvent {
  RequestParser::Event event = RequestParser::Event::NeedMore;
  size_t offset = 0;  // stream offset where the parser stopped (not recorded for errors)
  int status = 0;     // errors only
  std::string reason;
  std::string method;
  std::string target;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  int http_minor = 1;
  bool keep_alive = false;
  bool expect_continue = false;
  bool upgrade = false;

  bool operator==(const ParseEvent&) const = default;
};

inline const char* eventName(RequestParser::Event e) {
  switch (e) {
    case RequestParser::Event::NeedMore: return "NeedMore";
    case RequestParser::Event::HeadersComplete: return "HeadersComplete";
    case RequestParser::Event::MessageComplete: return "MessageComplete";
    case RequestParser::Event::Error: return "Error";
  }
  return "?";
}

inline std::string describe(const std::vector<ParseEvent>& events) {
  std::string out;
  for (const auto& e : events) {
    out += eventName(e.event);
    if (e.event == RequestParser::Event::Error) {
      out += "(" + std::to_string(e.status) + " " + e.reason + ")";
    } else {
      out += "(@" + std::to_string(e.offset) + " " + e.method + " " + e.target + " body=" +
             std::to_string(e.body.size()) + "B)";
    }
    out += " ";
  }
  return out;
}

// Feeds `input` cut at `cuts` (ascending offsets), handling events the way ServerConnection
// does: after MessageComplete take the request and call nextMessage(), after HeadersComplete
// just feed the rest, after Error stop.
inline std::vector<ParseEvent> feedPieces(const std::string& input, const std::vector<size_t>& cuts,
                                          const ParserLimits& limits) {
  RequestParser parser(limits);
  std::vector<ParseEvent> events;
  size_t stream_off = 0;
  size_t piece_start = 0;
  for (size_t i = 0; i <= cuts.size(); ++i) {
    const size_t piece_end = i < cuts.size() ? cuts[i] : input.size();
    const char* data = input.data() + piece_start;
    size_t len = piece_end - piece_start;
    piece_start = piece_end;
    int guard = 0;
    while (len > 0) {
      if (++guard > 10000 || events.size() > 64) {
        ADD_FAILURE() << "parser made no progress";
        return events;
      }
      RequestParser::Result r = parser.feed(data, len);
      if (r.consumed > len) {
        ADD_FAILURE() << "consumed more than fed";
        return events;
      }
      data += r.consumed;
      len -= r.consumed;
      stream_off += r.consumed;
      if (r.event == RequestParser::Event::NeedMore) {
        if (len != 0) ADD_FAILURE() << "NeedMore left bytes unconsumed";
        break;
      }
      ParseEvent e;
      e.event = r.event;
      if (r.event == RequestParser::Event::Error) {
        e.status = parser.errorStatus();
        e.reason = parser.errorReason();
        events.push_back(std::move(e));
        return events;
      }
      e.offset = stream_off;
      const Request& req = parser.request();
      e.method = req.method;
      e.target = req.target;
      e.body = req.body;
      for (const auto& h : req.headers) e.headers.emplace_back(h.name, h.value);
      e.http_minor = req.http_minor;
      e.keep_alive = req.keep_alive;
      e.expect_continue = req.expect_continue;
      e.upgrade = req.upgrade;
      if (r.event == RequestParser::Event::MessageComplete) {
        // Headers-complete events carry no body yet; keep them comparable across splits.
        events.push_back(std::move(e));
        parser.nextMessage();
      } else {
        e.body.clear();
        events.push_back(std::move(e));
      }
    }
  }
  return events;
}

// Parses `input` whole, byte by byte, and split in two at every offset; every way must give
// the same events. Returns them.
inline std::vector<ParseEvent> parseEveryWay(const std::string& input, const ParserLimits& limits = {}) {
  std::vector<ParseEvent> whole = feedPieces(input, {}, limits);
  std::vector<size_t> bytewise;
  for (size_t i = 1; i < input.size(); ++i) bytewise.push_back(i);
  std::vector<ParseEvent> one = feedPieces(input, bytewise, limits);
  EXPECT_EQ(one, whole) << "byte by byte: " << describe(one) << "\nwhole: " << describe(whole);
  for (size_t cut = 1; cut < input.size(); ++cut) {
    std::vector<ParseEvent> split = feedPieces(input, {cut}, limits);
    if (split != whole) {
      ADD_FAILURE() << "split at " << cut << ": " << describe(split) << "\nwhole: " << describe(whole);
      break;
    }
  }
  return whole;
}

inline std::string headerValue(const ParseEvent& e, const std::string& name) {
  for (const auto& [n, v] : e.headers) {
    if (n == name) return v;
  }
  return "<absent>";
}

}  // namespace aigw::http::testing
