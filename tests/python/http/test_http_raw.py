"""HTTP/1.1 framing, limits and slow peers, over raw sockets (no client library in the way)."""

from __future__ import annotations

import json
import selectors
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from _util import (
    CHAT_BODY,
    STOCK_ANSWER,
    RawConn,
    RawResponse,
    build_request,
    count_responses,
    mock_config,
    mock_route,
    wait_until,
)

import aigw

MAX_HEADER = 4096
MAX_URL = 1024
MAX_BODY = 65536

LIMITS = {
    "workers": 2,
    "max_header_bytes": MAX_HEADER,
    "max_url_bytes": MAX_URL,
    "max_body_bytes": MAX_BODY,
    "header_timeout": 2.0,
    "body_timeout": 2.0,
    "idle_timeout": 2.0,
}


@pytest.fixture(scope="module")
def gw() -> Iterator[aigw.Gateway]:
    with aigw.Gateway(mock_config(server=LIMITS)) as g:
        yield g


def chat(**extra: Any) -> bytes:
    return json.dumps(
        {"model": "mock-gpt", "messages": [{"role": "user", "content": "hi"}], **extra}
    ).encode()


def assert_error(resp: RawResponse, status: int, code: str | None = None) -> dict[str, Any]:
    """An OpenAI-shaped JSON error with a request id."""
    assert resp.status == status, (resp.status, resp.body[:300])
    assert (resp.header("x-aigw-request-id") or "").startswith("req_"), resp.headers
    assert resp.header("content-type") == "application/json"
    body = resp.json()
    assert set(body) == {"error"}
    err = body["error"]
    assert set(err) == {"message", "type", "param", "code"}
    assert isinstance(err["message"], str) and err["message"]
    if code is not None:
        assert err["code"] == code, err
    return dict(err)


def assert_one_response_then_close(conn: RawConn, status: int, timeout: float = 5.0) -> RawResponse:
    resp = conn.read_response()
    assert_error(resp, status)
    assert resp.header("connection") == "close"
    rest = conn.read_all_until_close(timeout)
    assert rest == b"", f"bytes after the error response: {rest[:300]!r}"
    assert conn.eof or rest == b""
    return resp


# --------------------------------------------------------------------------- basics


def test_health_get_and_head(gw: aigw.Gateway) -> None:
    with RawConn(gw.port or 0) as c:
        resp = c.request("GET", "/health")
        assert resp.status == 200
        body = resp.json()
        assert body["status"] == "ok" and body["version"] == aigw.__version__
        assert resp.header("x-aigw-request-id")
        head = c.request("HEAD", "/health")  # same connection: keep-alive
        assert head.status == 200
        assert int(head.header("content-length") or 0) > 0
        assert head.body == b""
        assert head.header("x-aigw-request-id") != resp.header("x-aigw-request-id")


def test_chat_completion_over_raw_http(gw: aigw.Gateway) -> None:
    with RawConn(gw.port or 0) as c:
        resp = c.request("POST", "/v1/chat/completions", CHAT_BODY)
        assert resp.status == 200
        assert resp.header("content-length") == str(len(resp.body))
        assert resp.json()["choices"][0]["message"]["content"] == STOCK_ANSWER
        assert resp.header("x-aigw-request-id")
        assert resp.header("connection") is None  # HTTP/1.1 keep-alive by default


def test_streaming_response_is_chunked_sse(gw: aigw.Gateway) -> None:
    with RawConn(gw.port or 0) as c:
        resp = c.request("POST", "/v1/chat/completions", chat(stream=True))
        assert resp.status == 200
        assert resp.header("transfer-encoding") == "chunked"
        assert (resp.header("content-type") or "").startswith("text/event-stream")
        assert resp.header("x-aigw-request-id")
        events = [e for e in resp.body.decode().split("\n\n") if e]
        assert events[-1] == "data: [DONE]"
        assert all(e.startswith("data: ") for e in events)
        # The connection stays usable after a chunked response.
        assert c.request("GET", "/health").status == 200


def test_unknown_path_is_404_with_openai_error_shape(gw: aigw.Gateway) -> None:
    with RawConn(gw.port or 0) as c:
        err = assert_error(c.request("GET", "/nope"), 404, "unknown_url")
        assert err["type"] == "invalid_request_error"
        assert "/nope" in err["message"]
        assert_error(c.request("POST", "/v1/unknown", CHAT_BODY), 404, "unknown_url")
        # Errors do not close the connection.
        assert c.request("GET", "/health").status == 200


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("GET", "/v1/chat/completions", "POST"),
        ("PUT", "/v1/embeddings", "POST"),
        ("POST", "/health", "GET, HEAD"),
        ("DELETE", "/v1/models", "GET, HEAD"),
        ("POST", "/v1/models/mock-gpt", "GET, HEAD"),
    ],
)
def test_wrong_method_is_405(gw: aigw.Gateway, method: str, path: str, allow: str) -> None:
    with RawConn(gw.port or 0) as c:
        body = CHAT_BODY if method in ("POST", "PUT") else None
        resp = c.request(method, path, body)
        err = assert_error(resp, 405, "method_not_allowed")
        assert resp.header("allow") == allow
        assert method in err["message"]


def test_models_retrieve_decodes_the_id() -> None:
    cfg = mock_config(wildcard=False)
    cfg["routes"].append(mock_route("org/model one"))
    with aigw.Gateway(cfg) as g, RawConn(g.port or 0) as c:
        for target in ("/v1/models/org%2Fmodel%20one", "/v1/models/org/model%20one"):
            resp = c.request("GET", target)
            assert resp.status == 200, target
            assert resp.json()["id"] == "org/model one"
        assert c.request("GET", "/v1/models/mock%2dgpt").json()["id"] == "mock-gpt"
        for bad in ("/v1/models/org%2", "/v1/models/org%zzmodel", "/v1/models/org%2Fnone"):
            assert_error(c.request("GET", bad), 404, "model_not_found")


def test_invalid_json_body_is_400(gw: aigw.Gateway) -> None:
    with RawConn(gw.port or 0) as c:
        assert_error(c.request("POST", "/v1/chat/completions", b"{not json"), 400, "invalid_json")
        assert_error(c.request("POST", "/v1/chat/completions", b"[1, 2]"), 400, "invalid_type")
        assert_error(
            c.request("POST", "/v1/chat/completions", b'{"messages": []}'),
            400,
            "missing_required_parameter",
        )


def test_expect_100_continue(gw: aigw.Gateway) -> None:
    with RawConn(gw.port or 0) as c:
        head = build_request(
            "POST",
            "/v1/chat/completions",
            None,
            [("Content-Length", str(len(CHAT_BODY))), ("Expect", "100-continue")],
        )
        c.send(head)
        c.settimeout(5)
        interim = c._take_until(b"\r\n\r\n")
        assert interim.startswith(b"HTTP/1.1 100 Continue")
        c.send(CHAT_BODY)
        resp = c.read_response()
        assert resp.status == 200
        assert resp.json()["choices"][0]["message"]["content"] == STOCK_ANSWER


def test_request_split_byte_by_byte(gw: aigw.Gateway) -> None:
    data = build_request("POST", "/v1/chat/completions", CHAT_BODY)
    with RawConn(gw.port or 0) as c:
        for i in range(len(data)):
            c.send(data[i : i + 1])
        resp = c.read_response()
    assert resp.status == 200
    assert resp.json()["choices"][0]["message"]["content"] == STOCK_ANSWER


def test_connection_close_ends_the_connection_after_one_response(gw: aigw.Gateway) -> None:
    with RawConn(gw.port or 0) as c:
        c.send(
            build_request("GET", "/health", None, [("Connection", "close")])
            + build_request("GET", "/health")  # pipelined after 'close': never answered
        )
        data = c.read_all_until_close(5)
    assert count_responses(data) == 1, data
    assert b"\r\nconnection: close\r\n" in data


def test_http10_keep_alive(gw: aigw.Gateway) -> None:
    with RawConn(gw.port or 0) as c:
        c.send(
            b"GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /health HTTP/1.0\r\n\r\n"
        )
        first = c.read_response()
        assert first.header("connection") == "keep-alive"
        second = c.read_response()
        assert second.header("connection") == "close"
        assert c.closed_by_peer(3)


def test_http10_request_closes_after_response(gw: aigw.Gateway) -> None:
    with RawConn(gw.port or 0) as c:
        c.send(b"GET /health HTTP/1.0\r\n\r\n")
        raw = c.read_all_until_close(5)
    assert raw.startswith(b"HTTP/1.1 200 ")
    assert count_responses(raw) == 1
    # An HTTP/1.0 stream has no chunked framing: the body ends with the connection.
    with RawConn(gw.port or 0) as c:
        c.send(
            b"POST /v1/chat/completions HTTP/1.0\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(chat(stream=True))}\r\n\r\n".encode()
            + chat(stream=True)
        )
        raw = c.read_all_until_close(5)
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ")
    assert b"transfer-encoding" not in head.lower()
    assert body.rstrip().endswith(b"data: [DONE]")


# --------------------------------------------------------------------------- pipelining


def test_pipelined_requests_answer_in_order(gw: aigw.Gateway) -> None:
    reqs = [
        build_request(
            "POST",
            "/v1/chat/completions",
            CHAT_BODY,
            [("x-mock-latency-ms", "150"), ("x-mock-response", "first")],
        ),
        build_request("GET", "/health"),
        build_request("POST", "/v1/chat/completions", CHAT_BODY, [("x-mock-response", "third")]),
        build_request("GET", "/nope"),
        build_request(
            "POST",
            "/v1/chat/completions",
            chat(stream=True),
            [("x-mock-response", "fifth"), ("x-mock-chunks", "1")],
        ),
        build_request("HEAD", "/health"),
        build_request("GET", "/v1/models"),
    ]
    with RawConn(gw.port or 0) as c:
        c.send(b"".join(reqs))  # one write: the server sees them all at once
        r1 = c.read_response()
        r2 = c.read_response()
        r3 = c.read_response()
        r4 = c.read_response()
        r5 = c.read_response()
        r6 = c.read_response(head_request=True)
        r7 = c.read_response()
        assert not c.closed_by_peer(0.05)  # still open, nothing extra sent
    assert r1.json()["choices"][0]["message"]["content"] == "first"
    assert r2.json()["status"] == "ok"
    assert r3.json()["choices"][0]["message"]["content"] == "third"
    assert_error(r4, 404)
    assert b"fifth" in r5.body and r5.body.rstrip().endswith(b"data: [DONE]")
    assert r6.status == 200 and r6.body == b""
    assert [m["id"] for m in r7.json()["data"]] == ["mock-gpt", "mock-embedding"]
    ids = [r.header("x-aigw-request-id") for r in (r1, r2, r3, r4, r5, r6, r7)]
    assert all(ids) and len(set(ids)) == 7


def test_many_pipelined_requests(gw: aigw.Gateway) -> None:
    n = 200  # well past the 64 KiB the server holds unparsed while a request is in flight
    reqs = [
        build_request(
            "POST", "/v1/chat/completions", chat(pad="p" * 300), [("x-mock-response", f"n{i}")]
        )
        for i in range(n)
    ]
    payload = b"".join(reqs)
    assert len(payload) > 64 * 1024
    with RawConn(gw.port or 0, timeout=10) as c:
        sender = threading.Thread(target=c.send, args=(payload,))
        sender.start()
        answers = [c.read_response().json()["choices"][0]["message"]["content"] for _ in range(n)]
        sender.join()
    assert answers == [f"n{i}" for i in range(n)]


def _rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc/self/status")


def test_client_that_never_reads_cannot_grow_server_memory(
    make_gateway: Callable[..., aigw.Gateway],
) -> None:
    """60 pipelined requests with 1.4 MB answers each (86 MB in all), never read: the
    server stops answering (and reading) instead of queueing them in memory."""
    gw = make_gateway()
    n = 60
    body = json.dumps(
        {"model": "e", "input": "x", "dimensions": 65536, "encoding_format": "float"}
    ).encode()
    with RawConn(gw.port or 0, timeout=20) as c:
        rss0 = _rss_mib()
        c.send(build_request("POST", "/v1/embeddings", body) * n)
        wait_until(lambda: gw.stats()["requests"] >= 2, what="the server to start answering")
        peak = rss0
        end = time.monotonic() + 0.5
        while time.monotonic() < end:  # watch the server while the client does not read
            peak = max(peak, _rss_mib())
            time.sleep(0.02)
        answered_unread = gw.stats()["requests"]
        sizes = [len(c.read_response().body) for _ in range(n)]
    assert answered_unread < n // 4, "the server kept answering a client that does not read"
    assert peak - rss0 < 32, f"memory grew by {peak - rss0:.0f} MiB"
    assert min(sizes) > 1_000_000 and sum(sizes) > 80_000_000
    assert gw.stats()["requests"] == n


# --------------------------------------------------------------------------- limits


@pytest.mark.parametrize(
    "headers",
    [[("X-Big", "a" * (MAX_HEADER + 100))], [(f"X-H{i}", "v") for i in range(200)]],
    ids=["block-too-large", "too-many-fields"],
)
def test_too_much_header_is_431(gw: aigw.Gateway, headers: list[tuple[str, str]]) -> None:
    with RawConn(gw.port or 0) as c:
        c.send(build_request("GET", "/health", None, headers))
        resp = assert_one_response_then_close(c, 431)
    assert "header" in resp.json()["error"]["message"]


def test_headers_just_under_the_limit_pass(gw: aigw.Gateway) -> None:
    with RawConn(gw.port or 0) as c:
        resp = c.request("GET", "/health", None, [("X-Big", "a" * (MAX_HEADER - 200))])
    assert resp.status == 200


def test_request_line_too_long_is_414(gw: aigw.Gateway) -> None:
    with RawConn(gw.port or 0) as c:
        c.send(build_request("GET", "/health?" + "q" * (MAX_URL + 10)))
        assert_one_response_then_close(c, 414)
    with RawConn(gw.port or 0) as c:
        ok = c.request("GET", "/health?" + "q" * (MAX_URL - 100))
    assert ok.status == 200


def test_413_arrives_before_the_body_is_sent(gw: aigw.Gateway) -> None:
    before = gw.stats()["limit_errors"]
    with RawConn(gw.port or 0) as c:
        c.send(
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 10000000000\r\n\r\n"
        )
        # Not a byte of the 10 GB body was sent, yet the answer is here.
        c.settimeout(3)
        resp = c.read_response()
        assert_error(resp, 413)
        assert resp.header("connection") == "close"
        assert c.closed_by_peer(3)
    assert gw.stats()["limit_errors"] == before + 1


def test_a_client_that_keeps_sending_after_a_413_is_cut_off(gw: aigw.Gateway) -> None:
    """After the 413 the server reads and discards for a moment (so its answer is read, not
    reset), but only up to 1 MB: it does not swallow a gigabyte in those two seconds."""
    with RawConn(gw.port or 0) as c:
        c.send(
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 10000000000\r\n\r\n"
        )
        c.settimeout(3)
        assert_error(c.read_response(), 413)
        sent = 0
        chunk = b"x" * 65536
        with pytest.raises(OSError):  # EPIPE or ECONNRESET once the server closed
            while sent < 256 << 20:
                c.sock.sendall(chunk)
                sent += len(chunk)
    # What was sent past the cap sits in the kernel's buffers on both sides, no more.
    assert sent < 32 << 20, sent


def test_413_with_expect_100_continue_skips_the_continue(gw: aigw.Gateway) -> None:
    with RawConn(gw.port or 0) as c:
        c.send(
            b"POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
            + f"Content-Length: {MAX_BODY + 1}\r\n\r\n".encode()
        )
        c.settimeout(3)
        resp = c.read_response()
    assert resp.interim == []
    assert_error(resp, 413)


def test_chunked_body_over_the_limit_is_413_while_sending(gw: aigw.Gateway) -> None:
    with RawConn(gw.port or 0) as c:
        c.send(
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        chunk = b"4000\r\n" + b"x" * 0x4000 + b"\r\n"
        sent = 0
        sel = selectors.DefaultSelector()
        sel.register(c.sock, selectors.EVENT_READ)
        try:
            while sent < 20 * MAX_BODY:
                if sel.select(timeout=0.02):
                    break  # the server answered
                try:
                    c.send(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    break
                sent += 0x4000
        finally:
            sel.close()
        resp = c.read_response()
    assert_error(resp, 413)
    assert sent < 20 * MAX_BODY, "the server kept reading the body far past the limit"


def test_body_at_the_limit_passes_and_one_byte_more_is_413(gw: aigw.Gateway) -> None:
    base = chat(padding="")
    exact = chat(padding="p" * (MAX_BODY - len(base)))
    assert len(exact) == MAX_BODY
    with RawConn(gw.port or 0) as c:
        assert c.request("POST", "/v1/chat/completions", exact).status == 200
    over = chat(padding="p" * (MAX_BODY - len(base) + 1))
    with RawConn(gw.port or 0) as c:
        c.send(build_request("POST", "/v1/chat/completions", over))
        assert_one_response_then_close(c, 413)


# --------------------------------------------------------------------------- framing errors

FRAMING_ERRORS = {
    "cl-and-te": (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\n"
    ),
    "te-and-cl": (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        b"Content-Length: 5\r\n\r\n0\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\n"
    ),
    "duplicate-content-length": (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
        b"Content-Length: 3\r\n\r\n{}x"
    ),
    "malformed-content-length": (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n{}"
    ),
    "negative-content-length": (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n"
    ),
    "odd-transfer-encoding": (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n"
        b"0\r\n\r\n"
    ),
    "chunked-not-last": (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
        b"Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n"
    ),
    "space-before-colon": b"GET /health HTTP/1.1\r\nHost : x\r\n\r\n",
    "space-before-colon-authorization": (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization : Bearer X\r\n"
        b"Content-Length: 2\r\n\r\n{}"
    ),
    "tab-before-colon-cookie": b"GET /health HTTP/1.1\r\nHost: x\r\nCookie\t: a=b\r\n\r\n",
    "obs-fold": b"GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\r\n  folded\r\n\r\n",
    "obs-fold-tab": b"GET /health HTTP/1.1\r\nX-A: a\r\n\tfolded\r\nHost: x\r\n\r\n",
    "obs-fold-empty-value": b"GET /health HTTP/1.1\r\nHost: x\r\nX-A:\r\n folded\r\n\r\n",
    "obs-fold-host": b"GET /health HTTP/1.1\r\nHost: x\r\n y\r\n\r\n",
    "space-before-first-header": b"GET /health HTTP/1.1\r\n Host: x\r\n\r\n",
    "bare-lf": b"GET /health HTTP/1.1\nHost: x\n\n",
    "bare-cr": b"GET /health HTTP/1.1\rHost: x\r\n\r\n",
    "nul-in-value": b"GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n",
    "missing-host": b"GET /health HTTP/1.1\r\n\r\n",
    "duplicate-host": b"GET /health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
    "bad-chunk-size": (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"zz\r\n{}\r\n0\r\n\r\n"
    ),
    "chunk-extension-abuse": (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"2;" + b"e" * 4000 + b"\r\n{}\r\n0\r\n\r\n"
    ),
    "absolute-form-target": b"GET http://evil.example/health HTTP/1.1\r\nHost: x\r\n\r\n",
    "garbage": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
}


@pytest.mark.parametrize("raw", FRAMING_ERRORS.values(), ids=FRAMING_ERRORS.keys())
def test_bad_framing_is_one_400_then_close(gw: aigw.Gateway, raw: bytes) -> None:
    with RawConn(gw.port or 0) as c:
        c.send(raw)
        data = c.read_all_until_close(5)
    assert count_responses(data) == 1, data
    assert data.startswith(b"HTTP/1.1 400 "), data[:200]
    head, _, body = data.partition(b"\r\n\r\n")
    assert b"\r\nx-aigw-request-id: req_" in head
    assert b"\r\nconnection: close" in head
    assert set(json.loads(body)["error"]) == {"message", "type", "param", "code"}


@pytest.mark.parametrize("name", ["cl-and-te", "obs-fold", "obs-fold-empty-value"])
def test_framing_error_split_byte_by_byte(gw: aigw.Gateway, name: str) -> None:
    raw = FRAMING_ERRORS[name]
    with RawConn(gw.port or 0) as c:
        for i in range(len(raw)):
            try:
                c.send(raw[i : i + 1])
            except (BrokenPipeError, ConnectionResetError):
                break
        data = c.read_all_until_close(5)
    assert count_responses(data) == 1
    assert data.startswith(b"HTTP/1.1 400 ")


def test_folding_like_bytes_in_a_body_are_fine(gw: aigw.Gateway) -> None:
    """The obs-fold check covers the header section only, also for pipelined requests."""
    body = b'{"model": "mock-gpt",\r\n "messages":\n\t[{"role": "user", "content": "a\\n b"}]}'
    one = build_request("POST", "/v1/chat/completions", body)
    with RawConn(gw.port or 0) as c:
        c.send(one + one)
        assert c.read_response().status == 200
        assert c.read_response().status == 200
    chunked = (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        + f"{len(body):x}\r\n".encode()
        + body
        + b"\r\n0\r\n\r\n"
    )
    with RawConn(gw.port or 0) as c:
        for i in range(len(chunked)):
            c.send(chunked[i : i + 1])
        assert c.read_response().status == 200


def _chunked_chat(trailers: bytes) -> bytes:
    return (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        + f"{len(CHAT_BODY):x}\r\n".encode()
        + CHAT_BODY
        + b"\r\n0\r\n"
        + trailers
        + b"\r\n"
    )


def test_trailer_fields_are_not_merged_into_the_headers(gw: aigw.Gateway) -> None:
    """A trailer must not act as a header (here: a mock knob, and a second Host)."""
    with RawConn(gw.port or 0) as c:
        resp = c.request("GET", "/health")  # keep-alive: the same connection goes on below
        c.send(
            _chunked_chat(b"x-mock-status: 500\r\nx-mock-response: from a trailer\r\nHost: b\r\n")
        )
        resp = c.read_response()
        assert resp.status == 200
        assert resp.json()["choices"][0]["message"]["content"] == STOCK_ANSWER
        assert c.request("GET", "/health").status == 200


def test_trailers_count_against_the_header_limit(gw: aigw.Gateway) -> None:
    with RawConn(gw.port or 0) as c:
        c.send(_chunked_chat(b"X-Big: " + b"t" * (MAX_HEADER + 10) + b"\r\n"))
        assert_one_response_then_close(c, 431)


def test_http2_preface_is_rejected(gw: aigw.Gateway) -> None:
    with RawConn(gw.port or 0) as c:
        c.send(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        data = c.read_all_until_close(5)
    assert count_responses(data) == 1
    assert data.startswith(b"HTTP/1.1 505 ")


# --------------------------------------------------------------------------- slow peers


@pytest.fixture(scope="module")
def slow_gw() -> Iterator[aigw.Gateway]:
    """Short timeouts for the slow-peer tests."""
    server = {"workers": 2, "header_timeout": 0.6, "body_timeout": 0.6, "idle_timeout": 0.6}
    with aigw.Gateway(mock_config(server=server)) as g:
        yield g


def test_slowloris_gets_408_at_the_header_timeout(slow_gw: aigw.Gateway) -> None:
    """Trickling a byte every 50 ms does not extend the header deadline."""
    before = slow_gw.stats()["timeouts"]
    header = b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 1000
    with RawConn(slow_gw.port or 0) as c:
        t0 = time.monotonic()
        sel = selectors.DefaultSelector()
        sel.register(c.sock, selectors.EVENT_READ)
        try:
            for i in range(len(header)):
                c.send(header[i : i + 1])
                if sel.select(timeout=0.05):
                    break
            else:
                pytest.fail("the server never answered a client that trickled 1000 bytes")
        finally:
            sel.close()
        elapsed = time.monotonic() - t0
        resp = c.read_response()
        assert_error(resp, 408)
        assert "header" in resp.json()["error"]["message"]
        assert c.closed_by_peer(3)
    assert 0.5 <= elapsed < 2.0, elapsed
    assert slow_gw.stats()["timeouts"] == before + 1


def test_slow_body_gets_408_at_the_body_timeout(slow_gw: aigw.Gateway) -> None:
    with RawConn(slow_gw.port or 0) as c:
        t0 = time.monotonic()
        c.send(build_request("POST", "/v1/chat/completions", None, [("Content-Length", "100")]))
        c.send(b'{"model":')
        resp = c.read_response()
        elapsed = time.monotonic() - t0
        assert_error(resp, 408)
        assert "body" in resp.json()["error"]["message"]
    assert 0.5 <= elapsed < 2.0, elapsed


def test_silent_connection_is_closed_without_an_answer(slow_gw: aigw.Gateway) -> None:
    with RawConn(slow_gw.port or 0) as c:
        t0 = time.monotonic()
        data = c.read_all_until_close(5)
        elapsed = time.monotonic() - t0
    assert data == b""
    assert 0.5 <= elapsed < 2.0, elapsed


def test_idle_keep_alive_connection_closes_on_time(slow_gw: aigw.Gateway) -> None:
    with RawConn(slow_gw.port or 0) as c:
        assert c.request("GET", "/health").status == 200
        # Reused before the idle timeout: still open, answers again.
        assert c.request("POST", "/v1/chat/completions", CHAT_BODY).status == 200
        t0 = time.monotonic()
        assert c.closed_by_peer(5), "idle keep-alive connection was never closed"
        elapsed = time.monotonic() - t0
    assert 0.5 <= elapsed < 2.0, elapsed


def test_hundreds_of_slowloris_connections(make_gateway: Callable[..., aigw.Gateway]) -> None:
    timeout = 1.5
    gw = make_gateway(mock_config(server={"workers": 2, "header_timeout": timeout}))
    port = gw.port or 0
    n = 300
    partial = b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Slow: yes"
    conns: list[RawConn] = []
    opened: dict[int, float] = {}
    try:
        for _ in range(n):
            c = RawConn(port)
            c.send(partial)
            opened[c.sock.fileno()] = time.monotonic()
            conns.append(c)
        wait_until(lambda: gw.stats()["connections_active"] == n, what="all slow connections")

        # While they hang, a normal client on a fresh connection is served quickly.
        for _ in range(3):
            t0 = time.monotonic()
            with RawConn(port) as fresh:
                resp = fresh.request("POST", "/v1/chat/completions", CHAT_BODY)
            assert resp.status == 200
            assert time.monotonic() - t0 < 0.5
        assert time.monotonic() - min(opened.values()) < timeout, "test setup took too long"

        # Every slow connection gets its 408 and is closed at the header timeout.
        sel = selectors.DefaultSelector()
        by_fd = {c.sock.fileno(): c for c in conns}
        for c in conns:
            c.sock.setblocking(False)
            sel.register(c.sock, selectors.EVENT_READ)
        answered: dict[int, float] = {}
        data: dict[int, bytes] = {fd: b"" for fd in by_fd}
        deadline = time.monotonic() + timeout + 5
        try:
            while len(answered) < n and time.monotonic() < deadline:
                for key, _ in sel.select(timeout=0.5):
                    fd = key.fd
                    try:
                        chunk = by_fd[fd].sock.recv(65536)
                    except BlockingIOError:
                        continue
                    except ConnectionResetError:
                        chunk = b""
                    if chunk:
                        data[fd] += chunk
                    else:
                        answered[fd] = time.monotonic()
                        sel.unregister(by_fd[fd].sock)
        finally:
            sel.close()
        assert len(answered) == n, f"only {len(answered)} of {n} slow connections were closed"
        for fd, t in answered.items():
            assert data[fd].startswith(b"HTTP/1.1 408 "), data[fd][:100]
            assert count_responses(data[fd]) == 1
            lived = t - opened[fd]
            assert timeout * 0.9 <= lived < timeout + 3.0, lived
    finally:
        for c in conns:
            c.close()
    wait_until(lambda: gw.stats()["connections_active"] == 0, what="connections to drop")
    assert gw.stats()["timeouts"] >= n


def test_max_connections_refusal_is_fast(make_gateway: Callable[..., aigw.Gateway]) -> None:
    gw = make_gateway(
        mock_config(server={"workers": 1, "max_connections": 4, "header_timeout": 10})
    )
    port = gw.port or 0
    held = [RawConn(port) for _ in range(4)]
    try:
        wait_until(lambda: gw.stats()["connections_active"] == 4, what="4 held connections")
        t0 = time.monotonic()
        with RawConn(port) as extra:
            resp = extra.read_response()  # answered without sending a byte
            elapsed = time.monotonic() - t0
            assert extra.closed_by_peer(2)
        err = assert_error(resp, 503, "too_many_connections")
        assert err["type"] == "service_unavailable_error"
        assert resp.header("connection") == "close"
        assert elapsed < 0.5, elapsed
        assert gw.stats()["connections_refused"] == 1

        # A real client that sends its request at once gets the 503 too, not a reset.
        r = httpx.post(f"{gw.url}/v1/chat/completions", content=CHAT_BODY, timeout=5)
        assert r.status_code == 503
        assert r.json()["error"]["code"] == "too_many_connections"

        # Held connections still work, and a slot freed is a slot usable.
        assert held[0].request("GET", "/health").status == 200
        held.pop().close()
        wait_until(lambda: gw.stats()["connections_active"] == 3, what="a freed slot")
        with RawConn(port) as again:
            assert again.request("GET", "/health").status == 200
    finally:
        for c in held:
            c.close()


def test_client_disconnect_mid_stream_is_counted(slow_gw: aigw.Gateway) -> None:
    before = slow_gw.stats()["client_aborts"]
    c = RawConn(slow_gw.port or 0)
    c.send(
        build_request(
            "POST",
            "/v1/chat/completions",
            chat(stream=True),
            [("x-mock-stall-after", "2")],
        )
    )
    c.settimeout(5)
    c._take_until(b"\r\n\r\n")
    c.sock.shutdown(socket.SHUT_RDWR)
    c.close()
    wait_until(
        lambda: slow_gw.stats()["client_aborts"] == before + 1, what="the abort to be counted"
    )
    wait_until(lambda: slow_gw.stats()["connections_active"] == 0, what="the connection to go")
