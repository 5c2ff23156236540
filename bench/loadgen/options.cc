#include "loadgen/options.h"

#include <arpa/inet.h>
#include <netdb.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace aigw::bench {

namespace {

bool parseDouble(const char* text, double* out) {
  char* end = nullptr;
  *out = std::strtod(text, &end);
  return end != text && *end == '\0';
}

// Durations accept a bare number of seconds or a suffix: 500ms, 2s, 1m.
bool parseSeconds(const std::string& text, double* out) {
  std::string number = text;
  double scale = 1;
  if (number.size() > 2 && number.compare(number.size() - 2, 2, "ms") == 0) {
    number.resize(number.size() - 2);
    scale = 0.001;
  } else if (!number.empty() && number.back() == 's') {
    number.pop_back();
  } else if (!number.empty() && number.back() == 'm') {
    number.pop_back();
    scale = 60;
  }
  if (!parseDouble(number.c_str(), out)) return false;
  *out *= scale;
  return *out >= 0;
}

bool parseUint(const char* text, uint64_t* out) {
  char* end = nullptr;
  *out = std::strtoull(text, &end, 10);
  return end != text && *end == '\0';
}

bool resolve(const std::string& host, int port, sockaddr_in* addr) {
  std::string name = host == "localhost" ? "127.0.0.1" : host;
  std::memset(addr, 0, sizeof(*addr));
  addr->sin_family = AF_INET;
  addr->sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, name.c_str(), &addr->sin_addr) == 1) return true;
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(name.c_str(), nullptr, &hints, &res) != 0 || res == nullptr) return false;
  addr->sin_addr = reinterpret_cast<sockaddr_in*>(res->ai_addr)->sin_addr;
  freeaddrinfo(res);
  return true;
}

bool parseUrl(const std::string& url, Target* target, std::string* error) {
  const std::string scheme = "http://";
  if (url.compare(0, scheme.size(), scheme) != 0) {
    *error = "only http:// URLs are supported: " + url;
    return false;
  }
  const std::string rest = url.substr(scheme.size());
  const size_t slash = rest.find('/');
  const std::string authority = rest.substr(0, slash);
  target->path = slash == std::string::npos ? "/" : rest.substr(slash);
  const size_t colon = authority.rfind(':');
  target->host = authority.substr(0, colon);
  target->port = 80;
  if (colon != std::string::npos) {
    uint64_t port = 0;
    if (!parseUint(authority.substr(colon + 1).c_str(), &port) || port == 0 || port > 65535) {
      *error = "bad port in " + url;
      return false;
    }
    target->port = static_cast<int>(port);
  }
  if (!resolve(target->host, target->port, &target->addr)) {
    *error = "cannot resolve " + target->host + " (IPv4 only)";
    return false;
  }
  target->url = url;
  return true;
}

// A body is JSON text when it looks like it, else the name of a file (an '@' prefix forces it).
bool loadBody(const std::string& arg, std::string* body, std::string* error) {
  if (!arg.empty() && (arg[0] == '{' || arg[0] == '[')) {
    *body = arg;
    return true;
  }
  const std::string path = !arg.empty() && arg[0] == '@' ? arg.substr(1) : arg;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = "--body: not JSON and not a readable file: " + arg;
    return false;
  }
  std::ostringstream text;
  text << in.rdbuf();
  *body = text.str();
  return true;
}

void buildRequest(const Options& options, const std::string& body, Target* target) {
  const std::string method = !options.method.empty() ? options.method : body.empty() ? "GET" : "POST";
  std::string r;
  r.reserve(256 + body.size());
  r += method + " " + target->path + " HTTP/1.1\r\n";
  r += "Host: " + target->host + ":" + std::to_string(target->port) + "\r\n";
  bool has_type = false;
  bool has_accept = false;
  for (const std::string& h : options.headers) {
    r += h + "\r\n";
    if (strncasecmp(h.c_str(), "content-type:", 13) == 0) has_type = true;
    if (strncasecmp(h.c_str(), "accept:", 7) == 0) has_accept = true;
  }
  if (!body.empty() && !has_type) r += "Content-Type: application/json\r\n";
  if (options.sse && !has_accept) r += "Accept: text/event-stream\r\n";
  if (!body.empty() || method == "POST" || method == "PUT") {
    r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  r += "\r\n";
  r += body;
  target->request_bytes = std::move(r);
}

}  // namespace

const char* usageText() {
  return R"(usage: aigw-loadgen [options] URL [URL ...]

Several URLs are hit in turn (A/B interleaving: request i goes to URL i mod n), each with its
own connections and its own results.

mode (one of):
  --rate R              open loop: R requests/s in total at fixed intended send times;
                        latency counts from the intended time (coordinated omission corrected)
  --concurrency C       closed loop: C virtual users, each sends again when answered
  --requests N          N measured requests, --concurrency at a time (default 1)
load:
  --duration T          measured window (default 10s; 500ms, 2s, 1m accepted)
  --warmup T            sent and answered before the window, not recorded (default 1s)
  --ramp T              closed loop: start the virtual users evenly over T
  --connections N       keep-alive connections per URL in open loop (default 64)
  --max-connecting N    connects in flight while opening connections (default 256)
  --timeout T           per request (default 10s); --drain T: wait after the window (default: timeout)
request:
  --method M            default POST with a body, GET without
  --body JSON|FILE|@FILE
                        once for every URL, or once per URL in URL order (A/B of two
                        requests, e.g. two models routed differently)
  --header 'Name: value'  (repeatable)
  --sse                 the answer is an SSE stream: time to first data event, gaps between
                        events, lost/merged events
  --sse-events N        expected data events per stream (streams with another count are lost)
output:
  --json                one JSON document on stdout (latencies in microseconds)
  --progress T          a JSON progress line on stderr every T
)";
}

bool parseOptions(int argc, char** argv, Options* o, std::string* error, bool* help) {
  *help = false;
  bool have_rate = false;
  bool have_concurrency = false;
  bool have_requests = false;
  std::vector<std::string> urls;
  std::vector<std::string> body_args;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](const char** out) {
      if (i + 1 >= argc) {
        *error = arg + " needs a value";
        return false;
      }
      *out = argv[++i];
      return true;
    };
    auto seconds = [&](double* out) {
      const char* v = nullptr;
      if (!value(&v)) return false;
      if (!parseSeconds(v, out)) {
        *error = arg + ": not a duration: " + v;
        return false;
      }
      return true;
    };
    auto count = [&](uint64_t* out, uint64_t min) {
      const char* v = nullptr;
      if (!value(&v)) return false;
      if (!parseUint(v, out) || *out < min) {
        *error = arg + ": not a count >= " + std::to_string(min) + ": " + v;
        return false;
      }
      return true;
    };
    const char* v = nullptr;
    uint64_t n = 0;
    if (arg == "-h" || arg == "--help") {
      *help = true;
      return false;
    } else if (arg == "--rate") {
      if (!value(&v)) return false;
      if (!parseDouble(v, &o->rate) || o->rate <= 0) {
        *error = "--rate: not a positive number: " + std::string(v);
        return false;
      }
      have_rate = true;
    } else if (arg == "--concurrency") {
      if (!count(&n, 1)) return false;
      o->concurrency = static_cast<int>(n);
      have_concurrency = true;
    } else if (arg == "--requests") {
      if (!count(&o->requests, 1)) return false;
      have_requests = true;
    } else if (arg == "--duration") {
      if (!seconds(&o->duration_s)) return false;
    } else if (arg == "--warmup") {
      if (!seconds(&o->warmup_s)) return false;
    } else if (arg == "--ramp") {
      if (!seconds(&o->ramp_s)) return false;
    } else if (arg == "--timeout") {
      if (!seconds(&o->timeout_s)) return false;
    } else if (arg == "--drain") {
      if (!seconds(&o->drain_s)) return false;
    } else if (arg == "--progress") {
      if (!seconds(&o->progress_s)) return false;
    } else if (arg == "--connections") {
      if (!count(&n, 1)) return false;
      o->connections = static_cast<int>(n);
    } else if (arg == "--max-connecting") {
      if (!count(&n, 1)) return false;
      o->max_connecting = static_cast<int>(n);
    } else if (arg == "--method") {
      if (!value(&v)) return false;
      o->method = v;
    } else if (arg == "--body") {
      if (!value(&v)) return false;
      body_args.emplace_back(v);
    } else if (arg == "--header" || arg == "-H") {
      if (!value(&v)) return false;
      if (std::strchr(v, ':') == nullptr) {
        *error = "--header: expected 'Name: value': " + std::string(v);
        return false;
      }
      o->headers.emplace_back(v);
    } else if (arg == "--sse") {
      o->sse = true;
    } else if (arg == "--sse-events") {
      if (!count(&n, 1)) return false;
      o->sse_events = static_cast<int>(n);
      o->sse = true;
    } else if (arg == "--json") {
      o->json = true;
    } else if (!arg.empty() && arg[0] == '-') {
      *error = "unknown option " + arg;
      return false;
    } else {
      urls.push_back(arg);
    }
  }
  if (static_cast<int>(have_rate) + static_cast<int>(have_requests) > 1 || (have_rate && have_concurrency)) {
    *error = "choose one mode: --rate, --concurrency or --requests";
    return false;
  }
  o->mode = have_rate ? LoadMode::kOpenLoop : have_requests ? LoadMode::kFixedCount : LoadMode::kClosedLoop;
  if (!have_rate && !have_requests && !have_concurrency) {
    *error = "choose a mode: --rate R, --concurrency C or --requests N";
    return false;
  }
  if (urls.empty()) {
    *error = "no URL given";
    return false;
  }
  if (o->drain_s < 0) o->drain_s = o->timeout_s;
  if (body_args.size() > 1 && body_args.size() != urls.size()) {
    *error = "--body: give one for every URL or one per URL (" + std::to_string(body_args.size()) + " bodies, " +
             std::to_string(urls.size()) + " URLs)";
    return false;
  }
  for (const std::string& arg : body_args) {
    o->bodies.emplace_back();
    if (!loadBody(arg, &o->bodies.back(), error)) return false;
  }
  for (size_t i = 0; i < urls.size(); ++i) {
    Target t;
    if (!parseUrl(urls[i], &t, error)) return false;
    const std::string none;
    buildRequest(*o, o->bodies.empty() ? none : o->bodies[o->bodies.size() == 1 ? 0 : i], &t);
    o->targets.push_back(std::move(t));
  }
  return true;
}

}  // namespace aigw::bench
