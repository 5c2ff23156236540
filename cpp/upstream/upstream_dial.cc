#include "upstream/upstream_dial.h"

#include <arpa/inet.h>
#include <netinet/in.h>

namespace aigw::upstream {
namespace {

void freeTcp(uv_handle_t* h) {
  delete reinterpret_cast<uv_tcp_t*>(h);
}

}  // namespace

void UpstreamDial::start() {
  auto lookup =
      dns_.resolve(origin_.host, origin_.port, [this](int status, const AddressList& a) { onResolved(status, a); });
  if (lookup && !cancelled_) lookup_ = std::move(lookup);
}

void UpstreamDial::cancel() {
  cancelled_ = true;
  lookup_.reset();
}

void UpstreamDial::onResolved(int status, const AddressList& addresses) {
  lookup_.reset();
  if (cancelled_) return;
  if (status < 0) {
    listener_.connectFailed(CallErrorKind::Connect,
                            "cannot resolve " + origin_.host + ": " + std::string(uv_strerror(status)));
    return;
  }
  addresses_ = addresses;
  next_address_ = 0;
  connectNext();
}

void UpstreamDial::connectNext() {
  while (next_address_ < addresses_.size()) {
    if (next_address_ > 0) {
      void* data = socket_->data;
      uv_close(reinterpret_cast<uv_handle_t*>(socket_), &freeTcp);
      socket_ = new uv_tcp_t;
      uv_tcp_init(loop_, socket_);
      socket_->data = data;
    }
    auto* req = new uv_connect_t;
    req->data = this;
    const sockaddr_storage& addr = addresses_[next_address_];
    int rc = uv_tcp_connect(req, socket_, reinterpret_cast<const sockaddr*>(&addr), &UpstreamDial::onConnect);
    if (rc == 0) return;
    delete req;
    addressFailed(rc);
  }
  listener_.connectFailed(CallErrorKind::Connect, last_error_.empty() ? "no address to connect to" : last_error_);
}

void UpstreamDial::onConnect(uv_connect_t* req, int status) {
  auto* self = static_cast<UpstreamDial*>(req->data);
  delete req;
  if (status == UV_ECANCELED || self->cancelled_) return;
  if (status < 0) {
    self->addressFailed(status);
    self->connectNext();
    return;
  }
  self->listener_.dialed();
}

void UpstreamDial::addressFailed(int status) {
  last_error_ = "connect to " + origin_.hostPort() + " (" + addressText(addresses_[next_address_]) +
                ") failed: " + uv_strerror(status);
  ++next_address_;
}

}  // namespace aigw::upstream
