// Certificate reloads racing new HTTPS connections on several workers: every worker swaps to
// the new context while others handshake with the old one. Run under TSan by scripts/sanitize,
// which is the point: the swap, the per-worker views and the handshakes share no unguarded state.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "gateway_fixture.h"
#include "http/tls_test_client.h"

namespace aigw {
namespace {

using testing::get;
using testing::mockConfig;
using testing::readResponses;
using testing::TestGateway;
using testing::tlsFields;
using testing::TlsTestClient;

void installNewCertificate(testing::tls::TempDir& dir) {
  auto key = testing::tls::makeKey();
  auto cert = testing::tls::makeCert(key.get(), "localhost", "DNS:localhost", false, testing::tls::Pki::get().ca.get(),
                                     testing::tls::Pki::get().ca_key.get());
  // Each written whole before the reload reads it: the reload itself is what races here.
  dir.writeText("server-key.pem", testing::tls::pemOf(key.get()));
  dir.writeText("server-cert.pem", testing::tls::pemOf(cert.get()));
}

TEST(TlsReload, NewConnectionsOnTwoWorkersAllSucceedWhileTheCertificateReloads) {
  testing::tls::TempDir dir;
  const net::TlsServerOptions opts = testing::tls::serverFiles(dir);
  TestGateway gw(mockConfig(tlsFields(opts) + R"(, "workers": 2)"));
  ASSERT_GT(gw.port(), 0);
  auto client_ctx = testing::trustingClientContext(dir);

  constexpr int kClients = 4;
  constexpr int kConnectionsEach = 16;
  std::atomic<int> served{0};
  std::atomic<int> started{0};
  std::vector<std::string> failures(kClients);
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      for (int i = 0; i < kConnectionsEach; ++i) {
        started.fetch_add(1);
        TlsTestClient client(gw.port(), client_ctx);
        if (!client.handshake()) {
          failures[c] += "handshake " + std::to_string(i) + ": " + client.session().error() + "; ";
          continue;
        }
        if (!client.send(get("/health"))) {
          failures[c] += "send " + std::to_string(i) + "; ";
          continue;
        }
        const auto rs = readResponses(client, 1);
        if (rs.size() == 1 && rs[0].status == 200) {
          served.fetch_add(1);
        } else {
          failures[c] += "answer " + std::to_string(i) + "; ";
        }
      }
    });
  }
  // Reload while the clients are at it (not before the first has started, not after the last).
  constexpr int kReloads = 4;
  for (int r = 0; r < kReloads; ++r) {
    while (started.load() < (r + 1) * kClients * kConnectionsEach / (kReloads + 1)) std::this_thread::yield();
    installNewCertificate(dir);
    net::TlsLoadError error;
    EXPECT_TRUE(gw.server().reloadTls(&error)) << error.field << ": " << error.message;
  }
  for (std::thread& t : clients) t.join();
  for (const std::string& f : failures) EXPECT_EQ(f, "");
  EXPECT_EQ(served.load(), kClients * kConnectionsEach);
  const nlohmann::json tls = gw.stats()["tls"];
  EXPECT_EQ(tls["reloads"].get<int64_t>(), kReloads);
  EXPECT_EQ(tls["handshake_failures"].get<int64_t>(), 0);
  EXPECT_EQ(tls["handshakes"].get<int64_t>(), kClients * kConnectionsEach);
}

}  // namespace
}  // namespace aigw
