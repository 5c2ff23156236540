// AWS Signature Version 4 for one HTTP request (header form), as Bedrock requires: the headers
// to add (authorization, x-amz-date, x-amz-security-token), computed from the request and a clock.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace aigw::upstream {

struct AwsCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // temporary credentials (STS, instance roles); empty otherwise
};

struct SigV4Header {
  std::string_view name;  // any case
  std::string_view value;
};

struct SigV4Request {
  std::string_view method;
  // The path as sent on the wire, percent-encoded once ("/model/anthropic.claude-v2%3A1/converse").
  // SigV4 for services other than S3 encodes it again in the canonical request.
  std::string_view path;
  std::string_view query;  // as sent, without '?'; empty for none
  std::string_view host;   // the Host header's value
  std::string_view body;
  // Further headers the signature covers (content-type, ...): a header it covers can no longer
  // be changed by a proxy unnoticed. host and the x-amz-* ones below are added here.
  std::span<const SigV4Header> headers = {};
  // Send and sign x-amz-content-sha256 (S3 needs it; Bedrock, like botocore, does without).
  bool sign_content_sha256 = false;
};

// What to add to the request. The secret access key appears in none of them.
struct SigV4Headers {
  std::string authorization;
  std::string amz_date;        // x-amz-date: 20150830T123600Z
  std::string security_token;  // x-amz-security-token: empty without a session token
  std::string content_sha256;  // x-amz-content-sha256: empty unless sign_content_sha256
};

// Signs `request` for `service` in `region` at `unix_seconds` (passed in, so tests are exact).
SigV4Headers signSigV4(const SigV4Request& request, const AwsCredentials& credentials, std::string_view region,
                       std::string_view service, int64_t unix_seconds);

// SigV4's UriEncode: every byte but A-Z a-z 0-9 - . _ ~ as %XX (upper case); '/' kept when
// `keep_slash`. For the wire path: "/model/" + awsUriEncode(model_id, false) + "/converse".
std::string awsUriEncode(std::string_view text, bool keep_slash);

// The canonical URI of a wire path, as botocore computes it for services other than S3: dot
// segments and empty segments removed, then encoded again ('%' becomes %25, so a model id's
// ':' sent as %3A is signed as %253A).
std::string sigV4CanonicalPath(std::string_view path);

}  // namespace aigw::upstream
