// A worker's upstream pools, one per provider, created on first use, plus the worker's DNS
// cache they share. Lives and dies with the worker's loop.
#pragma once

#include <memory>
#include <unordered_map>

#include "upstream/dns_cache.h"
#include "upstream/upstream_pool.h"

namespace aigw::upstream {

class PoolRegistry {
 public:
  PoolRegistry(EventLoop& loop, uint64_t dns_ttl_ms) : loop_(loop), dns_(loop.uv(), dns_ttl_ms) {}

  // The pool for `owner` (a provider), made from the arguments the first time.
  UpstreamPool& get(const void* owner, const Origin& origin, const std::shared_ptr<net::TlsClientContext>& tls,
                    const PoolOptions& options) {
    auto& slot = pools_[owner];
    if (!slot) slot = std::make_unique<UpstreamPool>(loop_, dns_, origin, tls, options);
    return *slot;
  }
  void shutdown() {
    for (auto& [owner, pool] : pools_) pool->shutdown();
  }

 private:
  EventLoop& loop_;
  DnsCache dns_;
  std::unordered_map<const void*, std::unique_ptr<UpstreamPool>> pools_;
};

}  // namespace aigw::upstream
