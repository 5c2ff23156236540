#include "net/listen_socket.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace aigw::net {
namespace {

int openBound(const sockaddr* addr, socklen_t len, bool reuseport, std::string* error) {
  int fd = ::socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = std::string("socket: ") + strerror(errno);
    return -1;
  }
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (reuseport) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  if (addr->sa_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  if (::bind(fd, addr, len) != 0) {
    *error = std::string("bind: ") + strerror(errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

int bindReusePortGroup(const std::string& host, int port, int count, std::vector<int>* fds, std::string* error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  const std::string service = std::to_string(port);
  int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &res);
  if (rc != 0 || res == nullptr) {
    *error = "cannot resolve listen address '" + host + "': " + gai_strerror(rc);
    return -1;
  }
  sockaddr_storage addr{};
  std::memcpy(&addr, res->ai_addr, res->ai_addrlen);
  socklen_t addr_len = static_cast<socklen_t>(res->ai_addrlen);
  freeaddrinfo(res);

  if (port != 0) {
    // Probe without SO_REUSEPORT: fails if anything (even another reuseport group) holds it.
    std::string probe_error;
    int probe = openBound(reinterpret_cast<sockaddr*>(&addr), addr_len, false, &probe_error);
    if (probe < 0) {
      *error = "cannot listen on " + host + ":" + service + ": " + probe_error.substr(6);
      return -1;
    }
    ::close(probe);
  }
  for (int i = 0; i < count; ++i) {
    int fd = openBound(reinterpret_cast<sockaddr*>(&addr), addr_len, true, error);
    if (fd < 0) {
      *error = "cannot listen on " + host + ":" + std::to_string(port) + ": " + error->substr(6);
      for (int f : *fds) ::close(f);
      fds->clear();
      return -1;
    }
    if (i == 0 && port == 0) {
      sockaddr_storage bound{};
      socklen_t bound_len = sizeof(bound);
      getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_len);
      port = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                               : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
      if (addr.ss_family == AF_INET6) {
        reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port = htons(static_cast<uint16_t>(port));
      } else {
        reinterpret_cast<sockaddr_in*>(&addr)->sin_port = htons(static_cast<uint16_t>(port));
      }
    }
    fds->push_back(fd);
  }
  return port;
}

}  // namespace aigw::net
