// ReloadableTlsContext: an explicit reload swaps the context for new connections, a broken
// pair keeps the current one, and the file check waits for the files to settle.
#include "net/reloadable_tls_context.h"

#include <gtest/gtest.h>
#include <stdio.h>

#include "net/tls_server_test_util.h"

namespace aigw::net {
namespace {

using testing::tls::makeCert;
using testing::tls::makeKey;
using testing::tls::pemOf;
using testing::tls::Pki;
using testing::tls::serverFiles;
using testing::tls::TempDir;

// Replaces `path` the way deploy tools do: a new file renamed over the old one.
void replaceFile(TempDir& dir, const std::string& path, const std::string& text) {
  const std::string tmp = dir.writeText("next.tmp", text);
  ASSERT_EQ(::rename(tmp.c_str(), path.c_str()), 0);
}

class ReloadableTlsContextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    opts_ = serverFiles(dir_);
    TlsLoadError error;
    tls_ = ReloadableTlsContext::create(opts_, &error);
    ASSERT_NE(tls_, nullptr) << error.message;
    first_serial_ = tls_->current()->certificate().serial;
  }

  // A new certificate for the same name (another serial), with its own key.
  void writeNewPair() {
    replaceFile(dir_, opts_.key_file, pemOf(next_key_.get()));
    replaceFile(dir_, opts_.cert_file, pemOf(next_.get()));
  }

  TempDir dir_;
  TlsServerOptions opts_;
  std::unique_ptr<ReloadableTlsContext> tls_;
  std::string first_serial_;
  testing::tls::PkeyPtr next_key_ = makeKey();
  testing::tls::X509Ptr next_ = makeCert(next_key_.get(), "localhost", "DNS:localhost", false, Pki::get().ca.get(),
                                         Pki::get().ca_key.get());
};

TEST_F(ReloadableTlsContextTest, ReloadPublishesANewContextThatViewsPickUp) {
  ReloadableTlsContext::View view;
  TlsServerContextPtr before = tls_->current(view);
  EXPECT_EQ(tls_->current(view), before) << "no reload, same context";
  writeNewPair();
  TlsLoadError error;
  ASSERT_TRUE(tls_->reload(&error)) << error.message;
  TlsServerContextPtr after = tls_->current(view);
  EXPECT_NE(after, before);
  EXPECT_NE(after->certificate().serial, first_serial_);
  EXPECT_EQ(tls_->reloads(), 1u);
  EXPECT_EQ(tls_->reloadFailures(), 0u);
  EXPECT_NE(before->native(), nullptr) << "a connection holding the old context keeps it";
}

TEST_F(ReloadableTlsContextTest, BrokenPairKeepsTheCurrentContextAndSaysWhy) {
  replaceFile(dir_, opts_.key_file, pemOf(Pki::get().wrong_key.get()));
  TlsLoadError error;
  EXPECT_FALSE(tls_->reload(&error));
  EXPECT_EQ(error.field, "key");
  EXPECT_EQ(tls_->current()->certificate().serial, first_serial_);
  EXPECT_EQ(tls_->reloadFailures(), 1u);
  EXPECT_NE(tls_->lastError().find("key: "), std::string::npos) << tls_->lastError();
  writeNewPair();
  ASSERT_TRUE(tls_->reload(&error)) << error.message;
  EXPECT_EQ(tls_->lastError(), "");
}

TEST_F(ReloadableTlsContextTest, PollLoadsAChangeOnceTheFilesStayedTheSameForOneCheck) {
  tls_->poll();
  EXPECT_EQ(tls_->reloads(), 0u) << "nothing changed";
  writeNewPair();
  tls_->poll();
  EXPECT_EQ(tls_->reloads(), 0u) << "just changed: the writer may not be done";
  tls_->poll();
  EXPECT_EQ(tls_->reloads(), 1u);
  EXPECT_NE(tls_->current()->certificate().serial, first_serial_);
  tls_->poll();
  EXPECT_EQ(tls_->reloads(), 1u) << "loaded files are not loaded again";
}

TEST_F(ReloadableTlsContextTest, HalfReplacedPairBetweenTwoChecksIsNotAFailure) {
  replaceFile(dir_, opts_.key_file, pemOf(next_key_.get()));  // the new key, still the old certificate
  tls_->poll();
  replaceFile(dir_, opts_.cert_file, pemOf(next_.get()));
  tls_->poll();
  tls_->poll();
  EXPECT_EQ(tls_->reloadFailures(), 0u);
  EXPECT_EQ(tls_->reloads(), 1u);
}

TEST_F(ReloadableTlsContextTest, PollDoesNotRetryAFailedPairUntilTheFilesChange) {
  replaceFile(dir_, opts_.key_file, pemOf(Pki::get().wrong_key.get()));
  for (int i = 0; i < 5; ++i) tls_->poll();
  EXPECT_EQ(tls_->reloadFailures(), 1u);
  EXPECT_EQ(tls_->current()->certificate().serial, first_serial_);
  writeNewPair();
  tls_->poll();
  tls_->poll();
  EXPECT_EQ(tls_->reloads(), 1u);
  EXPECT_EQ(tls_->reloadFailures(), 1u);
}

TEST_F(ReloadableTlsContextTest, MissingFileDuringARotationIsWaitedOut) {
  ASSERT_EQ(::unlink(opts_.cert_file.c_str()), 0);
  tls_->poll();
  writeNewPair();
  tls_->poll();
  tls_->poll();
  EXPECT_EQ(tls_->reloadFailures(), 0u);
  EXPECT_EQ(tls_->reloads(), 1u);
}

}  // namespace
}  // namespace aigw::net
