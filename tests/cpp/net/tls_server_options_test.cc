// tlsServerOptionsFromJson: `server.tls` as Python emits it (the files are not read here).
#include "net/tls_server_options.h"

#include <gtest/gtest.h>

#include "config_fixture.h"
#include "required_fields.h"

namespace aigw::net {
namespace {

using nlohmann::json;

TEST(TlsServerOptions, ReadsEveryField) {
  const TlsServerOptions o = tlsServerOptionsFromJson(testing::fixture("full")["server"]["tls"]);
  EXPECT_EQ(o.cert_file, "/etc/aigw/fullchain.pem");
  EXPECT_EQ(o.key_file, "/etc/aigw/privkey.pem");
  EXPECT_EQ(o.ca_file, "/etc/aigw/clients-ca.pem");
  EXPECT_EQ(o.client_auth, TlsClientAuth::Optional);
  EXPECT_EQ(o.min_version, TlsMinVersion::V1_2);
  EXPECT_EQ(o.ciphers, "ECDHE-RSA-AES128-GCM-SHA256");
  EXPECT_EQ(o.alpn, (std::vector<std::string>{"http/1.1", "http/1.0"}));
  EXPECT_EQ(o.reload_interval_ms, 10000u);
}

TEST(TlsServerOptions, NullsAreNotSet) {
  const TlsServerOptions o = tlsServerOptionsFromJson(testing::fixture("parts")["server"]["tls"]);
  EXPECT_TRUE(o.ca_file.empty());
  EXPECT_TRUE(o.ciphers.empty());
  EXPECT_EQ(o.client_auth, TlsClientAuth::None);
}

TEST(TlsServerOptions, EveryFieldIsRequired) {
  testing::expectEveryFieldRequiredBy(testing::fixture("full")["server"]["tls"],
                                      [](const json& doc) { tlsServerOptionsFromJson(doc); });
}

}  // namespace
}  // namespace aigw::net
