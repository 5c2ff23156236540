// The TCP half of opening an upstream connection: the origin's host resolved through the
// DnsCache, then its addresses tried in turn until one accepts. The connect timeout is the connection's.
#pragma once

#include <uv.h>

#include <cstddef>
#include <memory>
#include <string>

#include "core/call.h"
#include "upstream/dns_cache.h"
#include "upstream/origin.h"

namespace aigw::upstream {

class UpstreamDial {
 public:
  // Told once how the dial ended, unless it was cancelled first.
  class Listener {
   public:
    virtual ~Listener() = default;
    // The socket in the connection's handle slot is connected.
    virtual void dialed() = 0;
    virtual void connectFailed(CallErrorKind kind, std::string error) = 0;
  };

  // `socket` is the connection's handle slot: a failed connect leaves a handle unusable, so the
  // dial closes it and puts a fresh one there (with the same `data`) before the next address.
  UpstreamDial(uv_loop_t* loop, DnsCache& dns, const Origin& origin, uv_tcp_t*& socket, Listener& listener)
      : loop_(loop), dns_(dns), origin_(origin), socket_(socket), listener_(listener) {}
  UpstreamDial(const UpstreamDial&) = delete;
  UpstreamDial& operator=(const UpstreamDial&) = delete;

  // May report at once (a cached or literal address that cannot be connected to).
  void start();
  // The connection is closing: no more Listener calls. A pending connect ends with
  // UV_ECANCELED when the connection closes its handle (before the handle's close callback).
  void cancel();

 private:
  static void onConnect(uv_connect_t* req, int status);
  void onResolved(int status, const AddressList& addresses);
  void connectNext();
  void addressFailed(int status);

  uv_loop_t* loop_;
  DnsCache& dns_;
  const Origin& origin_;
  uv_tcp_t*& socket_;
  Listener& listener_;
  std::unique_ptr<DnsCache::Lookup> lookup_;
  AddressList addresses_;
  size_t next_address_ = 0;
  std::string last_error_;
  bool cancelled_ = false;
};

}  // namespace aigw::upstream
