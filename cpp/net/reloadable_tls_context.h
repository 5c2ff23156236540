// The server certificate the workers hand to new connections, and its reload without a restart:
// a new TlsServerContext is built from the files and swapped in whole, so new connections get
// the new certificate while open ones keep theirs. A reload that fails keeps the old one.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "net/tls_server_context.h"

namespace aigw::net {

class ReloadableTlsContext {
 public:
  // Builds the first context; null with `error` set when the files do not make one.
  static std::unique_ptr<ReloadableTlsContext> create(TlsServerOptions opts, TlsLoadError* error);

  // A worker's own copy of the current context, refreshed only when a reload published a new
  // one, so accepting a connection costs one atomic load and takes no lock.
  struct View {
    uint64_t generation = 0;
    TlsServerContextPtr ctx;
  };
  const TlsServerContextPtr& current(View& view) const;
  TlsServerContextPtr current() const;

  // Rebuilds from the files now, changed or not. False (the current context stays) with `error`.
  // Thread-safe; waits for a reload in progress.
  bool reload(TlsLoadError* error);
  // The periodic file check (any thread): reloads once the files changed and then stayed the
  // same for one more check, because a certificate and its key are rarely replaced in one
  // step and the half-written pair would be a failed reload. A pair that failed is not retried
  // until the files change again. Returns at once if a reload is in progress elsewhere.
  void poll();

  const TlsServerOptions& options() const { return opts_; }
  uint64_t reloads() const { return reloads_.load(std::memory_order_relaxed); }
  uint64_t reloadFailures() const { return failures_.load(std::memory_order_relaxed); }
  std::string lastError() const;  // "key: ..." of the last failed reload, empty after a success

  // What stat() says about the cert, key and CA files: a change of any field is a new file
  // (rename over it, rewrite in place, or a symlink swap as Kubernetes and certbot do).
  struct FileStamp {
    int error = 0;  // errno of a failed stat
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = 0;
    int64_t mtime_ns = 0;
    int64_t ctime_ns = 0;
    bool operator==(const FileStamp&) const = default;
  };
  using Stamps = std::vector<FileStamp>;
  Stamps stamp() const;

 private:
  explicit ReloadableTlsContext(TlsServerOptions opts) : opts_(std::move(opts)) {}
  // With reload_mu_ held: build from the files whose state is `seen`, publish or keep the old.
  bool load(const Stamps& seen, TlsLoadError* error);

  TlsServerOptions opts_;
  mutable std::mutex mu_;  // current_ and last_error_
  TlsServerContextPtr current_;
  std::string last_error_;
  std::atomic<uint64_t> generation_{0};
  std::mutex reload_mu_;  // one reload at a time; the stamps below
  Stamps loaded_;   // the files as they were when the current context was built
  Stamps pending_;  // a change seen by the last poll, loaded if the next one sees it unchanged
  Stamps failed_;   // the files as they were when the last reload failed
  std::atomic<uint64_t> reloads_{0};
  std::atomic<uint64_t> failures_{0};
};

}  // namespace aigw::net
