#include "loadgen/client_connection.h"

namespace aigw::bench {

namespace {
ClientConnection* fromParser(llhttp_t* p) { return static_cast<ClientConnection*>(p->data); }

// The loop is single-threaded and each read is consumed before the next allocation, so every
// connection can share one read buffer: 4k idle connections cost no buffer memory.
char g_read_buffer[256 * 1024];
}  // namespace

ClientConnection::ClientConnection(uv_loop_t* loop, const Target& target, Listener& listener, int slot)
    : target_(target), listener_(listener), slot_(slot) {
  uv_tcp_init(loop, &tcp_);
  tcp_.data = this;
  llhttp_init(&parser_, HTTP_RESPONSE, settings());
  parser_.data = this;
}

const llhttp_settings_t* ClientConnection::settings() {
  static const llhttp_settings_t s = [] {
    llhttp_settings_t init;
    llhttp_settings_init(&init);
    init.on_headers_complete = &ClientConnection::onHeadersComplete;
    init.on_body = &ClientConnection::onBody;
    init.on_message_complete = &ClientConnection::onMessageComplete;
    return init;
  }();
  return &s;
}

int ClientConnection::connect() {
  uv_tcp_nodelay(&tcp_, 1);
  connect_req_.data = this;
  return uv_tcp_connect(&connect_req_, &tcp_, reinterpret_cast<const sockaddr*>(&target_.addr),
                        &ClientConnection::onConnect);
}

void ClientConnection::onConnect(uv_connect_t* req, int status) {
  auto* self = static_cast<ClientConnection*>(req->data);
  if (self->closing_) return;
  if (status != 0) {
    self->listener_.onConnectFailed(*self, status);
    self->close();
    return;
  }
  // Some kernels only take TCP_NODELAY on a connected socket; set it again.
  uv_tcp_nodelay(&self->tcp_, 1);
  const int rc = uv_read_start(reinterpret_cast<uv_stream_t*>(&self->tcp_), &ClientConnection::onAlloc,
                               &ClientConnection::onRead);
  if (rc != 0) {
    self->listener_.onConnectFailed(*self, rc);
    self->close();
    return;
  }
  self->connected_ = true;
  self->listener_.onConnected(*self);
}

void ClientConnection::send() {
  busy_ = true;
  message_done_ = false;
  const std::string& bytes = target_.request_bytes;
  uv_buf_t buf = uv_buf_init(const_cast<char*>(bytes.data()), static_cast<unsigned>(bytes.size()));
  auto* stream = reinterpret_cast<uv_stream_t*>(&tcp_);
  const int written = uv_try_write(stream, &buf, 1);
  size_t done = written > 0 ? static_cast<size_t>(written) : 0;
  if (written < 0 && written != UV_EAGAIN) {
    failResponse(false);
    return;
  }
  if (done == bytes.size()) return;
  // The request bytes live in the Target for the whole run, so they outlive the write.
  buf = uv_buf_init(const_cast<char*>(bytes.data()) + done, static_cast<unsigned>(bytes.size() - done));
  write_req_.data = this;
  if (uv_write(&write_req_, stream, &buf, 1, &ClientConnection::onWrite) != 0) failResponse(false);
}

void ClientConnection::onWrite(uv_write_t* req, int status) {
  auto* self = static_cast<ClientConnection*>(req->data);
  if (status != 0 && !self->closing_ && self->busy_) self->failResponse(false);
}

void ClientConnection::onAlloc(uv_handle_t*, size_t, uv_buf_t* buf) {
  *buf = uv_buf_init(g_read_buffer, sizeof(g_read_buffer));
}

void ClientConnection::onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* self = static_cast<ClientConnection*>(stream->data);
  if (self->closing_ || nread == 0) return;
  if (nread < 0) {
    if (self->busy_) {
      // A close-delimited body ends here; anything else was cut short.
      bool finished = false;
      if (nread == UV_EOF) {
        const llhttp_errno_t err = llhttp_finish(&self->parser_);
        finished = (err == HPE_OK || err == HPE_PAUSED) && self->message_done_;
      }
      if (!finished) {
        self->failResponse(false);
        return;
      }
      // Closing first tells the listener not to reuse this connection.
      self->busy_ = false;
      self->close();
      self->listener_.onResponseComplete(*self, uv_hrtime());
      return;
    }
    self->close();
    return;
  }
  self->read_now_ns_ = uv_hrtime();
  if (!self->busy_) {
    // Bytes nobody asked for: the peer is not speaking HTTP/1.1 request-response.
    self->busy_ = true;
    self->failResponse(true);
    return;
  }
  const llhttp_errno_t err = llhttp_execute(&self->parser_, buf->base, static_cast<size_t>(nread));
  if (err == HPE_PAUSED) {
    const char* stop = llhttp_get_error_pos(&self->parser_);
    llhttp_resume(&self->parser_);
    if (stop != buf->base + nread) {
      self->failResponse(true);  // bytes after the response: we never pipeline
      return;
    }
  } else if (err != HPE_OK) {
    self->failResponse(true);
    return;
  }
  if (self->message_done_) {
    const bool keep_alive = llhttp_should_keep_alive(&self->parser_) != 0;
    self->busy_ = false;
    self->message_done_ = false;
    // Closing first tells the listener not to reuse this connection.
    if (!keep_alive) self->close();
    self->listener_.onResponseComplete(*self, self->read_now_ns_);
  }
}

int ClientConnection::onHeadersComplete(llhttp_t* p) {
  auto* self = fromParser(p);
  if (p->status_code >= 100 && p->status_code < 200) return 0;
  self->listener_.onResponseHead(*self, p->status_code);
  return 0;
}

int ClientConnection::onBody(llhttp_t* p, const char* at, size_t len) {
  auto* self = fromParser(p);
  self->listener_.onResponseBody(*self, at, len, self->read_now_ns_);
  return 0;
}

int ClientConnection::onMessageComplete(llhttp_t* p) {
  auto* self = fromParser(p);
  if (p->status_code >= 100 && p->status_code < 200) return 0;
  self->message_done_ = true;
  return HPE_PAUSED;  // hand control back to onRead before the parser looks at more bytes
}

void ClientConnection::failResponse(bool parse_error) {
  if (busy_) {
    busy_ = false;
    listener_.onResponseFailed(*this, parse_error);
  }
  close();
}

void ClientConnection::close() {
  if (closing_) return;
  closing_ = true;
  connected_ = false;
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), &ClientConnection::onClose);
}

void ClientConnection::onClose(uv_handle_t* handle) {
  auto* self = static_cast<ClientConnection*>(handle->data);
  self->listener_.onClosed(*self);
  delete self;
}

}  // namespace aigw::bench
