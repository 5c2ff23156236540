// One keep-alive HTTP/1.1 client connection of the load generator (libuv TCP, TCP_NODELAY,
// llhttp response parsing). It sends one request at a time and reports to its listener; it
// frees itself in its close callback, after telling the listener it is gone.
#pragma once

#include <llhttp.h>
#include <uv.h>

#include <cstddef>
#include <cstdint>

#include "loadgen/options.h"

namespace aigw::bench {

class ClientConnection {
 public:
  class Listener {
   public:
    virtual ~Listener() = default;
    virtual void onConnected(ClientConnection& conn) = 0;
    // The connect failed; the connection closes itself next (onClosed follows).
    virtual void onConnectFailed(ClientConnection& conn, int uv_status) = 0;
    virtual void onResponseHead(ClientConnection& conn, int status) = 0;
    // Decoded body bytes; `now_ns` is when the read that carried them returned.
    virtual void onResponseBody(ClientConnection& conn, const char* data, size_t len, uint64_t now_ns) = 0;
    virtual void onResponseComplete(ClientConnection& conn, uint64_t now_ns) = 0;
    // The response in flight failed: the peer closed or reset, or sent something unparsable.
    // The connection closes itself next.
    virtual void onResponseFailed(ClientConnection& conn, bool parse_error) = 0;
    // The handle is closed; the object is deleted right after this returns.
    virtual void onClosed(ClientConnection& conn) = 0;
  };

  ClientConnection(uv_loop_t* loop, const Target& target, Listener& listener, int slot);
  ClientConnection(const ClientConnection&) = delete;
  ClientConnection& operator=(const ClientConnection&) = delete;

  // Returns a libuv error when the connect could not even start (then call close()).
  int connect();
  // Writes the target's request. Only on a connected, idle connection.
  void send();
  // Idempotent; onClosed follows from the loop.
  void close();

  int slot() const { return slot_; }
  bool connected() const { return connected_; }
  bool busy() const { return busy_; }
  bool closing() const { return closing_; }

 private:
  ~ClientConnection() = default;
  static void onConnect(uv_connect_t* req, int status);
  static void onAlloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  static void onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void onWrite(uv_write_t* req, int status);
  static void onClose(uv_handle_t* handle);
  static int onHeadersComplete(llhttp_t* p);
  static int onBody(llhttp_t* p, const char* at, size_t len);
  static int onMessageComplete(llhttp_t* p);
  static const llhttp_settings_t* settings();
  void failResponse(bool parse_error);

  uv_tcp_t tcp_;
  uv_connect_t connect_req_;
  uv_write_t write_req_;
  llhttp_t parser_;
  const Target& target_;
  Listener& listener_;
  int slot_;
  uint64_t read_now_ns_ = 0;
  bool connected_ = false;
  bool busy_ = false;
  bool closing_ = false;
  bool message_done_ = false;
};

}  // namespace aigw::bench
