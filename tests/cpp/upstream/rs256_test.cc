// signRs256: a signature made with a key generated here verifies with its public key through
// OpenSSL (known answer: PKCS#1 v1.5 is deterministic, so signing twice gives the same bytes),
// and keys that cannot sign RS256 are refused without quoting them.
#include "upstream/rs256.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <memory>
#include <string>

namespace aigw::upstream {
namespace {

std::string pem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(bio);
  return out;
}

bool verifies(EVP_PKEY* key, const std::string& data, const std::string& signature) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const bool ok = EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
                  EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                                   reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

TEST(Rs256, SignsWhatThePublicKeyVerifies) {
  std::unique_ptr<EVP_PKEY, void (*)(EVP_PKEY*)> key(EVP_RSA_gen(2048), EVP_PKEY_free);
  ASSERT_TRUE(key);
  const std::string data = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0";
  std::string signature, again, error;
  ASSERT_TRUE(signRs256(pem(key.get()), data, &signature, &error)) << error;
  EXPECT_EQ(signature.size(), 256u);
  EXPECT_TRUE(verifies(key.get(), data, signature));
  EXPECT_FALSE(verifies(key.get(), data + "x", signature));
  ASSERT_TRUE(signRs256(pem(key.get()), data, &again, &error));
  EXPECT_EQ(again, signature);
}

TEST(Rs256, KeysThatCannotSignAreRefusedWithoutQuotingThem) {
  std::string signature, error;
  EXPECT_FALSE(signRs256("-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWJ5dGVz\n-----END PRIVATE KEY-----\n", "x",
                         &signature, &error));
  EXPECT_EQ(error, "the private key is not an unencrypted PEM private key");
  std::unique_ptr<EVP_PKEY, void (*)(EVP_PKEY*)> ec(EVP_EC_gen("P-256"), EVP_PKEY_free);
  ASSERT_TRUE(ec);
  EXPECT_FALSE(signRs256(pem(ec.get()), "x", &signature, &error));
  EXPECT_EQ(error, "the private key is not an RSA key (RS256 needs one)");
}

}  // namespace
}  // namespace aigw::upstream
