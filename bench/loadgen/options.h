// Command line of the load generator: what to hit (targets), how (open loop, closed loop or a
// fixed count), and what to measure. Parsing fails with one message naming the bad argument.
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <string>
#include <vector>

namespace aigw::bench {

enum class LoadMode {
  kOpenLoop,    // --rate: requests at fixed intended times, latency from the intended time
  kClosedLoop,  // --concurrency: each virtual user sends again as soon as its answer is in
  kFixedCount,  // --requests: N measured requests, --concurrency at a time (default 1)
};

struct Target {
  std::string url;
  std::string host;  // as written in the URL (sent as Host)
  int port = 80;
  std::string path;
  sockaddr_in addr{};
  std::string request_bytes;  // the whole request, built once and written as is every time
};

struct Options {
  LoadMode mode = LoadMode::kClosedLoop;
  double rate = 0;           // requests per second (open loop), summed over targets
  int concurrency = 1;       // virtual users (closed loop / fixed count)
  uint64_t requests = 0;     // measured requests (fixed count), summed over targets
  double duration_s = 10;    // measured window (open and closed loop)
  double warmup_s = 1;       // sent and answered, not recorded
  double ramp_s = 0;         // closed loop: spread the start of the virtual users
  int connections = 64;      // per target (open loop); closed loop uses `concurrency`
  int max_connecting = 256;  // connects in flight at once while opening connections
  double timeout_s = 10;     // per request, from the moment it is written
  double drain_s = -1;       // after the window: wait this long for answers (default: timeout)
  std::string method;        // default: POST with a body, else GET
  // One for every URL, or one per URL in URL order.
  std::vector<std::string> bodies;
  std::vector<std::string> headers;
  bool sse = false;
  int sse_events = 0;        // expected data events per stream (0: don't check the count)
  bool json = false;
  double progress_s = 0;     // print a progress line to stderr this often (0: never)
  std::vector<Target> targets;
};

// Returns false with `error` set; `help` is set when --help was asked for.
bool parseOptions(int argc, char** argv, Options* options, std::string* error, bool* help);
const char* usageText();

}  // namespace aigw::bench
