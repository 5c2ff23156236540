// DnsCache: literals answered at once, names resolved on libuv's thread pool, answers cached
// for their TTL, concurrent lookups of one name coalesced, cancelled lookups never called.
#include "upstream/dns_cache.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <memory>

#include "core/event_loop.h"
#include "loop_driver.h"

namespace aigw::upstream {
namespace {

struct Answer {
  int calls = 0;
  int status = 1;
  AddressList addresses;
  DnsCache::Callback callback() {
    return [this](int s, const AddressList& a) {
      ++calls;
      status = s;
      addresses = a;
    };
  }
};

class DnsCacheTest : public ::testing::Test {
 protected:
  bool runUntil(const std::function<bool()>& pred, uint64_t timeout_ms = 10000) {
    return testing::runUntil(loop_, pred, timeout_ms);
  }
  static std::string text(const sockaddr_storage& a) { return addressText(a); }
  static int port(const sockaddr_storage& a) {
    return a.ss_family == AF_INET ? ntohs(reinterpret_cast<const sockaddr_in*>(&a)->sin_port)
                                  : ntohs(reinterpret_cast<const sockaddr_in6*>(&a)->sin6_port);
  }

  EventLoop loop_;
};

// An address literal needs no lookup: it is answered inside resolve(), which returns no handle.
struct Literal {
  const char* name;
  const char* host;
  int port;
  int family;
};

class DnsCacheLiteral : public DnsCacheTest, public ::testing::WithParamInterface<Literal> {};

TEST_P(DnsCacheLiteral, IsAnsweredSynchronously) {
  const Literal& c = GetParam();
  DnsCache dns(loop_.uv(), 60000);
  Answer a;
  EXPECT_EQ(dns.resolve(c.host, c.port, a.callback()), nullptr);
  ASSERT_EQ(a.calls, 1);
  EXPECT_EQ(a.status, 0);
  ASSERT_EQ(a.addresses.size(), 1u);
  EXPECT_EQ(a.addresses[0].ss_family, c.family);
  EXPECT_EQ(text(a.addresses[0]), c.host);
  EXPECT_EQ(port(a.addresses[0]), c.port);
}

INSTANTIATE_TEST_SUITE_P(DnsCacheTest, DnsCacheLiteral,
                         ::testing::Values(Literal{"Ipv4", "127.0.0.1", 8080, AF_INET},
                                           Literal{"Ipv6", "::1", 443, AF_INET6}),
                         [](const ::testing::TestParamInfo<Literal>& info) { return info.param.name; });

TEST_F(DnsCacheTest, NameIsResolvedOnceThenServedFromCache) {
  DnsCache dns(loop_.uv(), 60000);
  Answer first;
  auto lookup = dns.resolve("localhost", 9000, first.callback());
  ASSERT_NE(lookup, nullptr) << "a name must go to the resolver the first time";
  EXPECT_EQ(first.calls, 0);
  ASSERT_TRUE(runUntil([&] { return first.calls == 1; }));
  EXPECT_EQ(first.status, 0);
  ASSERT_FALSE(first.addresses.empty());
  EXPECT_EQ(port(first.addresses[0]), 9000);
  // IPv4 first.
  EXPECT_EQ(first.addresses[0].ss_family, AF_INET);
  EXPECT_EQ(text(first.addresses[0]), "127.0.0.1");

  Answer second;
  EXPECT_EQ(dns.resolve("localhost", 9000, second.callback()), nullptr);
  EXPECT_EQ(second.calls, 1) << "the cached answer is given synchronously";
  EXPECT_EQ(second.status, 0);
  EXPECT_EQ(second.addresses.size(), first.addresses.size());
}

TEST_F(DnsCacheTest, CacheIsPerPort) {
  DnsCache dns(loop_.uv(), 60000);
  Answer a, b;
  auto la = dns.resolve("localhost", 1, a.callback());
  ASSERT_TRUE(runUntil([&] { return a.calls == 1; }));
  auto lb = dns.resolve("localhost", 2, b.callback());
  ASSERT_TRUE(runUntil([&] { return b.calls == 1; }));
  ASSERT_FALSE(b.addresses.empty());
  EXPECT_EQ(port(b.addresses[0]), 2);
}

TEST_F(DnsCacheTest, ExpiredAnswerIsResolvedAgain) {
  DnsCache dns(loop_.uv(), 0);
  Answer a;
  auto la = dns.resolve("localhost", 80, a.callback());
  ASSERT_TRUE(runUntil([&] { return a.calls == 1; }));
  Answer b;
  auto lb = dns.resolve("localhost", 80, b.callback());
  EXPECT_NE(lb, nullptr);
  ASSERT_TRUE(runUntil([&] { return b.calls == 1; }));
  EXPECT_EQ(b.status, 0);
}

TEST_F(DnsCacheTest, ConcurrentLookupsOfOneNameShareOneQuery) {
  DnsCache dns(loop_.uv(), 60000);
  Answer a, b, c;
  auto la = dns.resolve("localhost", 80, a.callback());
  auto lb = dns.resolve("localhost", 80, b.callback());
  auto lc = dns.resolve("localhost", 80, c.callback());
  ASSERT_NE(la, nullptr);
  ASSERT_NE(lb, nullptr);
  ASSERT_TRUE(runUntil([&] { return a.calls + b.calls + c.calls == 3; }));
  EXPECT_EQ(a.status, 0);
  EXPECT_EQ(b.status, 0);
  EXPECT_EQ(c.addresses.size(), a.addresses.size());
}

TEST_F(DnsCacheTest, DestroyedLookupIsNeverCalledBack) {
  DnsCache dns(loop_.uv(), 60000);
  Answer cancelled, kept;
  auto lc = dns.resolve("localhost", 80, cancelled.callback());
  auto lk = dns.resolve("localhost", 80, kept.callback());
  lc.reset();
  ASSERT_TRUE(runUntil([&] { return kept.calls == 1; }));
  EXPECT_EQ(cancelled.calls, 0);
}

TEST_F(DnsCacheTest, CallbackMayDestroyAnotherPendingLookup) {
  DnsCache dns(loop_.uv(), 60000);
  Answer second;
  std::unique_ptr<DnsCache::Lookup> l2;
  int first_calls = 0;
  auto l1 = dns.resolve("localhost", 80, [&](int, const AddressList&) {
    ++first_calls;
    l2.reset();
  });
  l2 = dns.resolve("localhost", 80, second.callback());
  ASSERT_TRUE(runUntil([&] { return first_calls == 1; }));
  runUntil([] { return false; }, 50);
  EXPECT_EQ(second.calls, 0);
}

TEST_F(DnsCacheTest, UnresolvableNameFails) {
  DnsCache dns(loop_.uv(), 60000);
  Answer a;
  auto l = dns.resolve("nonexistent.invalid", 80, a.callback());
  ASSERT_TRUE(runUntil([&] { return a.calls == 1; }, 15000));
  EXPECT_LT(a.status, 0);
  EXPECT_TRUE(a.addresses.empty());
  // A failure is not cached as an answer.
  Answer b;
  auto l2 = dns.resolve("nonexistent.invalid", 80, b.callback());
  EXPECT_NE(l2, nullptr);
  ASSERT_TRUE(runUntil([&] { return b.calls == 1; }, 15000));
}

TEST_F(DnsCacheTest, CacheDestroyedWithALookupInFlight) {
  Answer a;
  {
    DnsCache dns(loop_.uv(), 60000);
    auto l = dns.resolve("localhost", 80, a.callback());
    ASSERT_NE(l, nullptr);
    l.reset();
  }
  // The query still completes on the thread pool; its callback must not touch the cache.
  loop_.stopAndJoin();
  EXPECT_EQ(a.calls, 0);
}

TEST_F(DnsCacheTest, CacheDestroyedBeforeItsLookups) {
  Answer a;
  std::unique_ptr<DnsCache::Lookup> l;
  {
    DnsCache dns(loop_.uv(), 60000);
    l = dns.resolve("localhost", 80, a.callback());
  }
  l.reset();  // must not reach into the destroyed cache
  loop_.stopAndJoin();
  EXPECT_EQ(a.calls, 0);
}

}  // namespace
}  // namespace aigw::upstream
