// The server connection (http::ServerConnection) with the production limits, driven by a client
// over a socketpair on a real libuv loop: the input is what the client sends. The handlers
// answer in ways chosen by the first letter of the path (see FuzzHandler), so pipelining,
// deferred answers, chunked and length-framed streaming, bodiless statuses, streamed uploads
// (answered at the end, early, or with the body paused) all run. Properties:
//  - what the server wrote is a sequence of well-framed responses: one per answered request,
//    in order, with its status, then at most one error answer; nothing after `connection: close`;
//  - the requests handed to handlers and every byte written do not depend on how the input
//    was split into reads;
//  - once the client has sent everything and half-closed, the connection closes without
//    waiting for a timer, and frees everything (LeakSanitizer checks the handlers).
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/event_loop.h"
#include "core/timer.h"
#include "fuzz_check.h"
#include "http/server_connection.h"
#include "response_stream.h"

namespace {

using namespace aigw;
using http::HeaderList;
using http::Request;
using http::ResponseWriter;

// What one handler saw and did; compared across ways of splitting the input.
struct Seen {
  std::string method, target, body;
  std::vector<std::pair<std::string, std::string>> headers;
  bool streamed = false, body_ended = false, expect_continue = false, client_gone = false;
  int status = 0;  // the status it answered with; 0: it never answered
  bool operator==(const Seen&) const = default;
};

struct Run {
  std::vector<Seen> seen;
  std::string wire;  // every byte the server wrote, Date values blanked
  uint64_t errors = 0;
  bool operator==(const Run&) const = default;
};

Run* g_run = nullptr;
uint64_t g_progress = 0;  // bumped by every handler event: the loop is not quiet yet
int g_timers_pending = 0;

// Modes, by the first letter after '/': 'a' answers on the next loop turn, 'c' streams a
// chunked answer, 'l' streams a length-framed one, 'n' answers 204 or 304, 'u' streams the
// upload and answers at its end, 'e' answers a streamed upload before reading it, 'p' pauses the
// upload for a loop turn. Anything else answers at once.
char modeOf(const Request& r) { return r.target.size() > 1 ? r.target[1] : '/'; }
bool streamsBody(char mode) { return mode == 'u' || mode == 'e' || mode == 'p'; }

class FuzzHandler final : public http::RequestHandler {
 public:
  FuzzHandler(EventLoop& loop, Request&& request, ResponseWriter& writer)
      : writer_(writer), mode_(modeOf(request)), timer_(loop.uv(), [this] { onTimer(); }) {
    index_ = g_run->seen.size();
    Seen& s = g_run->seen.emplace_back();
    s.method = request.method;
    s.target = request.target;
    s.body = request.body;
    for (const auto& h : request.headers) s.headers.emplace_back(h.name, h.value);
    s.streamed = request.body_streamed;
    s.expect_continue = request.expect_continue;
  }
  ~FuzzHandler() override {
    if (timer_.active()) --g_timers_pending;
  }

  void start() override {
    ++g_progress;
    switch (mode_) {
      case 'a':
      case 'p':
        if (mode_ == 'p') writer_.pauseRequestBody();
        arm();
        break;
      case 'c':
        stream(200, -1);
        break;
      case 'l':
        stream(200, 4 + static_cast<int64_t>(seen().body.size()));
        break;
      case 'n': {
        const int status = seen().target.size() % 2 == 0 ? 204 : 304;
        seen().status = status;
        writer_.writeHead(status, {}, 5);
        writer_.endResponse();
        break;
      }
      case 'u':
        break;  // answers at onRequestEnd
      default:
        answer();
    }
  }
  void onClientGone() override {
    ++g_progress;
    seen().client_gone = true;
    if (timer_.active()) --g_timers_pending;
    timer_.stop();
    gone_ = true;
  }
  void onRequestBody(std::string_view data) override {
    ++g_progress;
    FUZZ_CHECK(seen().streamed && !seen().body_ended, "body bytes for a request that does not stream one");
    seen().body.append(data);
  }
  void onRequestEnd() override {
    ++g_progress;
    FUZZ_CHECK(seen().streamed && !seen().body_ended, "a second end of the body");
    seen().body_ended = true;
    if (mode_ == 'u' || (mode_ == 'p' && resumed_)) answer();
  }

 private:
  Seen& seen() { return g_run->seen[index_]; }
  void arm() {
    ++g_timers_pending;
    timer_.start(0);
  }
  void onTimer() {
    --g_timers_pending;
    ++g_progress;
    if (gone_) return;
    if (mode_ == 'p') {
      resumed_ = true;
      writer_.resumeRequestBody();
      if (seen().body_ended) answer();
      return;
    }
    answer();
  }
  void answer() {
    if (answered_) return;
    answered_ = true;
    seen().status = 200;
    HeaderList headers;
    headers.add("content-type", "text/plain");
    writer_.respond(200, headers, "ok:" + std::to_string(seen().body.size()));
  }
  void stream(int status, int64_t length) {
    answered_ = true;
    seen().status = status;
    writer_.writeHead(status, {}, length);
    if (length < 0) writer_.writeBody("");  // an empty piece must not end a chunked body
    writer_.writeBody("body");
    writer_.writeBody(seen().body);
    writer_.endResponse();
  }

  ResponseWriter& writer_;
  const char mode_;
  size_t index_;
  Timer timer_;
  bool answered_ = false;
  bool resumed_ = false;
  bool gone_ = false;
};

class FuzzFactory final : public http::RequestHandlerFactory {
 public:
  explicit FuzzFactory(EventLoop& loop) : loop_(loop) {}
  http::RequestHandlerPtr createHandler(Request&& request, ResponseWriter& writer) override {
    return std::make_unique<FuzzHandler>(loop_, std::move(request), writer);
  }
  bool streamRequestBody(const Request& head) override {
    ++g_progress;
    return streamsBody(modeOf(head));
  }
  std::string newRequestId() override { return "req_fuzz"; }

 private:
  EventLoop& loop_;
};

struct Server {
  EventLoop loop;
  FuzzFactory factory{loop};
  http::ServerCounters counters;
  http::ServerContext ctx;
  Server() {
    ctx.loop = &loop;
    ctx.factory = &factory;
    ctx.counters = &counters;
  }
};

Server& server() {
  static Server* s = new Server;  // never destroyed: the process ends with the fuzzer
  return *s;
}

// Blanks the Date values, the only bytes that depend on the clock: IMF-fixdates after
// "\r\ndate: ", overwritten in place so that an echoed body that looks like one keeps its length.
std::string withoutDates(std::string wire) {
  const size_t kDateLength = 29;  // "Sun, 06 Nov 1994 08:49:37 GMT"
  size_t pos = 0;
  while ((pos = wire.find("\r\ndate: ", pos)) != std::string::npos) {
    pos += 8;
    if (pos + kDateLength + 2 <= wire.size() && wire.compare(pos + kDateLength - 4, 6, " GMT\r\n") == 0) {
      wire.replace(pos, kDateLength, kDateLength, '-');
    }
  }
  return wire;
}

class Client {
 public:
  explicit Client(Server& s) : s_(s) {
    int fds[2];
    FUZZ_CHECK(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0, "socketpair: %d", errno);
    fd_ = fds[0];
    server_fd_ = fds[1];
    auto* tcp = new uv_tcp_t;  // the connection owns it from here and deletes it
    uv_tcp_init(s.loop.uv(), tcp);
    FUZZ_CHECK(uv_tcp_open(tcp, server_fd_) == 0, "uv_tcp_open");
    FUZZ_CHECK(s.counters.admit(1), "a connection place");  // as the worker takes one
    http::ServerConnection::adopt(s.ctx, tcp);
  }
  ~Client() { ::close(fd_); }

  void send(std::string_view data) {
    for (int turns = 0; !data.empty(); ++turns) {
      FUZZ_CHECK(turns < 10000, "the server stopped reading with %zu bytes unsent", data.size());
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n > 0) {
        data.remove_prefix(static_cast<size_t>(n));
      } else if (errno == EAGAIN) {
        turn();
      } else {
        return;  // the server closed: the rest is never read
      }
    }
  }
  // Turns the loop until nothing moves: no handler event, no byte read by either side, no
  // deferred answer waiting.
  void settle() {
    std::array<uint64_t, 4> last{};
    for (int quiet = 0, turns = 0; quiet < 3; ++turns) {
      FUZZ_CHECK(turns < 10000, "the connection never settles");
      turn();
      const std::array<uint64_t, 4> now{g_progress, wire_.size(), unread(), s_.ctx.live};
      quiet = (now == last && g_timers_pending == 0) ? quiet + 1 : 0;
      last = now;
    }
  }
  void finish() {
    ::shutdown(fd_, SHUT_WR);
    for (int turns = 0; s_.ctx.live > 0; ++turns) {
      FUZZ_CHECK(turns < 10000, "the connection stays open after the client's EOF");
      turn();
    }
    for (int i = 0; i < 4; ++i) turn();  // deferred deletes and close callbacks
  }
  const std::string& wire() const { return wire_; }

 private:
  void turn() {
    uv_run(s_.loop.uv(), UV_RUN_NOWAIT);
    while (read()) {
    }
  }
  bool read() {
    char buf[16384];
    const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) return false;
    wire_.append(buf, static_cast<size_t>(n));
    return true;
  }
  size_t unread() const {
    int n = 0;
    return s_.ctx.live > 0 && ::ioctl(server_fd_, FIONREAD, &n) == 0 ? static_cast<size_t>(n) : 0;
  }

  Server& s_;
  int fd_ = -1;
  int server_fd_ = -1;  // owned by the connection's handle
  std::string wire_;
};

Run serve(const std::vector<std::string_view>& pieces) {
  Server& s = server();
  Run run;
  g_run = &run;
  const uint64_t errors_before = s.counters.framing_errors + s.counters.limit_errors;
  const uint64_t requests_before = s.counters.requests;
  {
    Client client(s);
    for (std::string_view piece : pieces) {
      client.send(piece);
      client.settle();
    }
    client.finish();
    run.wire = withoutDates(client.wire());
  }
  g_run = nullptr;
  run.errors = s.counters.framing_errors + s.counters.limit_errors - errors_before;
  FUZZ_CHECK(s.ctx.live == 0 && s.ctx.head == nullptr && s.counters.connections_active == 0, "a connection leaked");
  FUZZ_CHECK(g_timers_pending == 0, "a handler outlived its connection");
  FUZZ_CHECK(s.counters.requests - requests_before == run.seen.size(), "requests counted: %llu, handled: %zu",
             static_cast<unsigned long long>(s.counters.requests - requests_before), run.seen.size());
  FUZZ_CHECK(run.errors <= 1, "%llu error answers on one connection", static_cast<unsigned long long>(run.errors));
  return run;
}

void checkWire(const Run& run) {
  std::vector<const Seen*> answered;
  for (const Seen& s : run.seen) {
    if (s.status != 0 && !s.client_gone) answered.push_back(&s);
  }
  const fuzz::WireParse parsed = fuzz::parseResponseStream(
      run.wire, [&](size_t i) { return i < answered.size() && answered[i]->method == "HEAD"; });
  FUZZ_CHECK(parsed.ok, "the server wrote a malformed response stream (%s):\n%s", parsed.error.c_str(),
             run.wire.c_str());
  size_t finals = 0;
  bool closed = false;
  for (const fuzz::WireResponse& r : parsed.responses) {
    FUZZ_CHECK(r.complete, "a response cut short");
    if (r.status == 100) continue;
    FUZZ_CHECK(!closed, "a response after `connection: close`:\n%s", run.wire.c_str());
    const std::string* connection = r.header("connection");
    closed = connection != nullptr && *connection == "close";
    if (finals < answered.size()) {
      FUZZ_CHECK(r.status == answered[finals]->status, "response %zu has status %d, its handler answered %d", finals,
                 r.status, answered[finals]->status);
    } else {
      FUZZ_CHECK(run.errors == 1 && finals == answered.size() && r.status >= 400 && closed,
                 "an unexplained response %d:\n%s", r.status, run.wire.c_str());
    }
    ++finals;
  }
  FUZZ_CHECK(finals == answered.size() + run.errors, "%zu responses for %zu answers and %llu errors:\n%s", finals,
             answered.size(), static_cast<unsigned long long>(run.errors), run.wire.c_str());
}

std::string show(const Run& r) {
  std::string out = std::to_string(r.seen.size()) + " requests:";
  for (const Seen& s : r.seen) out += " " + s.method + " " + s.target + "=" + std::to_string(s.status);
  return out + " errors=" + std::to_string(r.errors) + " wire=" + std::to_string(r.wire.size()) + "B";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const Run whole = serve({input});
  checkWire(whole);
  const Run split = serve(fuzz::piecesAt(input, fuzz::cutPoints(input, 6)));
  FUZZ_CHECK(split == whole, "split: %s\n  whole: %s\n  split wire:\n%s\n  whole wire:\n%s", show(split).c_str(),
             show(whole).c_str(), split.wire.c_str(), whole.wire.c_str());
  return 0;
}
