// A tiny scripted HTTP upstream for loopback tests: blocking sockets on threads of its own,
// answering each request it receives with the next step of a script (normal, chunked, late,
// silent, closing, broken ...), and counting what it saw. Independent of the code under test.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace aigw::testing {

struct Step {
  enum class Action { Respond, NeverAnswer, CloseBeforeAnswer };
  Action action = Action::Respond;
  std::string bytes;                       // the response, written as is
  int delay_ms = 0;                        // wait this long before answering
  size_t stall_after = std::string::npos;  // write only this many bytes, then go silent
  bool close_after = false;                // close the connection after answering
  size_t piece_bytes = 0;                  // when set: write in pieces this big ...
  int piece_gap_ms = 0;                    // ... with this pause between them

  Step&& delayed(int ms) && { delay_ms = ms; return std::move(*this); }
  Step&& thenClose() && { close_after = true; return std::move(*this); }
  Step&& stallAfter(size_t n) && { stall_after = n; return std::move(*this); }
  Step&& paced(size_t bytes, int gap_ms) && {
    piece_bytes = bytes;
    piece_gap_ms = gap_ms;
    return std::move(*this);
  }
};

inline Step rawResponse(std::string bytes) { return Step{Step::Action::Respond, std::move(bytes)}; }

inline Step okResponse(const std::string& body, const std::string& extra_headers = "") {
  return rawResponse("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: " +
                     std::to_string(body.size()) + "\r\n" + extra_headers + "\r\n" + body);
}

inline Step chunkedResponse(const std::vector<std::string>& chunks, const std::string& type = "text/event-stream") {
  std::string out = "HTTP/1.1 200 OK\r\ncontent-type: " + type + "\r\ntransfer-encoding: chunked\r\n\r\n";
  char size[32];
  for (const auto& c : chunks) {
    snprintf(size, sizeof(size), "%zx\r\n", c.size());
    out += size + c + "\r\n";
  }
  return rawResponse(out + "0\r\n\r\n");
}

inline Step neverAnswer() { return Step{Step::Action::NeverAnswer}; }
inline Step closeBeforeAnswer() { return Step{Step::Action::CloseBeforeAnswer}; }

class ScriptedUpstream {
 public:
  explicit ScriptedUpstream(std::vector<Step> script) : script_(script.begin(), script.end()) {
    int p[2];
    if (::pipe(p) == 0) {
      wake_read_ = p[0];
      wake_write_ = p[1];
    }
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    ::listen(listen_fd_, 64);
    socklen_t len = sizeof(addr);
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { acceptLoop(); });
  }
  ~ScriptedUpstream() { stop(); }

  int port() const { return port_; }
  std::string baseUrl() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int accepted() const { return accepted_.load(); }
  int requests() const { return requests_.load(); }
  // Connections whose client closed them (seen as EOF while waiting for a request or silent).
  int peerCloses() const { return peer_closes_.load(); }
  std::vector<std::string> receivedRequests() {
    std::lock_guard<std::mutex> lock(mutex_);
    return received_;
  }

  // Waits (on the condition the server threads signal, not by polling) until `pred` holds.
  bool waitFor(const std::function<bool()>& pred, int timeout_ms = 5000) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, std::chrono::milliseconds(timeout_ms), pred);
  }

  void stop() {
    if (stopped_.exchange(true)) return;
    if (wake_write_ >= 0) (void)!::write(wake_write_, "x", 1);
    if (acceptor_.joinable()) acceptor_.join();
    std::vector<std::thread> threads;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      threads.swap(connections_);
    }
    for (auto& t : threads) t.join();
    ::close(listen_fd_);
    ::close(wake_read_);
    ::close(wake_write_);
  }

 private:
  // Waits until `fd` is readable; false when the server is stopping or the timeout passes.
  bool waitReadable(int fd, int timeout_ms = -1) {
    pollfd p[2] = {{wake_read_, POLLIN, 0}, {fd, POLLIN, 0}};
    int n = ::poll(p, fd >= 0 ? 2 : 1, timeout_ms);
    if (n <= 0 || (p[0].revents & POLLIN)) return false;
    return fd >= 0 && p[1].revents != 0;
  }
  // Sleeps `ms` unless the server stops first.
  void pause(int ms) {
    pollfd p{wake_read_, POLLIN, 0};
    ::poll(&p, 1, ms);
  }

  void bump(std::atomic<int>& counter) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++counter;
    }
    changed_.notify_all();
  }

  void acceptLoop() {
    while (waitReadable(listen_fd_)) {
      int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) continue;
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      std::lock_guard<std::mutex> lock(mutex_);
      ++accepted_;
      connections_.emplace_back([this, fd] { serve(fd); });
      changed_.notify_all();
    }
  }

  // One request: head up to the blank line plus a content-length body.
  bool readRequest(int fd, std::string& buffer, std::string* request) {
    while (true) {
      size_t head_end = buffer.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        size_t length = 0;
        std::string head = buffer.substr(0, head_end);
        std::transform(head.begin(), head.end(), head.begin(), [](unsigned char c) { return std::tolower(c); });
        size_t cl = head.find("\r\ncontent-length:");
        if (cl != std::string::npos) length = std::stoul(head.substr(cl + 17));
        if (buffer.size() >= head_end + 4 + length) {
          *request = buffer.substr(0, head_end + 4 + length);
          buffer.erase(0, head_end + 4 + length);
          return true;
        }
      }
      if (!waitReadable(fd)) return false;
      char buf[16384];
      ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
      if (n <= 0) {
        bump(peer_closes_);
        return false;
      }
      buffer.append(buf, static_cast<size_t>(n));
    }
  }

  // Stays silent until the client closes the connection or the server stops.
  void silent(int fd) {
    char buf[4096];
    while (waitReadable(fd)) {
      if (::recv(fd, buf, sizeof(buf), 0) <= 0) {
        bump(peer_closes_);
        return;
      }
    }
  }

  bool sendPaced(int fd, const Step& step, size_t n) {
    const size_t piece = step.piece_bytes > 0 ? step.piece_bytes : n;
    for (size_t off = 0; off < n; off += piece) {
      if (off > 0 && step.piece_gap_ms > 0) pause(step.piece_gap_ms);
      if (stopped_) return false;
      const size_t len = std::min(piece, n - off);
      if (::send(fd, step.bytes.data() + off, len, MSG_NOSIGNAL) != static_cast<ssize_t>(len)) return false;
    }
    return true;
  }

  void serve(int fd) {
    std::string buffer, request;
    while (readRequest(fd, buffer, &request)) {
      Step step;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        received_.push_back(request);
        if (script_.empty()) {
          step = closeBeforeAnswer();
        } else {
          step = std::move(script_.front());
          script_.pop_front();
        }
      }
      bump(requests_);
      if (step.delay_ms > 0) pause(step.delay_ms);
      if (stopped_) break;
      if (step.action == Step::Action::CloseBeforeAnswer) break;
      if (step.action == Step::Action::NeverAnswer) {
        silent(fd);
        break;
      }
      const size_t n = std::min(step.stall_after, step.bytes.size());
      if (!sendPaced(fd, step, n)) break;
      if (n < step.bytes.size()) {
        silent(fd);
        break;
      }
      if (step.close_after) break;
    }
    ::close(fd);
  }

  std::deque<Step> script_;
  int listen_fd_ = -1;
  int wake_read_ = -1;
  int wake_write_ = -1;
  int port_ = 0;
  std::atomic<int> accepted_{0};
  std::atomic<int> requests_{0};
  std::atomic<int> peer_closes_{0};
  std::atomic<bool> stopped_{false};
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> received_;
  std::vector<std::thread> connections_;
  std::thread acceptor_;
};

// A loopback port nothing listens on: bound (so no one else takes it) but not listening, so a
// connect is refused at once.
class RefusingPort {
 public:
  RefusingPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    socklen_t len = sizeof(addr);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~RefusingPort() { ::close(fd_); }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// A listener whose accept queue is full and never drained: Linux drops further SYNs, so a
// new connect hangs in SYN-SENT until the client gives up. The queue is filled with
// non-blocking connects until one of them does not complete.
class BlackholePort {
 public:
  BlackholePort() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    ::listen(listen_fd_, 0);
    socklen_t len = sizeof(addr);
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    for (int i = 0; i < 64 && !full_; ++i) {
      int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
      fillers_.push_back(fd);
      ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
      pollfd p{fd, POLLOUT, 0};
      if (::poll(&p, 1, 200) == 0) full_ = true;
    }
  }
  ~BlackholePort() {
    for (int fd : fillers_) ::close(fd);
    ::close(listen_fd_);
  }
  int port() const { return port_; }
  // False if the kernel kept accepting handshakes (then the test cannot make a hanging connect).
  bool full() const { return full_; }

 private:
  int listen_fd_ = -1;
  int port_ = 0;
  bool full_ = false;
  std::vector<int> fillers_;
};

}  // namespace aigw::testing
