"""Helpers shared by the Python test-suite (imported by the tests and conftest.py).

- ``RawConn``: a blocking HTTP/1.1 client over a plain socket, for framing and limit tests
  where a real client library would refuse (or fix up) what we want to send.
- ``free_port``: a port that was free a moment ago (bind port 0, close).
- ``AigwProcess``: ``aigw serve`` / ``aigw mock`` in a subprocess; waits for the URL line on
  stderr (no sleeps) and always cleans up.
- ``wait_until``: poll a condition with a deadline (never a bare sleep to "let things settle").
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"

CHAT_BODY = json.dumps(
    {"model": "mock-gpt", "messages": [{"role": "user", "content": "hi"}]}
).encode()

STOCK_ANSWER = "Hello! This is a mock answer from aigw."


def aigw_executable() -> str:
    """The ``aigw`` console script of the venv running the tests."""
    found = shutil.which("aigw", path=str(Path(sys.executable).parent))
    assert found, f"no aigw console script next to {sys.executable}"
    return found


def free_port(host: str = HOST) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def wait_until(
    condition: Callable[[], Any], timeout: float = 5.0, interval: float = 0.005, what: str = ""
) -> Any:
    """Poll ``condition`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or condition}")
        time.sleep(interval)


def count_tasks() -> int:
    return len(os.listdir("/proc/self/task"))


def count_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def mock_config(
    *, server: dict[str, Any] | None = None, wildcard: bool = True, **mock_knobs: Any
) -> dict[str, Any]:
    """A config with one mock provider; ``server`` settings and mock knobs as given.

    Like the embedded default, its routes make one attempt and never eject the mock, so a
    request sees exactly what the knobs say.
    """
    names = ["mock-gpt", "mock-embedding", *(["*"] if wildcard else [])]
    return {
        "server": {"workers": 1, **(server or {})},
        "providers": {"mock": {"kind": "mock", **mock_knobs}},
        "routes": [mock_route(name) for name in names],
    }


def mock_route(name: str, provider: str = "mock") -> dict[str, Any]:
    """A route to a mock provider with one attempt and no circuit breaking."""
    return {
        "name": name,
        "provider": provider,
        "retry": {"attempts": 1},
        "circuit_breaker": {"enabled": False},
    }


# --------------------------------------------------------------------------- raw HTTP


@dataclass
class RawResponse:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    raw_head: bytes = b""
    interim: list[int] = field(default_factory=list)

    def header(self, name: str) -> str | None:
        name = name.lower()
        for k, v in self.headers:
            if k == name:
                return v
        return None

    def header_count(self, name: str) -> int:
        return sum(1 for k, _ in self.headers if k == name.lower())

    def json(self) -> Any:
        return json.loads(self.body)


class RawConn:
    """One TCP connection speaking hand-written HTTP/1.1."""

    def __init__(self, port: int, host: str = HOST, timeout: float = 5.0) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.eof = False

    def __enter__(self) -> RawConn:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.sock.close()

    def settimeout(self, timeout: float | None) -> None:
        self.sock.settimeout(timeout)

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self) -> bool:
        if self.eof:
            return False
        chunk = self.sock.recv(65536)
        if not chunk:
            self.eof = True
            return False
        self.buf += chunk
        return True

    def _take_until(self, delim: bytes) -> bytes:
        while True:
            i = self.buf.find(delim)
            if i >= 0:
                out, self.buf = self.buf[:i], self.buf[i + len(delim) :]
                return out
            if not self._fill():
                raise EOFError(f"connection closed before {delim!r}; have {self.buf[:200]!r}")

    def _take_exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            if not self._fill():
                raise EOFError(f"connection closed with {len(self.buf)} of {n} bytes")
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_response(self, *, head_request: bool = False) -> RawResponse:
        interim: list[int] = []
        while True:
            head = self._take_until(b"\r\n\r\n")
            lines = head.split(b"\r\n")
            version, status_text, *rest = lines[0].decode("latin-1").split(" ", 2)
            assert version == "HTTP/1.1", lines[0]
            status = int(status_text)
            if 100 <= status < 200:
                interim.append(status)
                continue
            break
        headers: list[tuple[str, str]] = []
        for line in lines[1:]:
            name, _, value = line.decode("latin-1").partition(":")
            headers.append((name.strip().lower(), value.strip()))
        resp = RawResponse(status, rest[0] if rest else "", headers, b"", head, interim)
        if head_request or status in (204, 304):
            return resp
        te = resp.header("transfer-encoding")
        cl = resp.header("content-length")
        if te is not None:
            assert te.lower() == "chunked", te
            assert cl is None, "both Content-Length and Transfer-Encoding in a response"
            body = b""
            while True:
                size_line = self._take_until(b"\r\n")
                size = int(size_line.split(b";")[0], 16)
                if size == 0:
                    while self._take_until(b"\r\n"):
                        pass  # trailers
                    break
                body += self._take_exact(size)
                assert self._take_exact(2) == b"\r\n"
            resp.body = body
        elif cl is not None:
            resp.body = self._take_exact(int(cl))
        else:
            while self._fill():
                pass
            resp.body, self.buf = self.buf, b""
        return resp

    def request(
        self,
        method: str,
        target: str,
        body: bytes | None = None,
        headers: Sequence[tuple[str, str]] = (),
    ) -> RawResponse:
        self.send(build_request(method, target, body, headers))
        return self.read_response(head_request=method == "HEAD")

    def closed_by_peer(self, timeout: float) -> bool:
        """True when the peer closes (EOF or reset) within ``timeout`` with nothing more sent.

        Raises if unexpected bytes arrive; returns False if the connection stays open."""
        if self.eof:
            return True
        self.sock.settimeout(timeout)
        try:
            chunk = self.sock.recv(65536)
        except TimeoutError:
            return False
        except ConnectionResetError:
            return True
        if chunk:
            raise AssertionError(f"expected the connection to close, got bytes {chunk[:200]!r}")
        self.eof = True
        return True

    def read_all_until_close(self, timeout: float) -> bytes:
        """Everything the peer sends until it closes (reset counts as close)."""
        self.sock.settimeout(timeout)
        try:
            while self._fill():
                pass
        except ConnectionResetError:
            self.eof = True
        out, self.buf = self.buf, b""
        return out


def build_request(
    method: str,
    target: str,
    body: bytes | None = None,
    headers: Sequence[tuple[str, str]] = (),
    *,
    host: bool = True,
) -> bytes:
    lines = [f"{method} {target} HTTP/1.1"]
    names = {k.lower() for k, _ in headers}
    if host and "host" not in names:
        lines.append("Host: aigw.test")
    for k, v in headers:
        lines.append(f"{k}: {v}")
    if body is not None and "content-length" not in names and "transfer-encoding" not in names:
        lines.append(f"Content-Length: {len(body)}")
    if body is not None and "content-type" not in names:
        lines.append("Content-Type: application/json")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")


def count_responses(data: bytes) -> int:
    """Status lines in raw response bytes (a response may follow a body with no CRLF)."""
    return len(re.findall(rb"HTTP/1\.[01] \d{3} ", data))


# --------------------------------------------------------------------------- subprocesses

URL_LINE = re.compile(r"aigw \S+: .*serving on (https?://\S+) ")


class AigwProcess:
    """An ``aigw`` command in a subprocess, with stderr collected line by line."""

    def __init__(self, args: Sequence[str], env: dict[str, str] | None = None) -> None:
        self.args = [aigw_executable(), *args]
        full_env = dict(os.environ)
        full_env.pop("AIGW_CONFIG", None)
        if env:
            full_env.update(env)
        self.proc = subprocess.Popen(
            self.args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=full_env,
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.url: str | None = None

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line)
            self._queue.put(line)
        self._queue.put(None)

    @property
    def stderr(self) -> str:
        return "".join(self.lines)

    def wait_for_line(self, pattern: str | re.Pattern[str], timeout: float = 15.0) -> re.Match[str]:
        rx = re.compile(pattern) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no stderr line matching {rx.pattern!r}; got:\n{self.stderr}")
            try:
                line = self._queue.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                self._queue.put(None)  # keep EOF visible to later waits
                raise AssertionError(
                    f"process exited ({self.proc.wait()}) before printing {rx.pattern!r}; "
                    f"stderr:\n{self.stderr}"
                )
            m = rx.search(line)
            if m:
                return m

    def wait_ready(self, timeout: float = 15.0) -> str:
        self.url = self.wait_for_line(URL_LINE, timeout).group(1)
        return self.url

    @property
    def port(self) -> int:
        assert self.url is not None
        return int(self.url.rsplit(":", 1)[1])

    def send_signal(self, sig: signal.Signals) -> None:
        self.proc.send_signal(sig)

    def wait(self, timeout: float) -> int:
        """Waits for the exit code; then all of stderr is in ``lines``."""
        rc = self.proc.wait(timeout)
        self._reader.join(5)
        return rc

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self._reader.join(10)
        if self.proc.stderr is not None:
            self.proc.stderr.close()

    def __enter__(self) -> AigwProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
