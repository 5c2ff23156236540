// parseBaseUrl and Origin: a provider's base_url becomes the pool key, the Host header and the
// base path every upstream request starts with.
#include "upstream/origin.h"

#include <gtest/gtest.h>

namespace aigw::upstream {
namespace {

Origin parseOk(std::string_view url) {
  Origin o;
  std::string error;
  EXPECT_TRUE(parseBaseUrl(url, &o, &error)) << url << ": " << error;
  return o;
}

std::string parseError(std::string_view url) {
  Origin o;
  std::string error;
  EXPECT_FALSE(parseBaseUrl(url, &o, &error)) << url << " was accepted as " << o.key() << o.base_path;
  EXPECT_FALSE(error.empty()) << url;
  return error;
}

// A base_url that is accepted, and every part of the origin it becomes.
struct Accepted {
  const char* name;
  const char* url;
  bool tls;
  const char* host;
  int port;
  const char* base_path;
  const char* host_header;
  const char* key;
};

class ParseBaseUrlAccepts : public ::testing::TestWithParam<Accepted> {};

TEST_P(ParseBaseUrlAccepts, IntoTheOriginsParts) {
  const Accepted& c = GetParam();
  Origin o = parseOk(c.url);
  EXPECT_EQ(o.tls, c.tls);
  EXPECT_EQ(o.host, c.host);
  EXPECT_EQ(o.port, c.port);
  EXPECT_EQ(o.base_path, c.base_path);
  EXPECT_EQ(o.host_header, c.host_header);
  EXPECT_EQ(o.key(), c.key);
}

INSTANTIATE_TEST_SUITE_P(
    ParseBaseUrl, ParseBaseUrlAccepts,
    ::testing::Values(
        Accepted{"HttpsWithDefaultPort", "https://api.openai.com/v1", true, "api.openai.com", 443, "/v1",
                 "api.openai.com", "https://api.openai.com:443"},
        Accepted{"HttpWithDefaultPort", "http://localhost", false, "localhost", 80, "", "localhost",
                 "http://localhost:80"},
        // An explicit port appears in the Host header.
        Accepted{"ExplicitPort", "http://127.0.0.1:8000/v1", false, "127.0.0.1", 8000, "/v1", "127.0.0.1:8000",
                 "http://127.0.0.1:8000"},
        Accepted{"Ipv6LiteralWithPort", "http://[::1]:8080/v1", false, "::1", 8080, "/v1", "[::1]:8080",
                 "http://[::1]:8080"},
        Accepted{"Ipv6LiteralWithDefaultPort", "https://[2001:db8::5]", true, "2001:db8::5", 443, "",
                 "[2001:db8::5]", "https://[2001:db8::5]:443"}),
    [](const ::testing::TestParamInfo<Accepted>& info) { return info.param.name; });

TEST(ParseBaseUrl, ExplicitDefaultPortIsOmittedFromHostHeader) {
  EXPECT_EQ(parseOk("https://example.com:443/v1").host_header, "example.com");
  EXPECT_EQ(parseOk("http://example.com:80").host_header, "example.com");
  // The default of the other scheme is not the default here.
  EXPECT_EQ(parseOk("http://example.com:443").host_header, "example.com:443");
  EXPECT_EQ(parseOk("https://example.com:80").host_header, "example.com:80");
}

TEST(ParseBaseUrl, SamePoolKeyWithAndWithoutDefaultPort) {
  EXPECT_EQ(parseOk("https://example.com").key(), parseOk("https://example.com:443/other").key());
  EXPECT_NE(parseOk("https://example.com").key(), parseOk("http://example.com").key());
}

TEST(ParseBaseUrl, TrailingSlashesAreRemovedFromBasePath) {
  EXPECT_EQ(parseOk("https://h/v1/").base_path, "/v1");
  EXPECT_EQ(parseOk("https://h/v1///").base_path, "/v1");
  EXPECT_EQ(parseOk("https://h/").base_path, "");
  EXPECT_EQ(parseOk("https://h:8443/").base_path, "");
  EXPECT_EQ(parseOk("https://h/openai/deployments/x/").base_path, "/openai/deployments/x");
}

TEST(ParseBaseUrl, SchemeIsCaseInsensitive) {
  Origin o = parseOk("HTTPS://Example.com/v1");
  EXPECT_TRUE(o.tls);
  EXPECT_EQ(o.port, 443);
}

TEST(ParseBaseUrl, HostIsLowerCasedSoOnePoolServesOneHost) {
  EXPECT_EQ(parseOk("https://API.OpenAI.com/v1").host, "api.openai.com");
  EXPECT_EQ(parseOk("https://API.OpenAI.com/v1").key(), parseOk("https://api.openai.com").key());
}

TEST(ParseBaseUrl, AcceptsHighestPort) { EXPECT_EQ(parseOk("http://h:65535").port, 65535); }

// A base_url that is refused, and a word its error must hold ("": any error).
struct Rejected {
  const char* url;
  const char* says;
};

class ParseBaseUrlRejects : public ::testing::TestWithParam<Rejected> {};

TEST_P(ParseBaseUrlRejects, WithAReason) {
  const Rejected& c = GetParam();
  EXPECT_NE(parseError(c.url).find(c.says), std::string::npos) << c.url;
}

INSTANTIATE_TEST_SUITE_P(OtherSchemes, ParseBaseUrlRejects,
                         ::testing::Values(Rejected{"ftp://example.com", "http"}, Rejected{"example.com/v1", ""},
                                           Rejected{"", ""}, Rejected{"https:/example.com", ""}));

INSTANTIATE_TEST_SUITE_P(Credentials, ParseBaseUrlRejects,
                         ::testing::Values(Rejected{"https://user:pass@example.com/v1", "credentials"},
                                           Rejected{"https://user@example.com", ""}));

INSTANTIATE_TEST_SUITE_P(QueryAndFragment, ParseBaseUrlRejects,
                         ::testing::Values(Rejected{"https://example.com/v1?key=1", "query"},
                                           Rejected{"https://example.com/v1#frag", ""},
                                           Rejected{"https://example.com?x", ""}));

INSTANTIATE_TEST_SUITE_P(BadPorts, ParseBaseUrlRejects,
                         ::testing::Values(Rejected{"http://h:0", "port"}, Rejected{"http://h:65536", "port"},
                                           Rejected{"http://h:99999999999", "port"}, Rejected{"http://h:-1", "port"},
                                           Rejected{"http://h:8o", "port"}, Rejected{"http://h:+80", "port"},
                                           Rejected{"http://[::1]:x", "port"}, Rejected{"http://h: 80", "port"}));

INSTANTIATE_TEST_SUITE_P(MissingHost, ParseBaseUrlRejects,
                         ::testing::Values(Rejected{"http://", ""}, Rejected{"https:///v1", ""},
                                           Rejected{"http://:8080", ""}, Rejected{"http://[]:80", ""},
                                           Rejected{"http://[]", ""}));

// Without brackets an IPv6 address's port cannot be told apart from the address.
INSTANTIATE_TEST_SUITE_P(MalformedIpv6, ParseBaseUrlRejects,
                         ::testing::Values(Rejected{"http://[::1", ""}, Rejected{"http://[::1]junk", ""},
                                           Rejected{"http://::1", ""}, Rejected{"http://fe80::1:8080", ""}));

INSTANTIATE_TEST_SUITE_P(HostsThatWouldBreakTheHostHeader, ParseBaseUrlRejects,
                         ::testing::Values(Rejected{"http://ex ample.com", ""},
                                           Rejected{"http://example.com\r\nx-evil: 1", ""},
                                           Rejected{"http://exa\tmple.com", ""}, Rejected{"http://ex\\ample.com", ""},
                                           Rejected{"http://[::1\r\n]", ""}));

INSTANTIATE_TEST_SUITE_P(ControlCharactersInBasePath, ParseBaseUrlRejects,
                         ::testing::Values(Rejected{"http://example.com/v1\r\nx-evil: 1", ""},
                                           Rejected{"http://example.com/v 1", ""}));

TEST(ParseBaseUrl, FailureLeavesOutputUntouched) {
  Origin o = parseOk("https://keep.example/v1");
  std::string error;
  EXPECT_FALSE(parseBaseUrl("https://u@p/x", &o, &error));
  EXPECT_EQ(o.host, "keep.example");
  EXPECT_EQ(o.base_path, "/v1");
}

}  // namespace
}  // namespace aigw::upstream
