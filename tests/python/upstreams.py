"""Fake upstreams and gateway helpers for the proxy tests (tests/python/http/test_proxy.py).

- :class:`RecordingUpstream`: a minimal HTTP/1.1 server (asyncio streams, keep-alive, optional
  TLS) on its own thread. It records every request (method, target, raw headers, body, the
  connection it came on) and every connection (opened, closed), and answers through a handler
  that can send canned OpenAI JSON, SSE streams, raw (broken) bytes, or nothing at all.
- :func:`closed_port`, :func:`blackhole_port`: upstreams that refuse or never accept.
- :class:`ServeProcess`: ``aigw serve`` as a subprocess (stderr captured, VmRSS readable).
- :func:`make_certs`: a throw-away CA and server certificates made with the ``openssl`` CLI.
- pytest fixtures ``upstream``, ``mock_upstream`` and ``tls_certs``: a test module imports
  ``upstream_fixture`` etc. (pytest registers them under their ``name``).

Nothing here sleeps to wait for readiness: servers report their port once they listen.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import queue
import re
import select
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import aigw

# --------------------------------------------------------------------------- recorded traffic


@dataclass
class Recorded:
    """One request as the upstream received it."""

    method: str
    target: str
    version: str
    headers: list[tuple[str, str]]  # (lower-cased name, value), in arrival order, duplicates kept
    body: bytes
    conn_id: int
    raw_head: bytes

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]

    @property
    def query(self) -> str:
        return self.target.split("?", 1)[1] if "?" in self.target else ""

    def values(self, name: str) -> list[str]:
        name = name.lower()
        return [v for n, v in self.headers if n == name]

    def header(self, name: str) -> str | None:
        vals = self.values(name)
        assert len(vals) <= 1, f"header {name!r} received {len(vals)} times: {vals}"
        return vals[0] if vals else None

    def names(self) -> set[str]:
        return {n for n, _ in self.headers}

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class ConnInfo:
    conn_id: int
    opened: float
    closed: float | None = None  # time.monotonic() when the peer's EOF/reset was observed
    requests: int = 0


# --------------------------------------------------------------------------- canned OpenAI bodies

USAGE = {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}


def chat_body(model: str, content: str = "hello from upstream") -> dict[str, Any]:
    return {
        "id": "chatcmpl-rec",
        "object": "chat.completion",
        "created": 1700000000,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": USAGE,
    }


def completion_body(model: str) -> dict[str, Any]:
    return {
        "id": "cmpl-rec",
        "object": "text_completion",
        "created": 1700000000,
        "model": model,
        "choices": [{"index": 0, "text": "hello", "finish_reason": "stop", "logprobs": None}],
        "usage": USAGE,
    }


def embeddings_body(model: str, n: int = 1) -> dict[str, Any]:
    return {
        "object": "list",
        "model": model,
        "data": [
            {"object": "embedding", "index": i, "embedding": [0.1, 0.2, 0.3]} for i in range(n)
        ],
        "usage": {"prompt_tokens": 3, "total_tokens": 3},
    }


def chat_chunk(model: str, content: str | None = None, *, finish: bool = False) -> dict[str, Any]:
    delta: dict[str, Any] = {} if content is None else {"content": content}
    return {
        "id": "chatcmpl-rec",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": "stop" if finish else None}],
    }


# --------------------------------------------------------------------------- the upstream


class Reply:
    """What a handler uses to answer one request (runs on the upstream's event loop)."""

    def __init__(
        self,
        up: RecordingUpstream,
        conn: ConnInfo,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ):
        self.up = up
        self.conn = conn
        self.reader = reader
        self.writer = writer
        self.close_after = False  # close the connection once the handler returns
        self._chunked = False

    async def raw(self, data: bytes, *, close: bool = False) -> None:
        self.writer.write(data)
        await self.writer.drain()
        if close:
            self.close_after = True

    async def json(
        self, obj: Any, status: int = 200, headers: Iterable[tuple[str, str]] = ()
    ) -> None:
        await self.body(
            json.dumps(obj).encode(), status, [("content-type", "application/json"), *headers]
        )

    async def body(
        self, body: bytes, status: int = 200, headers: Iterable[tuple[str, str]] = ()
    ) -> None:
        head = f"HTTP/1.1 {status} X\r\n"
        for n, v in headers:
            head += f"{n}: {v}\r\n"
        head += f"content-length: {len(body)}\r\n\r\n"
        await self.raw(head.encode() + body)

    async def start_sse(self, status: int = 200, headers: Iterable[tuple[str, str]] = ()) -> None:
        head = f"HTTP/1.1 {status} OK\r\ncontent-type: text/event-stream\r\n"
        for n, v in headers:
            head += f"{n}: {v}\r\n"
        head += "transfer-encoding: chunked\r\n\r\n"
        self._chunked = True
        await self.raw(head.encode())

    async def event(self, data: Any) -> None:
        text = data if isinstance(data, str) else json.dumps(data)
        payload = f"data: {text}\n\n".encode()
        await self.raw(b"%x\r\n%s\r\n" % (len(payload), payload))

    async def end_sse(self) -> None:
        await self.raw(b"0\r\n\r\n")

    async def peer_closed(self, timeout: float) -> bool:
        """Waits up to `timeout` for the peer to close; records when it did."""
        try:
            data = await asyncio.wait_for(self.reader.read(65536), timeout)
        except asyncio.TimeoutError:
            return False
        except (ConnectionError, OSError):
            data = b""
        if data:
            return False  # bytes we did not ask for; not a close
        self.up._mark_closed(self.conn)
        self.close_after = True
        return True

    async def hang(self, limit: float = 30.0) -> None:
        """Never answer; return when the peer closes (or after `limit` seconds)."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if await self.peer_closed(deadline - time.monotonic()):
                return
        self.close_after = True


Handler = Callable[[Recorded, Reply], Awaitable[None]]


async def openai_handler(req: Recorded, reply: Reply) -> None:
    """Answers like OpenAI: JSON for the three endpoints (SSE when asked), `{"ok": true}` else."""
    try:
        body = req.json() if req.body else {}
    except ValueError:
        body = {}
    model = body.get("model", "unknown") if isinstance(body, dict) else "unknown"
    if req.path.endswith("/chat/completions"):
        if body.get("stream"):
            await reply.start_sse()
            await reply.event(chat_chunk(model, "hel"))
            await reply.event(chat_chunk(model, "lo"))
            await reply.event(chat_chunk(model, finish=True))
            await reply.event({**chat_chunk(model), "choices": [], "usage": USAGE})
            await reply.event("[DONE]")
            await reply.end_sse()
        else:
            await reply.json(chat_body(model))
    elif req.path.endswith("/completions"):
        await reply.json(completion_body(model))
    elif req.path.endswith("/embeddings"):
        n = len(body["input"]) if isinstance(body.get("input"), list) else 1
        await reply.json(embeddings_body(model, n))
    else:
        await reply.json({"ok": True, "method": req.method, "target": req.target})


class RecordingUpstream:
    """A fake OpenAI upstream on 127.0.0.1:<port>, served by an asyncio loop on a thread."""

    def __init__(
        self,
        handler: Handler | None = None,
        *,
        ssl_context: ssl.SSLContext | None = None,
        host: str = "127.0.0.1",
    ):
        self.handler: Handler = handler or openai_handler
        self.ssl_context = ssl_context
        self.host = host
        self.port = 0
        self.requests: list[Recorded] = []
        self.conns: list[ConnInfo] = []
        self.errors: list[BaseException] = []  # handler failures: a test bug, reported at stop
        self.sni: list[str | None] = []
        self._cv = threading.Condition()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        if ssl_context is not None:
            ssl_context.sni_callback = self._on_sni

    def _on_sni(self, _sock: Any, name: str | None, _ctx: Any) -> None:
        with self._cv:
            self.sni.append(name)

    # ---------------------------------------------------------------- lifecycle

    @property
    def origin(self) -> str:
        scheme = "https" if self.ssl_context else "http"
        return f"{scheme}://{self.host}:{self.port}"

    def start(self) -> RecordingUpstream:
        loop = asyncio.new_event_loop()
        loop.set_exception_handler(lambda _loop, _ctx: None)  # failed TLS handshakes etc.
        self._loop = loop
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                self._server = loop.run_until_complete(
                    asyncio.start_server(self._serve, self.host, 0, ssl=self.ssl_context)
                )
                self.port = self._server.sockets[0].getsockname()[1]
            except BaseException as exc:  # pragma: no cover - reported to start()
                failure.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()

        self._thread = threading.Thread(target=run, name="recording-upstream", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("recording upstream did not start")
        if failure:
            raise failure[0]
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return

        async def shutdown() -> None:
            assert self._server is not None
            self._server.close()
            for t in list(self._tasks):
                t.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await self._server.wait_closed()

        try:
            asyncio.run_coroutine_threadsafe(shutdown(), loop).result(10)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
            self._loop = self._thread = None

    def __enter__(self) -> RecordingUpstream:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---------------------------------------------------------------- inspection

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
        """Waits (without polling sleeps) until `predicate()` holds; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cv:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cv.wait(left)
            return True

    def reset(self) -> None:
        with self._cv:
            self.requests.clear()

    @property
    def last(self) -> Recorded:
        assert self.requests, "the upstream received no request"
        return self.requests[-1]

    # ---------------------------------------------------------------- serving

    def _mark_closed(self, conn: ConnInfo) -> None:
        with self._cv:
            if conn.closed is None:
                conn.closed = time.monotonic()
            self._cv.notify_all()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        with self._cv:
            conn = ConnInfo(conn_id=len(self.conns), opened=time.monotonic())
            self.conns.append(conn)
            self._cv.notify_all()
        try:
            while True:
                req = await self._read_request(reader, conn)
                if req is None:
                    break
                reply = Reply(self, conn, reader, writer)
                try:
                    await self.handler(req, reply)
                except (ConnectionError, OSError):
                    reply.close_after = True
                except asyncio.CancelledError:
                    raise
                except BaseException as exc:  # a broken handler: surfaced by the fixture
                    with self._cv:
                        self.errors.append(exc)
                    reply.close_after = True
                if reply.close_after or (req.header("connection") or "").lower() == "close":
                    break
        except (ConnectionError, OSError, asyncio.IncompleteReadError):
            pass
        finally:
            self._mark_closed(conn)
            self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _read_request(self, reader: asyncio.StreamReader, conn: ConnInfo) -> Recorded | None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, OSError):
            return None
        lines = head[:-4].decode("latin-1").split("\r\n")
        method, target, version = lines[0].split(" ", 2)
        headers: list[tuple[str, str]] = []
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers.append((name.lower(), value.strip(" \t")))
        te = [v for n, v in headers if n == "transfer-encoding"]
        cl = [v for n, v in headers if n == "content-length"]
        if te and "chunked" in te[-1].lower():
            body = b""
            while True:
                size_line = await reader.readuntil(b"\r\n")
                size = int(size_line.split(b";")[0].strip(), 16)
                if size == 0:
                    await reader.readuntil(b"\r\n")  # no trailers expected
                    break
                body += await reader.readexactly(size)
                await reader.readexactly(2)
        elif cl:
            body = await reader.readexactly(int(cl[0]))
        else:
            body = b""
        rec = Recorded(method, target, version, headers, body, conn.conn_id, head)
        with self._cv:
            conn.requests += 1
            self.requests.append(rec)
            self._cv.notify_all()
        return rec


# --------------------------------------------------------------------------- dead upstreams


def closed_port() -> int:
    """A loopback port nothing listens on (connections are refused)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@contextlib.contextmanager
def blackhole_port() -> Iterator[int]:
    """A loopback port whose listen queue is full: new connects hang (SYNs are dropped)."""
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(0)
    addr = lsock.getsockname()
    fillers: list[socket.socket] = []
    try:
        # Fill the accept queue (never accepted), then check that one more connect hangs.
        for _ in range(8):
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex(addr)
            fillers.append(s)
            _, w, _ = select.select([], [s], [], 0.05)
            if not w:
                break  # this one hangs: the queue is full
        else:  # pragma: no cover - kernel did not drop SYNs
            pytest.skip("could not fill a listen queue on loopback")
        yield addr[1]
    finally:
        for s in fillers:
            s.close()
        lsock.close()


# --------------------------------------------------------------------------- gateways


def openai_provider(base_url: str, api_key: str = "sk-provider-key", **opts: Any) -> dict[str, Any]:
    return {"kind": "openai", "base_url": base_url, "api_key": api_key, **opts}


def gateway_config(
    providers: dict[str, dict[str, Any]],
    routes: list[dict[str, Any]] | None = None,
    *,
    workers: int = 1,
    **top: Any,
) -> dict[str, Any]:
    """A gateway config (the default route sends every model to the first provider). Routes
    that do not say otherwise make one attempt and never eject a target, so each test sees
    exactly what its upstream answered; routing behaviour has its own tests."""
    first = next(iter(providers))
    plain = [
        {"retry": {"attempts": 1}, "circuit_breaker": {"enabled": False}, **route}
        for route in (routes if routes is not None else [{"name": "*", "provider": first}])
    ]
    return {
        "server": {"workers": workers},
        "providers": providers,
        "routes": plain,
        **top,
    }


def mock_upstream_gateway(workers: int = 1) -> aigw.Gateway:
    """The built-in mock provider serving as a standalone OpenAI upstream (like `aigw mock`)."""
    return aigw.Gateway(
        {
            "server": {"mode": "mock", "workers": workers},
            "providers": {"m": {"kind": "mock"}},
            "routes": [
                {
                    "name": "*",
                    "provider": "m",
                    "retry": {"attempts": 1},
                    "circuit_breaker": {"enabled": False},
                }
            ],
        }
    )


class ServeProcess:
    """`aigw serve` in a subprocess, on a free port; stderr is collected."""

    _URL_RE = re.compile(r"serving on (http://\S+) ")

    def __init__(self, config: dict[str, Any], workdir: Path, *, workers: int = 1):
        self.config_path = workdir / "aigw-serve.json"
        self.config_path.write_text(json.dumps(config))
        self.workers = workers
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""
        self._lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._reader: threading.Thread | None = None

    def start(self, timeout: float = 30.0) -> ServeProcess:
        cmd = [
            sys.executable,
            "-m",
            "aigw",
            "serve",
            "--config",
            str(self.config_path),
            "--port",
            "0",
            "--workers",
            str(self.workers),
            "--drain-timeout",
            "0",
        ]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
        )
        self._reader = threading.Thread(target=self._pump, daemon=True)
        self._reader.start()
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._queue.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                self.stop()
                raise RuntimeError(f"aigw serve did not start:\n{self.stderr}") from None
            if line is None:
                self.stop()
                raise RuntimeError(f"aigw serve exited:\n{self.stderr}")
            m = self._URL_RE.search(line)
            if m:
                self.url = m.group(1)
                return self

    def _pump(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        for raw in self.proc.stderr:
            line = raw.decode("utf-8", "replace")
            self._lines.append(line)
            self._queue.put(line)
        self._queue.put(None)

    @property
    def stderr(self) -> str:
        return "".join(self._lines)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def rss_bytes(self) -> int:
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS")

    def stop(self) -> int | None:
        proc = self.proc
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        if self._reader is not None:
            self._reader.join(5)
        if proc.stderr is not None:
            proc.stderr.close()
        return proc.returncode

    def __enter__(self) -> ServeProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --------------------------------------------------------------------------- TLS material


@dataclass
class Certs:
    dir: Path
    ca: Path
    cert: Path  # SAN: DNS:localhost, IP:127.0.0.1
    key: Path
    other_cert: Path  # signed by the same CA, SAN: DNS:other.example only
    other_key: Path
    self_signed_cert: Path = field(default=Path())  # not from the CA, SAN localhost/127.0.0.1
    self_signed_key: Path = field(default=Path())

    def server_context(self, which: str = "good") -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        cert, key = {
            "good": (self.cert, self.key),
            "other": (self.other_cert, self.other_key),
            "self": (self.self_signed_cert, self.self_signed_key),
        }[which]
        ctx.load_cert_chain(cert, key)
        return ctx


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_certs(d: Path) -> Certs:
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl(
        "req",
        "-x509",
        *ec,
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=aigw test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
        cwd=d,
    )

    def leaf(name: str, san: str) -> None:
        (d / f"{name}.ext").write_text(
            f"subjectAltName={san}\nbasicConstraints=CA:FALSE\n"
            "keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n"
        )
        _openssl(
            "req",
            *ec,
            "-keyout",
            f"{name}.key",
            "-out",
            f"{name}.csr",
            "-subj",
            f"/CN={name}",
            cwd=d,
        )
        _openssl(
            "x509",
            "-req",
            "-in",
            f"{name}.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            f"{name}.pem",
            "-days",
            "2",
            "-extfile",
            f"{name}.ext",
            cwd=d,
        )

    leaf("server", "DNS:localhost,IP:127.0.0.1")
    leaf("other", "DNS:other.example")
    _openssl(
        "req",
        "-x509",
        *ec,
        "-keyout",
        "self.key",
        "-out",
        "self.pem",
        "-days",
        "2",
        "-subj",
        "/CN=localhost",
        "-addext",
        "subjectAltName=DNS:localhost,IP:127.0.0.1",
        cwd=d,
    )
    return Certs(
        dir=d,
        ca=d / "ca.pem",
        cert=d / "server.pem",
        key=d / "server.key",
        other_cert=d / "other.pem",
        other_key=d / "other.key",
        self_signed_cert=d / "self.pem",
        self_signed_key=d / "self.key",
    )


# --------------------------------------------------------------------------- fixtures


@contextlib.contextmanager
def recording_upstream(handler: Handler) -> Iterator[RecordingUpstream]:
    """A running recording upstream answering with `handler`; stopped after, and its handler
    must not have failed (a failure there is a test bug, or a request it could not read)."""
    up = RecordingUpstream(handler).start()
    try:
        yield up
    finally:
        up.stop()
    assert not up.errors, f"upstream handler failed: {up.errors!r}"


# An OpenAI function tool the fake providers answer calls of (provider tests).
WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


@pytest.fixture(name="upstream")
def upstream_fixture() -> Iterator[RecordingUpstream]:
    """A running recording upstream with the default OpenAI handler (swap `.handler` freely)."""
    up = RecordingUpstream().start()
    try:
        yield up
    finally:
        up.stop()
    assert not up.errors, f"upstream handler failed: {up.errors!r}"


@pytest.fixture(name="mock_upstream", scope="module")
def mock_upstream_fixture() -> Iterator[aigw.Gateway]:
    """The built-in mock as a standalone upstream over TCP (shared by a module's tests)."""
    gw = mock_upstream_gateway(workers=1).start()
    try:
        yield gw
    finally:
        gw.stop(drain_timeout=0)


@pytest.fixture(name="tls_certs", scope="session")
def tls_certs_fixture(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    if subprocess.run(["openssl", "version"], capture_output=True).returncode != 0:
        pytest.skip("openssl CLI not available")
    return make_certs(tmp_path_factory.mktemp("certs"))
