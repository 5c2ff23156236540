#include "upstream/dns_cache.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>

namespace aigw::upstream {

std::string addressText(const sockaddr_storage& a) {
  char buf[INET6_ADDRSTRLEN] = "?";
  if (a.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&a)->sin_addr, buf, sizeof(buf));
  } else if (a.ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&a)->sin6_addr, buf, sizeof(buf));
  }
  return buf;
}

struct DnsCache::Waiter final : DnsCache::Lookup {
  Entry* entry = nullptr;
  Callback cb;
  ~Waiter() override;
};

struct DnsCache::Request {
  uv_getaddrinfo_t req;
  DnsCache* cache;
  std::string key;
  int port;
};

struct DnsCache::Entry {
  AddressList addresses;
  uint64_t expires_ms = 0;
  Request* pending = nullptr;        // in flight (owned by libuv until its callback)
  std::vector<Waiter*> waiters;
};

DnsCache::Waiter::~Waiter() {
  if (entry != nullptr) {
    auto& w = entry->waiters;
    w.erase(std::remove(w.begin(), w.end(), this), w.end());
  }
}

DnsCache::DnsCache(uv_loop_t* loop, uint64_t ttl_ms) : loop_(loop), ttl_ms_(ttl_ms) {}

DnsCache::~DnsCache() {
  for (auto& [key, entry] : entries_) {
    for (Waiter* w : entry->waiters) w->entry = nullptr;
    if (entry->pending != nullptr) entry->pending->cache = nullptr;  // orphan: freed in its callback
  }
}

namespace {
bool literal(const std::string& host, int port, sockaddr_storage* out) {
  std::memset(out, 0, sizeof(*out));
  auto* v4 = reinterpret_cast<sockaddr_in*>(out);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    return true;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(out);
  if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    return true;
  }
  return false;
}
}  // namespace

std::unique_ptr<DnsCache::Lookup> DnsCache::resolve(const std::string& host, int port, Callback cb) {
  sockaddr_storage addr;
  if (literal(host, port, &addr)) {
    cb(0, AddressList{addr});
    return nullptr;
  }
  const std::string key = host + ":" + std::to_string(port);
  auto& slot = entries_[key];
  if (!slot) slot = std::make_unique<Entry>();
  Entry* entry = slot.get();
  const uint64_t now = uv_now(loop_);
  if (!entry->addresses.empty() && now < entry->expires_ms) {
    cb(0, entry->addresses);
    return nullptr;
  }
  auto waiter = std::make_unique<Waiter>();
  waiter->entry = entry;
  waiter->cb = std::move(cb);
  entry->waiters.push_back(waiter.get());
  if (entry->pending == nullptr) {
    auto* req = new Request{{}, this, key, port};
    req->req.data = req;
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_ADDRCONFIG;
    const std::string service = std::to_string(port);
    int rc = uv_getaddrinfo(loop_, &req->req, &DnsCache::onResolved, host.c_str(), service.c_str(), &hints);
    if (rc != 0) {
      delete req;
      entry->waiters.pop_back();
      waiter->entry = nullptr;
      waiter->cb(rc, AddressList{});
      return nullptr;
    }
    entry->pending = req;
  }
  return waiter;
}

void DnsCache::onResolved(uv_getaddrinfo_t* uvreq, int status, addrinfo* res) {
  std::unique_ptr<Request> req(static_cast<Request*>(uvreq->data));
  DnsCache* cache = req->cache;
  if (cache == nullptr) {  // the cache is gone
    uv_freeaddrinfo(res);
    return;
  }
  Entry* entry = cache->entries_[req->key].get();
  entry->pending = nullptr;
  AddressList addresses;
  if (status == 0) {
    // IPv4 first: loopback-only and v4-only hosts are the common case for upstreams.
    for (int pass = 0; pass < 2; ++pass) {
      for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
        if ((pass == 0) != (ai->ai_family == AF_INET)) continue;
        sockaddr_storage a{};
        std::memcpy(&a, ai->ai_addr, ai->ai_addrlen);
        addresses.push_back(a);
      }
    }
  }
  uv_freeaddrinfo(res);
  if (status == 0 && addresses.empty()) status = UV_EAI_NONAME;
  if (status == 0) {
    entry->addresses = addresses;
    entry->expires_ms = uv_now(cache->loop_) + cache->ttl_ms_;
  }
  // One at a time: a callback may destroy waiters still queued (they then unlink themselves).
  while (!entry->waiters.empty()) {
    Waiter* w = entry->waiters.front();
    entry->waiters.erase(entry->waiters.begin());
    w->entry = nullptr;
    Callback cb = std::move(w->cb);
    cb(status, addresses);
  }
}

}  // namespace aigw::upstream
