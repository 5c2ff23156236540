#include "net/reloadable_tls_context.h"

#include <sys/stat.h>

#include <cerrno>

#include "core/log.h"

namespace aigw::net {
namespace {

ReloadableTlsContext::FileStamp stampOf(const std::string& path) {
  ReloadableTlsContext::FileStamp s;
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) {  // follows symlinks: a swapped link is a new file
    s.error = errno;
    return s;
  }
  s.dev = st.st_dev;
  s.ino = st.st_ino;
  s.size = st.st_size;
  s.mtime_ns = int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
  s.ctime_ns = int64_t{st.st_ctim.tv_sec} * 1000000000 + st.st_ctim.tv_nsec;
  return s;
}

std::string describe(const CertificateInfo& c) {
  return "'" + c.subject + "', serial " + c.serial + ", valid until " + c.not_after + (c.expired ? " (EXPIRED)" : "");
}

}  // namespace

std::unique_ptr<ReloadableTlsContext> ReloadableTlsContext::create(TlsServerOptions opts, TlsLoadError* error) {
  std::unique_ptr<ReloadableTlsContext> self(new ReloadableTlsContext(std::move(opts)));
  self->loaded_ = self->stamp();
  self->current_ = TlsServerContext::create(self->opts_, error);
  if (self->current_ == nullptr) return nullptr;
  self->generation_.store(1, std::memory_order_release);
  if (self->current_->certificate().expired) {
    AIGW_LOG(Warning, "server.tls.cert: the certificate " + describe(self->current_->certificate()) +
                          " has expired; clients will refuse it");
  }
  return self;
}

ReloadableTlsContext::Stamps ReloadableTlsContext::stamp() const {
  Stamps s{stampOf(opts_.cert_file), stampOf(opts_.key_file)};
  if (opts_.client_auth != TlsClientAuth::None) s.push_back(stampOf(opts_.ca_file));
  return s;
}

const TlsServerContextPtr& ReloadableTlsContext::current(View& view) const {
  const uint64_t gen = generation_.load(std::memory_order_acquire);
  if (view.generation != gen || view.ctx == nullptr) {
    std::lock_guard<std::mutex> lock(mu_);
    view.ctx = current_;
    view.generation = generation_.load(std::memory_order_relaxed);
  }
  return view.ctx;
}

TlsServerContextPtr ReloadableTlsContext::current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_;
}

std::string ReloadableTlsContext::lastError() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_error_;
}

bool ReloadableTlsContext::reload(TlsLoadError* error) {
  std::lock_guard<std::mutex> lock(reload_mu_);
  return load(stamp(), error);
}

void ReloadableTlsContext::poll() {
  std::unique_lock<std::mutex> lock(reload_mu_, std::try_to_lock);
  if (!lock.owns_lock()) return;
  const Stamps now = stamp();
  if (now == loaded_ || now == failed_) {
    pending_.clear();
    return;
  }
  if (now != pending_) {
    pending_ = now;  // changed since the last check: give the writer one period to finish
    return;
  }
  pending_.clear();
  TlsLoadError ignored;
  load(now, &ignored);
}

bool ReloadableTlsContext::load(const Stamps& seen, TlsLoadError* error) {
  // `seen` was taken before the files are read: if they change while being read, the next poll
  // sees another state and loads again, which is harmless.
  TlsServerContextPtr next = TlsServerContext::create(opts_, error);
  if (next == nullptr) {
    failed_ = seen;
    failures_.fetch_add(1, std::memory_order_relaxed);
    {
      std::lock_guard<std::mutex> lock(mu_);
      last_error_ = error->field + ": " + error->message;
    }
    AIGW_LOG(Warning, "TLS certificate reload failed, still serving the current certificate: server.tls." +
                          error->field + ": " + error->message);
    return false;
  }
  const CertificateInfo info = next->certificate();
  {
    std::lock_guard<std::mutex> lock(mu_);
    current_ = std::move(next);
    last_error_.clear();
    // Inside the lock: a worker that sees the new generation finds the new context under it.
    generation_.fetch_add(1, std::memory_order_release);
  }
  loaded_ = seen;
  failed_.clear();
  reloads_.fetch_add(1, std::memory_order_relaxed);
  AIGW_LOG(Info, "TLS certificate loaded for new connections: " + describe(info));
  return true;
}

}  // namespace aigw::net
