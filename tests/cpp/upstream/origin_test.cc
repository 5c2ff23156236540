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

TEST(ParseBaseUrl, HttpsWithDefaultPort) {
  Origin o = parseOk("https://api.openai.com/v1");
  EXPECT_TRUE(o.tls);
  EXPECT_EQ(o.host, "api.openai.com");
  EXPECT_EQ(o.port, 443);
  EXPECT_EQ(o.base_path, "/v1");
  EXPECT_EQ(o.host_header, "api.openai.com");
  EXPECT_EQ(o.key(), "https://api.openai.com:443");
}

TEST(ParseBaseUrl, HttpWithDefaultPort) {
  Origin o = parseOk("http://localhost");
  EXPECT_FALSE(o.tls);
  EXPECT_EQ(o.host, "localhost");
  EXPECT_EQ(o.port, 80);
  EXPECT_EQ(o.base_path, "");
  EXPECT_EQ(o.host_header, "localhost");
  EXPECT_EQ(o.key(), "http://localhost:80");
}

TEST(ParseBaseUrl, ExplicitPortAppearsInHostHeader) {
  Origin o = parseOk("http://127.0.0.1:8000/v1");
  EXPECT_EQ(o.host, "127.0.0.1");
  EXPECT_EQ(o.port, 8000);
  EXPECT_EQ(o.host_header, "127.0.0.1:8000");
  EXPECT_EQ(o.key(), "http://127.0.0.1:8000");
}

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

TEST(ParseBaseUrl, Ipv6LiteralWithPort) {
  Origin o = parseOk("http://[::1]:8080/v1");
  EXPECT_EQ(o.host, "::1");
  EXPECT_EQ(o.port, 8080);
  EXPECT_EQ(o.host_header, "[::1]:8080");
  EXPECT_EQ(o.key(), "http://[::1]:8080");
  EXPECT_EQ(o.base_path, "/v1");
}

TEST(ParseBaseUrl, Ipv6LiteralWithDefaultPort) {
  Origin o = parseOk("https://[2001:db8::5]");
  EXPECT_EQ(o.host, "2001:db8::5");
  EXPECT_EQ(o.port, 443);
  EXPECT_EQ(o.host_header, "[2001:db8::5]");
  EXPECT_EQ(o.key(), "https://[2001:db8::5]:443");
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

TEST(ParseBaseUrl, RejectsOtherSchemes) {
  EXPECT_NE(parseError("ftp://example.com").find("http"), std::string::npos);
  parseError("example.com/v1");
  parseError("");
  parseError("https:/example.com");
}

TEST(ParseBaseUrl, RejectsCredentials) {
  EXPECT_NE(parseError("https://user:pass@example.com/v1").find("credentials"), std::string::npos);
  parseError("https://user@example.com");
}

TEST(ParseBaseUrl, RejectsQueryAndFragment) {
  EXPECT_NE(parseError("https://example.com/v1?key=1").find("query"), std::string::npos);
  parseError("https://example.com/v1#frag");
  parseError("https://example.com?x");
}

TEST(ParseBaseUrl, RejectsBadPorts) {
  for (const char* url : {"http://h:0", "http://h:65536", "http://h:99999999999", "http://h:-1", "http://h:8o",
                          "http://h:+80", "http://[::1]:x", "http://h: 80"}) {
    EXPECT_NE(parseError(url).find("port"), std::string::npos) << url;
  }
}

TEST(ParseBaseUrl, AcceptsHighestPort) { EXPECT_EQ(parseOk("http://h:65535").port, 65535); }

TEST(ParseBaseUrl, RejectsMissingHost) {
  for (const char* url : {"http://", "https:///v1", "http://:8080", "http://[]:80", "http://[]"}) {
    parseError(url);
  }
}

TEST(ParseBaseUrl, RejectsMalformedIpv6) {
  parseError("http://[::1");
  parseError("http://[::1]junk");
  // Without brackets the port cannot be told apart from the address.
  parseError("http://::1");
  parseError("http://fe80::1:8080");
}

TEST(ParseBaseUrl, RejectsHostsThatWouldBreakTheHostHeader) {
  for (const char* url : {"http://ex ample.com", "http://example.com\r\nx-evil: 1", "http://exa\tmple.com",
                          "http://ex\\ample.com", "http://[::1\r\n]"}) {
    parseError(url);
  }
}

TEST(ParseBaseUrl, RejectsControlCharactersInBasePath) {
  parseError("http://example.com/v1\r\nx-evil: 1");
  parseError("http://example.com/v 1");
}

TEST(ParseBaseUrl, FailureLeavesOutputUntouched) {
  Origin o = parseOk("https://keep.example/v1");
  std::string error;
  EXPECT_FALSE(parseBaseUrl("https://u@p/x", &o, &error));
  EXPECT_EQ(o.host, "keep.example");
  EXPECT_EQ(o.base_path, "/v1");
}

}  // namespace
}  // namespace aigw::upstream
