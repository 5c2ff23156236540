"""Passthrough uploads that are not JSON stream to the provider as they arrive, beyond
max_body_bytes, with the client's framing rebuilt (its Content-Length kept, or our own chunks)."""

from __future__ import annotations

import hashlib
import os
import socket
import threading
from collections.abc import Iterator

import httpx
import pytest

import aigw


class SinkUpstream:
    """Accepts one request, hashes its body as it arrives, answers 200 with the digest."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.head = ""
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.sock.accept()
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            head, rest = data.split(b"\r\n\r\n", 1)
            self.head = head.decode()
            lines = [line.lower() for line in self.head.split("\r\n")]
            length = [int(x.split(":")[1]) for x in lines if x.startswith("content-length:")]
            digest = hashlib.sha256()
            if length:
                remaining = length[0]
                digest.update(rest)
                remaining -= len(rest)
                while remaining > 0:
                    chunk = conn.recv(min(1 << 20, remaining))
                    assert chunk, "upstream connection closed early"
                    digest.update(chunk)
                    remaining -= len(chunk)
            else:
                digest.update(_dechunk(conn, rest))
            body = digest.hexdigest().encode()
            conn.sendall(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: %d\r\n\r\n%s"
                % (len(body), body)
            )

    def close(self) -> None:
        self.sock.close()


def _dechunk(conn: socket.socket, buf: bytes) -> bytes:
    out = bytearray()
    while True:
        while b"\r\n" not in buf:
            buf += conn.recv(1 << 20)
        size_line, buf = buf.split(b"\r\n", 1)
        size = int(size_line.split(b";")[0], 16)
        while len(buf) < size + 2:
            buf += conn.recv(1 << 20)
        out += buf[:size]
        buf = buf[size + 2 :]
        if size == 0:
            return bytes(out)


@pytest.fixture
def sink() -> Iterator[SinkUpstream]:
    s = SinkUpstream()
    yield s
    s.close()


def gateway_for(sink: SinkUpstream) -> aigw.Gateway:
    base = f"http://127.0.0.1:{sink.port}/v1"
    config = {
        "server": {"max_body_bytes": 1 << 20},  # uploads are not bound by the buffered limit
        "providers": {"up": {"kind": "openai", "base_url": base, "api_key": "sk-up"}},
    }
    return aigw.Gateway(config, workers=1)


PAYLOAD = os.urandom(24 << 20)
DIGEST = hashlib.sha256(PAYLOAD).hexdigest()


def test_upload_with_content_length_streams_through_whole(sink: SinkUpstream) -> None:
    with gateway_for(sink) as gw:
        r = httpx.post(
            gw.url + "/v1/files",
            content=PAYLOAD,
            headers={"content-type": "application/octet-stream"},
            timeout=30,
        )
    assert r.status_code == 200, r.text
    assert r.text == DIGEST
    assert f"content-length: {len(PAYLOAD)}" in sink.head.lower()
    assert "transfer-encoding" not in sink.head.lower()
    assert "authorization: bearer sk-up" in sink.head.lower()


def test_chunked_upload_is_rechunked_and_streams_through_whole(sink: SinkUpstream) -> None:
    def pieces() -> Iterator[bytes]:
        for i in range(0, len(PAYLOAD), 1 << 20):
            yield PAYLOAD[i : i + (1 << 20)]

    with gateway_for(sink) as gw:
        r = httpx.post(
            gw.url + "/v1/files",
            content=pieces(),
            headers={"content-type": "application/octet-stream"},
            timeout=30,
        )
    assert r.status_code == 200, r.text
    assert r.text == DIGEST
    assert "transfer-encoding: chunked" in sink.head.lower()


def test_upload_over_max_upload_bytes_is_413_before_streaming(sink: SinkUpstream) -> None:
    base = f"http://127.0.0.1:{sink.port}/v1"
    config = {
        "server": {"max_upload_bytes": 1 << 20},
        "providers": {"up": {"kind": "openai", "base_url": base}},
    }
    with aigw.Gateway(config, workers=1) as gw:
        r = httpx.post(
            gw.url + "/v1/files",
            content=PAYLOAD[: 2 << 20],
            headers={"content-type": "application/octet-stream"},
            timeout=30,
        )
    assert r.status_code == 413
    assert sink.head == ""
