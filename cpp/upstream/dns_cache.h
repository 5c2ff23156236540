// Per-worker DNS: uv_getaddrinfo (on libuv's thread pool) behind a small TTL cache, with
// concurrent lookups of one name coalesced. IP literals never reach the resolver.
#pragma once

#include <sys/socket.h>
#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace aigw::upstream {

// An address as text ("127.0.0.1", "::1"; "?" for another family), for errors and logs.
std::string addressText(const sockaddr_storage& a);

using AddressList = std::vector<sockaddr_storage>;

class DnsCache {
 public:
  // status 0 and at least one address, or a negative libuv error.
  using Callback = std::function<void(int status, const AddressList& addresses)>;

  // A pending lookup; destroying it guarantees the callback never runs.
  class Lookup {
   public:
    virtual ~Lookup() = default;
  };

  DnsCache(uv_loop_t* loop, uint64_t ttl_ms);
  ~DnsCache();

  // Calls `cb` synchronously (and returns null) when the answer is cached or `host` is an IP
  // literal; otherwise returns the pending lookup.
  std::unique_ptr<Lookup> resolve(const std::string& host, int port, Callback cb);

 private:
  struct Entry;
  struct Waiter;
  struct Request;
  static void onResolved(uv_getaddrinfo_t* req, int status, addrinfo* res);

  uv_loop_t* loop_;
  uint64_t ttl_ms_;
  std::unordered_map<std::string, std::unique_ptr<Entry>> entries_;
};

}  // namespace aigw::upstream
