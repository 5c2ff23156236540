// ServerConnection speaking HTTPS over real loopback sockets, through a GatewayServer with the
// mock provider: requests and streams, plain HTTP and garbage on the TLS port, handshake
// timeouts, close_notify, bytes split one by one, and backpressure with encryption in the way.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <thread>

#include "gateway_fixture.h"
#include "http/tls_test_client.h"

namespace aigw {
namespace {

using Clock = std::chrono::steady_clock;
using testing::get;
using testing::mockConfig;
using testing::msSince;
using testing::parseResponses;
using testing::post;
using testing::RawClient;
using testing::readResponses;
using testing::TestGateway;
using testing::tlsFields;
using testing::TlsTestClient;

const std::string kChat = R"({"model":"mock-gpt","messages":[{"role":"user","content":"hi"}]})";

class HttpsServer : public ::testing::Test {
 protected:
  void start(const std::string& server_fields = "") {
    opts_ = testing::tls::serverFiles(dir_);
    std::string fields = tlsFields(opts_);
    if (!server_fields.empty()) fields += ", " + server_fields;
    gw_ = std::make_unique<TestGateway>(mockConfig(fields));
    client_ctx_ = testing::trustingClientContext(dir_);
  }
  std::unique_ptr<TlsTestClient> connect(int rcvbuf = 0, int sndbuf = 0) {
    auto c = std::make_unique<TlsTestClient>(gw_->port(), client_ctx_, rcvbuf, sndbuf);
    EXPECT_TRUE(c->handshake()) << c->session().error();
    return c;
  }
  int64_t tlsStat(const char* name) const { return gw_->stats()["tls"][name].get<int64_t>(); }
  int64_t waitForTlsStat(const char* name, int64_t want, int timeout_ms = 3000) const {
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    int64_t v = tlsStat(name);
    while (v != want && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      v = tlsStat(name);
    }
    return v;
  }

  testing::tls::TempDir dir_;
  net::TlsServerOptions opts_;
  std::unique_ptr<TestGateway> gw_;
  std::shared_ptr<net::TlsClientContext> client_ctx_;
};

TEST_F(HttpsServer, ServesTwoRequestsOnOneKeepAliveConnection) {
  start();
  auto c = connect();
  EXPECT_EQ(c->session().alpnProtocol(), "http/1.1");
  ASSERT_TRUE(c->send(get("/health")));
  auto first = readResponses(*c, 1);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].status, 200);
  ASSERT_TRUE(c->send(post("/v1/chat/completions", kChat)));
  auto second = readResponses(*c, 1);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].status, 200);
  EXPECT_EQ(nlohmann::json::parse(second[0].body)["object"], "chat.completion");
  EXPECT_FALSE(c->closed());
  EXPECT_EQ(gw_->stats()["connections_accepted"], 1);
  EXPECT_EQ(tlsStat("handshakes"), 1);
  EXPECT_EQ(tlsStat("handshake_failures"), 0);
}

TEST_F(HttpsServer, StreamsAnEventStream) {
  start();
  auto c = connect();
  const std::string body = R"({"model":"mock-gpt","stream":true,"messages":[{"role":"user","content":"hi"}]})";
  ASSERT_TRUE(c->send(post("/v1/chat/completions", body, "X-Mock-Chunk-Delay-Ms: 5\r\n")));
  auto rs = readResponses(*c, 1);
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].status, 200);
  EXPECT_TRUE(rs[0].complete);
  EXPECT_NE(rs[0].body.find("data: [DONE]"), std::string::npos) << rs[0].body;
}

TEST_F(HttpsServer, RequestSentOneEncryptedByteAtATimeIsServed) {
  start();
  auto c = connect();
  ASSERT_EQ(c->session().writePlain(post("/v1/chat/completions", kChat)), net::TlsSession::Result::Ok);
  std::string wire;
  c->session().takeEncrypted(&wire);
  for (char ch : wire) {
    ASSERT_TRUE(c->raw().send(std::string(1, ch)));
    std::this_thread::sleep_for(std::chrono::microseconds(100));  // the test is about slow arrival
  }
  auto rs = readResponses(*c, 1);
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].status, 200);
}

TEST_F(HttpsServer, PlainHttpOnTheHttpsPortGetsA400ThatSaysSoAndIsClosed) {
  start();
  RawClient c(gw_->port());
  ASSERT_TRUE(c.send(get("/health")));
  const std::string raw = c.readAll(3000);
  auto rs = parseResponses(raw);
  ASSERT_EQ(rs.size(), 1u) << raw;
  EXPECT_EQ(rs[0].status, 400);
  EXPECT_NE(rs[0].body.find("https://"), std::string::npos) << rs[0].body;
  EXPECT_EQ(rs[0].header("connection"), "close");
  EXPECT_TRUE(c.closed());
  EXPECT_EQ(tlsStat("handshake_failures"), 1);
  EXPECT_EQ(gw_->stats()["requests"], 0);
}

TEST_F(HttpsServer, GarbageHandshakeGetsAnAlertAndACloseAndTheServerCarriesOn) {
  start();
  RawClient c(gw_->port());
  ASSERT_TRUE(c.send(std::string("\x16\x03\x01\x00\x10", 5) + "sixteen bytes!!!" + std::string(64, 'x')));
  const std::string raw = c.readAll(3000);
  EXPECT_TRUE(c.closed());
  ASSERT_FALSE(raw.empty());
  EXPECT_EQ(raw[0], '\x15') << "a TLS alert record";
  EXPECT_EQ(tlsStat("handshake_failures"), 1);
  auto good = connect();
  ASSERT_TRUE(good->send(get("/health")));
  EXPECT_EQ(readResponses(*good, 1).size(), 1u);
}

TEST_F(HttpsServer, SilentAndHalfDoneHandshakesCloseAtTheHeaderTimeout) {
  start(R"("header_timeout_ms": 200)");
  RawClient silent(gw_->port());
  RawClient slow(gw_->port());
  net::TlsSession hello(client_ctx_, "localhost", 443);
  ASSERT_EQ(hello.start(), net::TlsSession::Result::Ok);
  std::string client_hello;
  hello.takeEncrypted(&client_hello);
  ASSERT_TRUE(slow.send(client_hello.substr(0, 20)));
  const auto t0 = Clock::now();
  EXPECT_EQ(silent.readAll(3000), "");
  EXPECT_EQ(slow.readAll(3000), "");
  EXPECT_TRUE(silent.closed());
  EXPECT_TRUE(slow.closed());
  EXPECT_LT(msSince(t0), 2000);
  EXPECT_EQ(waitForTlsStat("handshake_timeouts", 2), 2);
  EXPECT_EQ(tlsStat("handshake_failures"), 0);
}

TEST_F(HttpsServer, HandshakeAndHeadersShareTheHeaderTimeout) {
  start(R"("header_timeout_ms": 300)");
  auto c = connect();
  ASSERT_TRUE(c->send("GET /health HTTP/1.1\r\nHost: t\r\n"));  // never finished
  const auto t0 = Clock::now();
  auto rs = readResponses(*c, 1, 3000);
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].status, 408);
  EXPECT_LT(msSince(t0), 1500);
}

TEST_F(HttpsServer, ConnectAndCloseWithoutAByteIsNotAFailedHandshake) {
  start();
  { RawClient probe(gw_->port()); }
  EXPECT_EQ(gw_->waitForStat("connections_accepted", [](int64_t v) { return v == 1; }), 1);
  EXPECT_EQ(gw_->waitForStat("connections_active", [](int64_t v) { return v == 0; }), 0);
  EXPECT_EQ(tlsStat("handshake_failures"), 0);
  EXPECT_EQ(tlsStat("handshake_timeouts"), 0);
}

TEST_F(HttpsServer, ConnectionOverTheCapIsClosedAtOnceWithoutAHandshake) {
  start(R"("max_connections": 1)");
  auto first = connect();
  ASSERT_TRUE(first->send(get("/health")));
  ASSERT_EQ(readResponses(*first, 1).size(), 1u);
  const auto t0 = Clock::now();
  TlsTestClient second(gw_->port(), client_ctx_);
  EXPECT_FALSE(second.handshake());
  EXPECT_LT(msSince(t0), 1000);
  EXPECT_EQ(gw_->stats()["connections_refused"], 1);
  EXPECT_EQ(tlsStat("handshakes"), 1);
}

TEST_F(HttpsServer, ConnectionCloseAnswerEndsWithCloseNotify) {
  start();
  auto c = connect();
  ASSERT_TRUE(c->send(get("/health", "Connection: close\r\n")));
  auto rs = readResponses(*c, 1);
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].header("connection"), "close");
  const auto deadline = Clock::now() + std::chrono::seconds(3);
  while (!c->closeNotified() && !c->raw().closed() && Clock::now() < deadline) c->readSome(200);
  EXPECT_TRUE(c->closeNotified());
}

TEST_F(HttpsServer, IdleConnectionClosesWithCloseNotify) {
  start(R"("idle_timeout_ms": 200)");
  auto c = connect();
  ASSERT_TRUE(c->send(get("/health")));
  ASSERT_EQ(readResponses(*c, 1).size(), 1u);
  EXPECT_EQ(c->readSome(3000), "");
  EXPECT_TRUE(c->closeNotified());
  EXPECT_EQ(gw_->waitForStat("connections_active", [](int64_t v) { return v == 0; }), 0);
}

TEST_F(HttpsServer, ClientCloseNotifyAfterARequestStillGetsTheAnswer) {
  start();
  auto c = connect();
  ASSERT_EQ(c->session().writePlain(get("/health")), net::TlsSession::Result::Ok);
  c->session().shutdown();  // close_notify right behind the request
  ASSERT_TRUE(c->flush());
  auto rs = readResponses(*c, 1);
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].status, 200);
  EXPECT_EQ(gw_->waitForStat("connections_active", [](int64_t v) { return v == 0; }), 0);
}

// A client that pipelines large answers and never reads: with TLS in between, the server must
// still stop reading and stop producing, keep serving others, and resume when the client reads.
TEST_F(HttpsServer, ClientThatNeverReadsCannotGrowServerMemory) {
  start();
  const std::string one =
      post("/v1/embeddings", R"({"model":"mock-gpt","input":"flood","dimensions":4096})");  // ~50 KB answer
  std::string flood;
  while (flood.size() < 10 * 1024 * 1024) flood += one;
  auto greedy = connect(/*rcvbuf=*/64 * 1024, /*sndbuf=*/256 * 1024);
  ASSERT_EQ(greedy->session().writePlain(flood), net::TlsSession::Result::Ok);
  std::string wire;
  greedy->session().takeEncrypted(&wire);
  const int fd = greedy->raw().fd();
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  size_t off = 0;
  while (off < wire.size()) {
    const ssize_t n = ::send(fd, wire.data() + off, wire.size() - off, MSG_NOSIGNAL);
    if (n > 0) {
      off += static_cast<size_t>(n);
      continue;
    }
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, 500) <= 0) break;  // no progress for 500 ms: the server stopped reading
  }
  EXPECT_LT(off, wire.size()) << "the server read all 10 MB from a client that reads nothing";

  int64_t answered = gw_->stats()["requests"].get<int64_t>();
  bool settled = false;
  for (int i = 0; i < 40 && !settled; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    const int64_t now = gw_->stats()["requests"].get<int64_t>();
    settled = now == answered;
    answered = now;
  }
  EXPECT_TRUE(settled) << "the server keeps answering a client that reads nothing";
  EXPECT_LT(answered, 1000);

  const auto t0 = Clock::now();
  auto other = connect();
  ASSERT_TRUE(other->send(get("/health")));
  ASSERT_EQ(readResponses(*other, 1).size(), 1u);
  EXPECT_LT(msSince(t0), 1000);

  // Reading resumes the pipeline.
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  size_t read_bytes = 0;
  const auto deadline = Clock::now() + std::chrono::seconds(3);
  while (read_bytes < 8 * 1024 * 1024 && Clock::now() < deadline) read_bytes += greedy->readSome(200).size();
  EXPECT_GT(gw_->stats()["requests"].get<int64_t>(), answered);
}

TEST_F(HttpsServer, ReloadServesTheNewCertificateToNewConnectionsOnly) {
  start();
  auto before = connect();
  ASSERT_TRUE(before->send(get("/health")));
  ASSERT_EQ(readResponses(*before, 1).size(), 1u);
  const std::string first_serial = gw_->stats()["tls"]["certificate"]["serial"];

  auto key = testing::tls::makeKey();
  auto cert = testing::tls::makeCert(key.get(), "localhost", "DNS:localhost", false, testing::tls::Pki::get().ca.get(),
                                     testing::tls::Pki::get().ca_key.get());
  dir_.writeText("server-key.pem", testing::tls::pemOf(key.get()));
  dir_.writeText("server-cert.pem", testing::tls::pemOf(cert.get()));
  net::TlsLoadError error;
  ASSERT_TRUE(gw_->server().reloadTls(&error)) << error.message;
  EXPECT_NE(gw_->stats()["tls"]["certificate"]["serial"], first_serial);
  EXPECT_EQ(tlsStat("reloads"), 1);

  auto after = connect();
  ASSERT_TRUE(after->send(get("/health")));
  EXPECT_EQ(readResponses(*after, 1).size(), 1u);
  ASSERT_TRUE(before->send(get("/health")));  // the old connection carries on
  auto rs = readResponses(*before, 1);
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].status, 200);
}

}  // namespace
}  // namespace aigw
