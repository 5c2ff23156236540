// Blocking loopback client for tests: connect, send raw bytes, read until close or a full
// response. Kept deliberately simple and independent of the code under test.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <string>

namespace aigw::testing {

class RawClient {
 public:
  // `rcvbuf` > 0 fixes the socket's receive buffer (before connect, so the window is small).
  explicit RawClient(int port, int rcvbuf = 0, int sndbuf = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (rcvbuf > 0) setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    if (sndbuf > 0) setsockopt(fd_, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  ~RawClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool connected() const { return connected_; }
  bool send(const std::string& data) {
    size_t off = 0;
    while (off < data.size()) {
      ssize_t n = ::send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }
  // Reads until the peer closes or `timeout_ms` passes.
  std::string readAll(int timeout_ms = 3000) {
    std::string out;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (true) {
      int left = static_cast<int>(
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count());
      if (left <= 0) break;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, left) <= 0) break;
      char buf[16384];
      ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) {
        noteClosed(n);
        break;
      }
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }
  // Returns what one read brings within `timeout_ms` ("" on timeout or close).
  std::string readSome(int timeout_ms = 3000) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return {};
    char buf[65536];
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) {
      noteClosed(n);
      return {};
    }
    return std::string(buf, static_cast<size_t>(n));
  }
  // Half-closes: the server sees EOF, we can still read.
  void shutdownWrite() { ::shutdown(fd_, SHUT_WR); }
  // Reads until `needle` has appeared `count` times (or timeout / close).
  std::string readUntil(const std::string& needle, int count = 1, int timeout_ms = 3000) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (countOf(buffer_, needle) < count) {
      int left = static_cast<int>(
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count());
      if (left <= 0) break;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, left) <= 0) break;
      char buf[16384];
      ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) {
        noteClosed(n);
        break;
      }
      buffer_.append(buf, static_cast<size_t>(n));
    }
    std::string out;
    out.swap(buffer_);
    return out;
  }
  bool closed() const { return closed_; }
  // True when the connection ended with a TCP reset rather than a FIN.
  bool reset() const { return reset_; }
  int fd() const { return fd_; }

  static int countOf(const std::string& hay, const std::string& needle) {
    int n = 0;
    for (size_t pos = hay.find(needle); pos != std::string::npos; pos = hay.find(needle, pos + needle.size())) ++n;
    return n;
  }

 private:
  void noteClosed(ssize_t n) {
    closed_ = true;
    if (n < 0 && errno == ECONNRESET) reset_ = true;
  }

  int fd_ = -1;
  bool reset_ = false;
  bool connected_ = false;
  bool closed_ = false;
  std::string buffer_;
};

}  // namespace aigw::testing
