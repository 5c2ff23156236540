"""Upstream proxying and streaming: `kind: openai` providers in front of real upstreams.

Clients are the official openai SDK, httpx and raw sockets; upstreams are the built-in mock
(serving as a standalone upstream over TCP) and a recording HTTP/1.1 server written in Python
(tests/python/upstreams.py) that shows exactly what the gateway sent.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from upstreams import (  # noqa: F401  (fixtures: pytest finds them by their names)
    Certs,
    Recorded,
    RecordingUpstream,
    Reply,
    ServeProcess,
    blackhole_port,
    chat_chunk,
    closed_port,
    gateway_config,
    mock_upstream_fixture,
    openai_handler,
    openai_provider,
    tls_certs_fixture,
    upstream_fixture,
)

import aigw
from aigw.config import ConfigError, load_config

CHAT = {"model": "gpt-x", "messages": [{"role": "user", "content": "hi"}]}
PROVIDER_KEY = "sk-provider-key"


def proxy_config(
    up: RecordingUpstream, path: str = "/custom/v1", **provider: Any
) -> dict[str, Any]:
    """One openai provider `up` at `path` on the recording upstream; gpt-x -> real-model."""
    return gateway_config(
        {"up": openai_provider(up.origin + path, **provider)},
        [
            {"name": "gpt-x", "provider": "up", "model": "real-model"},
            {"name": "*", "provider": "up"},
        ],
        workers=1,
    )


def started(config: dict[str, Any]) -> aigw.Gateway:
    config.setdefault("server", {}).setdefault("drain_timeout", 0.5)
    return aigw.Gateway(config).start()


@pytest.fixture
def proxy(upstream: RecordingUpstream) -> Iterator[aigw.Gateway]:
    gw = started(proxy_config(upstream))
    try:
        yield gw
    finally:
        gw.stop(drain_timeout=0)


# --------------------------------------------------------------------------- raw HTTP helpers


def raw_exchange(port: int, data: bytes, timeout: float = 5.0) -> bytes:
    """Sends bytes (which should ask for Connection: close) and reads until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out
            out += chunk


def parse_response(raw: bytes) -> tuple[int, dict[str, list[str]], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers: dict[str, list[str]] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.setdefault(name.lower(), []).append(value.strip())
    return status, headers, body


def sse_data(text: str) -> list[str]:
    """The `data:` payloads of an SSE body, in order."""
    return [line[6:] for line in text.split("\n") if line.startswith("data: ")]


def dechunk(body: bytes) -> bytes:
    out = bytearray()
    pos = 0
    while True:
        eol = body.index(b"\r\n", pos)
        size = int(body[pos:eol].split(b";")[0], 16)
        if size == 0:
            return bytes(out)
        out += body[eol + 2 : eol + 2 + size]
        pos = eol + 2 + size + 2


# =========================================================================== 1. openai SDK


@pytest.fixture(scope="module")
def sdk_gateway(mock_upstream: aigw.Gateway) -> Iterator[aigw.Gateway]:
    """The gateway in front of the built-in mock, reached over real TCP."""
    gw = started(
        gateway_config(
            {"mockup": openai_provider(mock_upstream.url + "/v1", api_key="sk-mock-upstream")},
            [
                {"name": "gpt-x", "provider": "mockup", "model": "upstream-model"},
                {"name": "text-embed", "provider": "mockup", "model": "upstream-embed"},
                {"name": "*", "provider": "mockup"},
            ],
        )
    )
    try:
        yield gw
    finally:
        gw.stop(drain_timeout=0)


def usage_totals(gw: aigw.Gateway) -> tuple[int, int]:
    u = gw.stats()["usage"]
    return u["prompt_tokens"], u["completion_tokens"]


def sdk(gw: aigw.Gateway) -> openai.OpenAI:
    return openai.OpenAI(base_url=gw.url + "/v1", api_key="sk-client", max_retries=0, timeout=10)


def test_sdk_sync_chat_maps_model_and_counts_usage(sdk_gateway: aigw.Gateway) -> None:
    before = usage_totals(sdk_gateway)
    with sdk(sdk_gateway) as client:
        raw = client.chat.completions.with_raw_response.create(
            model="gpt-x", messages=[{"role": "user", "content": "Say hello"}]
        )
    completion = raw.parse()
    # The mock answers with the model it was asked for: the route's upstream model.
    assert completion.model == "upstream-model"
    assert completion.choices[0].message.content
    assert raw.headers["x-aigw-provider"] == "mockup"
    assert raw.headers["x-aigw-model"] == "upstream-model"
    assert completion.usage is not None and completion.usage.completion_tokens > 0
    after = usage_totals(sdk_gateway)
    assert after[0] - before[0] == completion.usage.prompt_tokens
    assert after[1] - before[1] == completion.usage.completion_tokens


async def test_sdk_async_concurrent_chats(sdk_gateway: aigw.Gateway) -> None:
    async with openai.AsyncOpenAI(
        base_url=sdk_gateway.url + "/v1", api_key="sk-client", max_retries=0, timeout=10
    ) as client:
        results = await asyncio.gather(
            *(
                client.chat.completions.create(
                    model="gpt-x", messages=[{"role": "user", "content": f"hello {i}"}]
                )
                for i in range(8)
            )
        )
    assert len({r.id for r in results}) == 8
    assert all(r.model == "upstream-model" and r.choices[0].message.content for r in results)


def test_sdk_stream_with_usage_counts_streamed_usage(sdk_gateway: aigw.Gateway) -> None:
    before = usage_totals(sdk_gateway)
    with sdk(sdk_gateway) as client:
        stream = client.chat.completions.create(
            model="gpt-x",
            messages=[{"role": "user", "content": "Stream please"}],
            stream=True,
            stream_options={"include_usage": True},
            extra_headers={"x-mock-chunks": "6"},
        )
        chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) == 6
    assert text
    usage = chunks[-1].usage
    assert usage is not None and usage.prompt_tokens > 0 and usage.completion_tokens > 0
    after = usage_totals(sdk_gateway)
    assert (after[0] - before[0], after[1] - before[1]) == (
        usage.prompt_tokens,
        usage.completion_tokens,
    )


def test_sdk_embeddings(sdk_gateway: aigw.Gateway) -> None:
    before = usage_totals(sdk_gateway)
    with sdk(sdk_gateway) as client:
        res = client.embeddings.create(model="text-embed", input=["one", "two three"])
    assert res.model == "upstream-embed"
    assert [d.index for d in res.data] == [0, 1]
    assert all(len(d.embedding) == 8 for d in res.data)
    assert usage_totals(sdk_gateway)[0] - before[0] == res.usage.prompt_tokens > 0


def test_sdk_completions(sdk_gateway: aigw.Gateway) -> None:
    with sdk(sdk_gateway) as client:
        res = client.completions.create(model="gpt-x", prompt="Say hi", max_tokens=3)
    assert res.model == "upstream-model"
    assert res.choices[0].text
    assert res.choices[0].finish_reason == "length"


def test_sdk_models_list(sdk_gateway: aigw.Gateway) -> None:
    with sdk(sdk_gateway) as client:
        models = client.models.list().data
        one = client.models.retrieve("text-embed")
    assert {m.id for m in models} == {"gpt-x", "text-embed"}
    assert {m.owned_by for m in models} == {"mockup"}
    assert one.id == "text-embed"


def test_sdk_mock_upstream_error_status_and_retry_after(sdk_gateway: aigw.Gateway) -> None:
    with sdk(sdk_gateway) as client, pytest.raises(openai.RateLimitError) as err:
        client.chat.completions.create(
            model="gpt-x",
            messages=[{"role": "user", "content": "x"}],
            extra_headers={"x-mock-status": "429", "x-mock-retry-after": "7"},
        )
    assert err.value.status_code == 429
    assert err.value.response.headers["retry-after"] == "7"


# =========================================================================== 2. upstream requests


@pytest.mark.parametrize(
    ("endpoint", "body"),
    [
        ("/chat/completions", {**CHAT, "temperature": 0.5, "user": "u1"}),
        ("/completions", {"model": "gpt-x", "prompt": "hello", "max_tokens": 5}),
        ("/embeddings", {"model": "gpt-x", "input": ["a", "b"]}),
    ],
)
def test_request_rebuilt_for_the_upstream(
    proxy: aigw.Gateway, upstream: RecordingUpstream, endpoint: str, body: dict[str, Any]
) -> None:
    r = httpx.post(proxy.url + "/v1" + endpoint, json=body, headers={"host": "evil.example"})
    assert r.status_code == 200, r.text
    rec = upstream.last
    assert (rec.method, rec.target) == ("POST", "/custom/v1" + endpoint)
    assert rec.json() == {**body, "model": "real-model"}
    assert rec.values("content-length") == [str(len(rec.body))]
    assert rec.values("transfer-encoding") == []
    assert rec.values("host") == [f"127.0.0.1:{upstream.port}"]
    assert rec.header("content-type") == "application/json"


def test_body_forwarded_byte_for_byte_when_the_model_is_not_mapped(
    proxy: aigw.Gateway, upstream: RecordingUpstream
) -> None:
    raw = (
        b'{"model": "any-model",  "messages": [{"role": "user",'
        b' "content": "h\\u00e9 \xf0\x9f\x98\x80"}],'
        b' "temperature": 1.0e-1, "zeta": 1, "alpha": 2}'
    )
    r = httpx.post(
        proxy.url + "/v1/chat/completions",
        content=raw,
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 200
    assert upstream.last.body == raw  # "*" has no upstream model: nothing to rewrite


def test_large_unicode_body_survives_the_model_rewrite(
    proxy: aigw.Gateway, upstream: RecordingUpstream
) -> None:
    text = "h\u00e9llo \U0001f600 " * 100_000  # ~1.3 MB of UTF-8
    body = {**CHAT, "messages": [{"role": "user", "content": text}], "max_tokens": 7}
    r = httpx.post(proxy.url + "/v1/chat/completions", json=body)
    assert r.status_code == 200
    rec = upstream.last
    assert rec.json() == {**body, "model": "real-model"}
    assert rec.values("content-length") == [str(len(rec.body))]


def test_chunked_client_body_reaches_upstream_with_one_content_length(
    proxy: aigw.Gateway, upstream: RecordingUpstream
) -> None:
    payload = json.dumps(CHAT).encode()

    def pieces() -> Iterator[bytes]:
        yield payload[:10]
        yield payload[10:]

    r = httpx.post(
        proxy.url + "/v1/chat/completions",
        content=pieces(),
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 200, r.text
    assert r.request.headers.get("transfer-encoding") == "chunked"  # the client did chunk
    rec = upstream.last
    assert rec.values("transfer-encoding") == []
    assert rec.values("content-length") == [str(len(rec.body))]
    assert rec.json()["model"] == "real-model"


def test_client_credentials_replaced_by_provider_key(
    proxy: aigw.Gateway, upstream: RecordingUpstream
) -> None:
    client_secrets = {
        "authorization": "Bearer sk-client-secret-1",
        "x-api-key": "client-secret-2",
        "api-key": "client-secret-3",
        "cookie": "session=client-secret-4",
        "openai-organization": "org-client-secret-5",
        "openai-project": "proj-client-secret-6",
        "proxy-authorization": "Basic client-secret-7",
    }
    r = httpx.post(proxy.url + "/v1/chat/completions", json=CHAT, headers=client_secrets)
    assert r.status_code == 200
    rec = upstream.last
    assert rec.values("authorization") == [f"Bearer {PROVIDER_KEY}"]
    for name in client_secrets:
        if name != "authorization":
            assert rec.values(name) == [], name
    assert b"client-secret" not in rec.raw_head + rec.body


def test_no_provider_key_means_no_authorization(upstream: RecordingUpstream) -> None:
    cfg = proxy_config(upstream)
    del cfg["providers"]["up"]["api_key"]
    gw = started(cfg)
    try:
        r = httpx.post(
            gw.url + "/v1/chat/completions", json=CHAT, headers={"authorization": "Bearer sk-c"}
        )
    finally:
        gw.stop(drain_timeout=0)
    assert r.status_code == 200
    assert upstream.last.values("authorization") == []


def test_hop_by_hop_and_addressing_headers_dropped(
    proxy: aigw.Gateway, upstream: RecordingUpstream
) -> None:
    body = json.dumps(CHAT).encode()
    request = (
        b"POST /v1/chat/completions HTTP/1.1\r\n"
        b"Host: gateway\r\n"
        b"Connection: keep-alive, x-foo\r\n"
        b"Connection: close\r\n"
        b"X-Foo: named-by-connection\r\n"
        b"Keep-Alive: timeout=5\r\n"
        b"Proxy-Connection: keep-alive\r\n"
        b"TE: trailers\r\n"
        b"Trailer: x-checksum\r\n"
        b"Upgrade: h2c\r\n"
        b"X-Forwarded-For: 10.0.0.1\r\n"
        b"X-Forwarded-Host: evil.example\r\n"
        b"Forwarded: for=10.0.0.1\r\n"
        b"X-Aigw-Provider: other\r\n"
        b"Accept-Encoding: gzip, br\r\n"
        b"X-Kept: yes\r\n"
        b"Content-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
    )
    status, _, _ = parse_response(raw_exchange(proxy.port, request))
    assert status == 200
    rec = upstream.last
    for name in (
        "connection",
        "x-foo",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "upgrade",
        "x-forwarded-for",
        "x-forwarded-host",
        "forwarded",
        "x-aigw-provider",
    ):
        assert rec.values(name) == [], name
    assert rec.values("accept-encoding") == ["identity"]
    assert rec.values("x-kept") == ["yes"]  # ordinary headers do pass


def test_config_headers_added_and_win_over_client_ones(upstream: RecordingUpstream) -> None:
    gw = started(
        proxy_config(upstream, headers={"X-Team": "blue", "OpenAI-Organization": "org-provider"})
    )
    try:
        r = httpx.post(
            gw.url + "/v1/chat/completions",
            json=CHAT,
            headers={"x-team": "red", "openai-organization": "org-client"},
        )
    finally:
        gw.stop(drain_timeout=0)
    assert r.status_code == 200
    rec = upstream.last
    assert rec.values("x-team") == ["blue"]
    assert rec.values("openai-organization") == ["org-provider"]


@pytest.mark.parametrize("workers", [1, 2])
def test_upstream_connections_are_kept_alive(upstream: RecordingUpstream, workers: int) -> None:
    cfg = proxy_config(upstream)
    cfg["server"]["workers"] = workers
    gw = started(cfg)
    try:
        for _ in range(8):  # a new client connection each time
            assert httpx.post(gw.url + "/v1/chat/completions", json=CHAT).status_code == 200
    finally:
        gw.stop(drain_timeout=0)
    assert len(upstream.requests) == 8
    assert len(upstream.conns) <= workers


def test_upstream_closing_an_idle_connection_is_harmless(
    proxy: aigw.Gateway, upstream: RecordingUpstream
) -> None:
    async def close_after_each(req: Recorded, reply: Reply) -> None:
        await openai_handler(req, reply)
        reply.close_after = True  # keep-alive promised, then closed while idle

    upstream.handler = close_after_each
    with httpx.Client(base_url=proxy.url) as c:
        for _ in range(4):
            assert c.post("/v1/chat/completions", json=CHAT).status_code == 200
    assert len(upstream.requests) == 4


def test_passthrough_post_routes_by_body_model(
    proxy: aigw.Gateway, upstream: RecordingUpstream
) -> None:
    upstream.handler = _moderation_handler
    r = httpx.post(proxy.url + "/v1/moderations", json={"model": "gpt-x", "input": "hi"})
    assert r.status_code == 201
    assert r.content == MODERATION_BODY
    assert r.headers["x-upstream-header"] == "kept"
    rec = upstream.last
    assert (rec.method, rec.target) == ("POST", "/custom/v1/moderations")
    assert rec.json() == {"model": "real-model", "input": "hi"}
    assert rec.values("content-length") == [str(len(rec.body))]
    assert rec.values("authorization") == [f"Bearer {PROVIDER_KEY}"]


MODERATION_BODY = b'{"id": "modr-1", "results": [{"flagged": false}]}'


async def _moderation_handler(req: Recorded, reply: Reply) -> None:
    await reply.body(
        MODERATION_BODY, 201, [("content-type", "application/json"), ("x-upstream-header", "kept")]
    )


def test_passthrough_get_keeps_query(proxy: aigw.Gateway, upstream: RecordingUpstream) -> None:
    r = httpx.get(proxy.url + "/v1/files?purpose=x&after=a%2Fb")
    assert r.status_code == 200
    rec = upstream.last
    assert (rec.method, rec.target) == ("GET", "/custom/v1/files?purpose=x&after=a%2Fb")
    assert rec.body == b""
    assert rec.values("transfer-encoding") == []
    assert rec.values("authorization") == [f"Bearer {PROVIDER_KEY}"]
    assert r.json() == {"ok": True, "method": "GET", "target": rec.target}


def test_passthrough_keeps_odd_but_harmless_paths(
    proxy: aigw.Gateway, upstream: RecordingUpstream
) -> None:
    for target in ["/v1/files/a..b", "/v1/files/...", "/v1/files/x;v=1", "/v1/files?next=/../x"]:
        assert httpx.get(proxy.url + target).status_code == 200, target
    assert [q.target for q in upstream.requests] == [
        "/custom/v1/files/a..b",
        "/custom/v1/files/...",
        "/custom/v1/files/x;v=1",
        "/custom/v1/files?next=/../x",
    ]


def test_passthrough_delete(proxy: aigw.Gateway, upstream: RecordingUpstream) -> None:
    r = httpx.delete(proxy.url + "/v1/files/file-abc")
    assert r.status_code == 200
    assert (upstream.last.method, upstream.last.target) == ("DELETE", "/custom/v1/files/file-abc")


def test_passthrough_head_does_not_wait_for_a_body(
    proxy: aigw.Gateway, upstream: RecordingUpstream
) -> None:
    """A HEAD answer has Content-Length but no body; the gateway must not wait for one."""

    async def head_aware(req: Recorded, reply: Reply) -> None:
        if req.method == "HEAD":
            await reply.raw(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 123\r\n\r\n"
            )
        else:
            await openai_handler(req, reply)

    upstream.handler = head_aware
    with httpx.Client(base_url=proxy.url, timeout=3) as c:
        t0 = time.monotonic()
        r = c.head("/v1/files/file-abc")
        assert r.status_code == 200
        assert r.headers["content-length"] == "123"
        # The same client connection serves the next request at once.
        assert c.get("/v1/files").status_code == 200
        assert c.head("/v1/files/file-abc").status_code == 200
        assert time.monotonic() - t0 < 1.5
    assert [q.method for q in upstream.requests] == ["HEAD", "GET", "HEAD"]
    assert len(upstream.conns) == 1  # and the upstream connection stayed usable


async def _bodyless(req: Recorded, reply: Reply) -> None:
    if req.method == "DELETE":
        await reply.raw(b"HTTP/1.1 204 No Content\r\nx-deleted: yes\r\n\r\n")
    elif req.header("if-none-match"):
        await reply.raw(b'HTTP/1.1 304 Not Modified\r\netag: "v1"\r\n\r\n')
    else:
        await openai_handler(req, reply)


def test_bodyless_upstream_answers_relayed_without_body_framing(
    proxy: aigw.Gateway, upstream: RecordingUpstream
) -> None:
    """204 and 304 end at their head: no Transfer-Encoding, no last-chunk that the client
    would read as the start of the next response; 304 is not a redirect."""
    upstream.handler = _bodyless
    request = (
        b"DELETE /v1/files/f1 HTTP/1.1\r\nHost: x\r\n\r\n"
        b'GET /v1/files/f1/content HTTP/1.1\r\nHost: x\r\nIf-None-Match: "v1"\r\n\r\n'
        b"GET /v1/files HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    raw = raw_exchange(proxy.port, request)
    first, rest = raw.split(b"\r\n\r\n", 1)
    assert first.startswith(b"HTTP/1.1 204 ")
    assert b"transfer-encoding" not in first.lower() and b"content-length" not in first.lower()
    assert b"x-deleted: yes" in first
    assert rest.startswith(b"HTTP/1.1 304 "), rest[:40]  # nothing between the two answers
    second, rest = rest.split(b"\r\n\r\n", 1)
    assert b"transfer-encoding" not in second.lower() and b'etag: "v1"' in second
    assert rest.startswith(b"HTTP/1.1 200 "), rest[:40]
    assert [q.method for q in upstream.requests] == ["DELETE", "GET", "GET"]
    with httpx.Client(base_url=proxy.url) as c:  # and a real client agrees
        assert c.delete("/v1/files/f2").status_code == 204
        assert c.get("/v1/files/f2/content", headers={"if-none-match": '"v1"'}).status_code == 304
        assert c.get("/v1/files").status_code == 200


def test_pipelined_requests_share_the_upstream_connection(
    proxy: aigw.Gateway, upstream: RecordingUpstream
) -> None:
    """The next request can start on the connection the previous response just freed, from
    inside that response's completion."""
    body = json.dumps(CHAT).encode()
    post = (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
    )
    last = b"GET /v1/files HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    raw = raw_exchange(proxy.port, post * 4 + last)
    assert raw.count(b"HTTP/1.1 200 OK") == 5, raw.decode(errors="replace")
    assert b"upstream_error" not in raw
    assert len(upstream.requests) == 5 and len(upstream.conns) == 1


def test_queued_requests_get_the_freed_connection(upstream: RecordingUpstream) -> None:
    """max_connections 1: concurrent requests wait in the pool and each gets its turn."""
    gw = started(proxy_config(upstream, max_connections=1, max_pending=50))
    try:

        async def burst() -> list[int]:
            async with httpx.AsyncClient(base_url=gw.url, timeout=5) as c:
                rs = await asyncio.gather(
                    *(c.post("/v1/chat/completions", json=CHAT) for _ in range(12))
                )
            return [r.status_code for r in rs]

        statuses = asyncio.run(burst())
    finally:
        gw.stop(drain_timeout=0)
    assert statuses == [200] * 12
    assert len(upstream.requests) == 12 and len(upstream.conns) == 1


def test_passthrough_routing_body_model_default_provider_and_first_openai() -> None:
    with RecordingUpstream() as a, RecordingUpstream() as b:
        providers = {
            "m": {"kind": "mock"},
            "a": openai_provider(a.origin + "/v1", api_key="sk-a"),
            "b": openai_provider(b.origin + "/v1", api_key="sk-b"),
        }
        models = [{"name": "a-model", "provider": "a", "model": "a-real"}]
        gw = started(gateway_config(providers, models, default_provider="b"))
        try:
            assert (
                httpx.post(gw.url + "/v1/responses", json={"model": "a-model"}).status_code == 200
            )
            assert httpx.post(gw.url + "/v1/responses", json={"input": "x"}).status_code == 200
            assert httpx.get(gw.url + "/v1/batches").status_code == 200
            unknown = httpx.post(gw.url + "/v1/responses", json={"model": "nope"})
        finally:
            gw.stop(drain_timeout=0)
        assert unknown.status_code == 404
        assert unknown.json()["error"]["code"] == "model_not_found"
        assert [(q.path, q.json()) for q in a.requests] == [("/v1/responses", {"model": "a-real"})]
        assert a.last.values("authorization") == ["Bearer sk-a"]
        assert [q.path for q in b.requests] == ["/v1/responses", "/v1/batches"]
        assert b.last.values("authorization") == ["Bearer sk-b"]

        # Without default_provider: the first openai provider (not the mock listed before it).
        gw = started(gateway_config(providers, models))
        try:
            assert httpx.get(gw.url + "/v1/batches").status_code == 200
        finally:
            gw.stop(drain_timeout=0)
        assert a.last.path == "/v1/batches"


@pytest.mark.parametrize(
    "target",
    [
        b"/v1/../admin",
        b"/v1/files/../../admin",
        b"/v1/%2e%2e/admin",
        b"/v1/files/%2E%2E",
        b"/v1/files/.%2e/x",
        b"/v1/./files",
        b"/v1/files/..%2Fadmin",
        b"/v1/files/..%5cadmin",
        b"/v1/../admin?x=1",
        b"/v1/files/..;/admin",  # ".." to servers that strip path parameters
        b"/v1/files/%2e%2e;x/admin",
        b"/v1/files/..%3B/admin",
    ],
)
def test_dot_segments_rejected_before_the_upstream(
    proxy: aigw.Gateway, upstream: RecordingUpstream, target: bytes
) -> None:
    raw = raw_exchange(
        proxy.port, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    status, _, body = parse_response(raw)
    assert status == 400
    assert json.loads(body)["error"]["code"] == "invalid_url"
    # Nothing reached the upstream; a later request does.
    assert upstream.requests == []
    assert httpx.get(proxy.url + "/v1/files").status_code == 200
    assert len(upstream.requests) == 1


def test_pool_overflow_fails_fast_with_503(upstream: RecordingUpstream) -> None:
    release = asyncio.Event()

    async def slow(req: Recorded, reply: Reply) -> None:
        if req.path.endswith("/slow"):
            await asyncio.wait_for(release.wait(), 10)
        await openai_handler(req, reply)

    upstream.handler = slow
    gw = started(proxy_config(upstream, max_connections=1, max_pending=0))
    try:
        results: list[httpx.Response] = []
        t = threading.Thread(
            target=lambda: results.append(httpx.get(gw.url + "/v1/slow", timeout=10))
        )
        t.start()
        assert upstream.wait_for(lambda: len(upstream.requests) == 1)
        t0 = time.monotonic()
        r = httpx.get(gw.url + "/v1/files")
        elapsed = time.monotonic() - t0
        assert upstream._loop is not None
        upstream._loop.call_soon_threadsafe(release.set)
        t.join(10)
    finally:
        gw.stop(drain_timeout=0)
    assert r.status_code == 503
    assert "provider 'up'" in r.json()["error"]["message"]
    assert elapsed < 1.0
    assert results and results[0].status_code == 200


# =========================================================================== 3. secrets


def _canary(tag: str) -> str:
    return f"{tag}-canary-{uuid.uuid4().hex}"


def _leaks(secrets: list[str], r: httpx.Response) -> list[str]:
    blob = r.content.decode("latin-1") + "".join(f"{k}: {v}\n" for k, v in r.headers.items())
    return [s for s in secrets if s in blob]


def test_canary_secrets_never_reach_the_client(upstream: RecordingUpstream) -> None:
    key, header_secret = _canary("sk-key"), _canary("hdr")

    async def handler(req: Recorded, reply: Reply) -> None:
        if req.path.endswith("/denied"):
            await reply.json({"error": {"message": "nope", "type": "invalid_request_error"}}, 401)
        else:
            await openai_handler(req, reply)

    upstream.handler = handler
    dead = closed_port()
    cfg = gateway_config(
        {
            "up": openai_provider(
                upstream.origin + "/v1", api_key=key, headers={"X-Secret": header_secret}
            ),
            "dead": openai_provider(
                f"http://127.0.0.1:{dead}/v1", api_key=key, headers={"X-Secret": header_secret}
            ),
        },
        [{"name": "gpt-x", "provider": "up"}, {"name": "dead-model", "provider": "dead"}],
    )
    gw = started(cfg)
    try:
        with httpx.Client(base_url=gw.url, timeout=5) as c:
            responses = [
                c.post("/v1/chat/completions", json=CHAT),
                c.post("/v1/chat/completions", json={**CHAT, "stream": True}),
                c.post("/v1/embeddings", json={"model": "gpt-x", "input": "x"}),
                c.get("/v1/files?purpose=x"),
                c.get("/v1/denied"),
                c.post("/v1/chat/completions", json={**CHAT, "model": "dead-model"}),
                c.post("/v1/chat/completions", json={**CHAT, "model": "unknown"}),
                c.get("/v1/models"),
                c.get("/health"),
            ]
        stats = json.dumps(gw.stats())
    finally:
        gw.stop(drain_timeout=0)
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 401, 502, 404, 200, 200]
    for r in responses:
        assert _leaks([key, header_secret], r) == [], (r.request.url, r.text)
    assert key not in stats and header_secret not in stats
    # The secrets were really in use (so this test could see a leak).
    assert upstream.last.values("authorization") == [f"Bearer {key}"]
    assert upstream.last.values("x-secret") == [header_secret]


def test_unreachable_upstream_error_names_provider_not_key() -> None:
    key = _canary("sk-key")
    gw = started(
        gateway_config(
            {"offline-llm": openai_provider(f"http://127.0.0.1:{closed_port()}/v1", api_key=key)}
        )
    )
    try:
        t0 = time.monotonic()
        r = httpx.post(gw.url + "/v1/chat/completions", json=CHAT)
        elapsed = time.monotonic() - t0
    finally:
        gw.stop(drain_timeout=0)
    assert r.status_code == 502
    message = r.json()["error"]["message"]
    assert "provider 'offline-llm'" in message
    assert "refused" in message
    assert key not in r.text
    assert elapsed < 2.0


def test_config_errors_and_repr_hide_the_key() -> None:
    key = _canary("sk-key")
    doc = gateway_config(
        {"up": openai_provider("http://127.0.0.1:1/v1", api_key=key, connect_timeout=-1)}
    )
    with pytest.raises(ConfigError) as err:
        load_config(doc)
    assert "connect_timeout" in str(err.value)
    assert key not in str(err.value) and key not in repr(err.value)
    good = load_config(
        gateway_config({"up": openai_provider("http://127.0.0.1:1/v1", api_key=key)})
    )
    assert key not in repr(good) and key not in str(good)
    assert key in good.to_core_json()  # the core does get it


def test_serve_stderr_never_shows_secrets(upstream: RecordingUpstream, tmp_path: Any) -> None:
    key, header_secret = _canary("sk-key"), _canary("hdr")
    cfg = gateway_config(
        {
            "up": openai_provider(
                upstream.origin + "/v1", api_key=key, headers={"X-Secret": header_secret}
            ),
            "dead": openai_provider(f"http://127.0.0.1:{closed_port()}/v1", api_key=key),
            "slow": openai_provider(upstream.origin + "/v1", api_key=key, first_byte_timeout=0.3),
        },
        [
            {"name": "gpt-x", "provider": "up"},
            {"name": "dead-model", "provider": "dead"},
            {"name": "slow-model", "provider": "slow"},
        ],
    )
    cfg["server"]["log_level"] = "debug"

    async def handler(req: Recorded, reply: Reply) -> None:
        if req.body and req.json().get("model") == "slow-model":
            await reply.hang(5)
        else:
            await openai_handler(req, reply)

    upstream.handler = handler
    with ServeProcess(cfg, tmp_path) as gw, httpx.Client(base_url=gw.url, timeout=5) as c:
        statuses = [
            c.post("/v1/chat/completions", json=CHAT).status_code,
            c.post("/v1/chat/completions", json={**CHAT, "stream": True}).status_code,
            c.post("/v1/chat/completions", json={**CHAT, "model": "dead-model"}).status_code,
            c.post("/v1/chat/completions", json={**CHAT, "model": "slow-model"}).status_code,
            c.get("/v1/files").status_code,
        ]
    assert statuses == [200, 200, 502, 504, 200]
    assert "serving on" in gw.stderr
    assert key not in gw.stderr and header_secret not in gw.stderr
    assert upstream.requests[0].values("authorization") == [f"Bearer {key}"]


# =========================================================================== 4. faults


def test_refused_upstream_fails_fast_with_502() -> None:
    gw = started(gateway_config({"gone": openai_provider(f"http://127.0.0.1:{closed_port()}/v1")}))
    try:
        with sdk(gw) as client, pytest.raises(openai.InternalServerError) as err:
            t0 = time.monotonic()
            client.chat.completions.create(
                model="gpt-x", messages=[{"role": "user", "content": "x"}]
            )
        elapsed = time.monotonic() - t0
    finally:
        gw.stop(drain_timeout=0)
    assert err.value.status_code == 502
    assert "provider 'gone'" in str(err.value)
    assert elapsed < 1.0


def test_connect_timeout_on_a_blackholed_upstream() -> None:
    with blackhole_port() as port:
        gw = started(
            gateway_config(
                {"hole": openai_provider(f"http://127.0.0.1:{port}/v1", connect_timeout=0.3)}
            )
        )
        try:
            t0 = time.monotonic()
            r = httpx.post(gw.url + "/v1/chat/completions", json=CHAT, timeout=10)
            elapsed = time.monotonic() - t0
        finally:
            gw.stop(drain_timeout=0)
    assert r.status_code == 504
    message = r.json()["error"]["message"]
    assert "provider 'hole'" in message and "timed out" in message
    assert 0.25 <= elapsed < 1.5


def test_first_byte_timeout(upstream: RecordingUpstream) -> None:
    async def never(req: Recorded, reply: Reply) -> None:
        await reply.hang(10)

    upstream.handler = never
    gw = started(proxy_config(upstream, first_byte_timeout=0.4))
    try:
        t0 = time.monotonic()
        r = httpx.post(gw.url + "/v1/chat/completions", json=CHAT, timeout=10)
        elapsed = time.monotonic() - t0
        # The gateway gave up on that connection: the upstream sees it close.
        assert upstream.wait_for(lambda: upstream.conns[0].closed is not None, 2)
    finally:
        gw.stop(drain_timeout=0)
    assert r.status_code == 504
    assert "provider 'up'" in r.json()["error"]["message"]
    assert 0.35 <= elapsed < 1.5


def test_stream_stall_hits_idle_timeout_with_error_event(upstream: RecordingUpstream) -> None:
    async def stall(req: Recorded, reply: Reply) -> None:
        await reply.start_sse()
        await reply.event(chat_chunk("real-model", "a"))
        await reply.hang(10)

    upstream.handler = stall
    gw = started(proxy_config(upstream, idle_timeout=0.4))
    try:
        t0 = time.monotonic()
        r = httpx.post(gw.url + "/v1/chat/completions", json={**CHAT, "stream": True}, timeout=10)
        elapsed = time.monotonic() - t0
    finally:
        gw.stop(drain_timeout=0)
    assert r.status_code == 200
    events = sse_data(r.text)
    assert json.loads(events[0])["choices"][0]["delta"]["content"] == "a"
    err = json.loads(events[-1])["error"]
    assert "provider 'up'" in err["message"] and "stalled" in err["message"]
    assert 0.35 <= elapsed < 2.0


BAD_HEADS = {
    "duplicate content-length": (
        b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-length: 7\r\n\r\nhello"
    ),
    "invalid content-length": b"HTTP/1.1 200 OK\r\ncontent-length: 5x\r\n\r\nhello",
    "bad status line": b"HTTP/1.1 2OO OK\r\ncontent-length: 0\r\n\r\n",
    "content-length and chunked": (
        b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n0\r\n\r\n"
    ),
    "space before colon": b"HTTP/1.1 200 OK\r\ncontent-length : 5\r\n\r\nhello",
    "not http": b"SSH-2.0-OpenSSH_9.6\r\n\r\n",
}


@pytest.mark.parametrize("raw", list(BAD_HEADS.values()), ids=list(BAD_HEADS))
def test_bad_response_head_is_502_and_connection_discarded(
    proxy: aigw.Gateway, upstream: RecordingUpstream, raw: bytes
) -> None:
    async def handler(req: Recorded, reply: Reply) -> None:
        if req.path.endswith("/broken"):
            await reply.raw(raw)  # and keep the connection open: the gateway must drop it
            await reply.hang(5)
        else:
            await openai_handler(req, reply)

    upstream.handler = handler
    with httpx.Client(base_url=proxy.url, timeout=5) as c:
        assert c.get("/v1/files").status_code == 200  # a pooled connection exists
        r = c.get("/v1/broken")
        assert r.status_code == 502
        assert "provider 'up'" in r.json()["error"]["message"]
        assert c.get("/v1/files").status_code == 200
    # The broken connection was closed and the last request came on a new one.
    assert upstream.wait_for(lambda: upstream.conns[0].closed is not None, 2)
    assert upstream.requests[-1].conn_id != upstream.requests[-2].conn_id


BAD_BODIES = {
    "bad chunk size": (
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nZZZ\r\nhello\r\n0\r\n\r\n"
    ),
    "short content-length then close": b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nhello",
}


@pytest.mark.parametrize("raw", list(BAD_BODIES.values()), ids=list(BAD_BODIES))
def test_bad_response_body_gives_502_and_connection_discarded(
    proxy: aigw.Gateway, upstream: RecordingUpstream, raw: bytes
) -> None:
    """Answers that are not event streams are held until complete, so broken body framing is
    still a clean 502 naming the provider, and the broken upstream connection is not reused."""

    async def handler(req: Recorded, reply: Reply) -> None:
        if req.path.endswith("/broken"):
            await reply.raw(raw, close=True)
        else:
            await openai_handler(req, reply)

    upstream.handler = handler
    with httpx.Client(base_url=proxy.url, timeout=5) as c:
        assert c.get("/v1/files").status_code == 200
        broken = c.get("/v1/broken")
        assert broken.status_code == 502
        assert "provider 'up'" in broken.json()["error"]["message"]
        assert "hello" not in broken.text
        assert c.get("/v1/files").status_code == 200
    assert upstream.requests[-1].conn_id != upstream.requests[-2].conn_id


def test_bad_framing_mid_stream_ends_with_error_event(
    proxy: aigw.Gateway, upstream: RecordingUpstream
) -> None:
    async def handler(req: Recorded, reply: Reply) -> None:
        await reply.start_sse()
        await reply.event(chat_chunk("real-model", "a"))
        await reply.raw(b"nothex\r\n\r\n")
        await reply.hang(5)

    upstream.handler = handler
    r = httpx.post(proxy.url + "/v1/chat/completions", json={**CHAT, "stream": True}, timeout=5)
    events = sse_data(r.text)
    assert len(events) == 2
    assert "provider 'up'" in json.loads(events[1])["error"]["message"]


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_upstream_redirect_is_not_followed(
    proxy: aigw.Gateway, upstream: RecordingUpstream, status: int
) -> None:
    with RecordingUpstream() as elsewhere:

        async def redirect(req: Recorded, reply: Reply) -> None:
            await reply.body(b"", status, [("location", elsewhere.origin + req.target)])

        upstream.handler = redirect
        r = httpx.post(proxy.url + "/v1/chat/completions", json=CHAT)
        assert elsewhere.conns == [] and elsewhere.requests == []
    assert r.status_code == 502
    message = r.json()["error"]["message"]
    assert "provider 'up'" in message and "not followed" in message
    assert "location" not in {k.lower() for k in r.headers}
    assert len(upstream.requests) == 1


UPSTREAM_ERRORS = [
    (400, openai.BadRequestError),
    (401, openai.AuthenticationError),
    (403, openai.PermissionDeniedError),
    (404, openai.NotFoundError),
    (422, openai.UnprocessableEntityError),
    (429, openai.RateLimitError),
    (500, openai.InternalServerError),
    (503, openai.InternalServerError),
]


@pytest.mark.parametrize(
    ("status", "exc"), UPSTREAM_ERRORS, ids=[str(s) for s, _ in UPSTREAM_ERRORS]
)
def test_upstream_errors_relayed_unchanged(
    proxy: aigw.Gateway, upstream: RecordingUpstream, status: int, exc: type[Exception]
) -> None:
    body = json.dumps(
        {
            "error": {
                "message": f"upstream says {status}",
                "type": "x_error",
                "param": None,
                "code": "c1",
            }
        },
        indent=1,
    ).encode()

    async def failing(req: Recorded, reply: Reply) -> None:
        await reply.body(
            body,
            status,
            [("content-type", "application/json"), ("retry-after", "3"), ("x-request-id", "up-1")],
        )

    upstream.handler = failing
    r = httpx.post(proxy.url + "/v1/chat/completions", json=CHAT)
    assert r.status_code == status
    assert r.content == body  # byte for byte
    assert r.headers["retry-after"] == "3" and r.headers["x-request-id"] == "up-1"
    with sdk(proxy) as client, pytest.raises(exc) as err:
        client.chat.completions.create(model="gpt-x", messages=[{"role": "user", "content": "x"}])
    assert err.value.status_code == status  # type: ignore[attr-defined]
    assert err.value.body == json.loads(body)["error"]  # type: ignore[attr-defined]
    assert len(upstream.requests) == 2  # never retried


@pytest.mark.parametrize("abort", [False, True], ids=["fin", "rst"])
def test_upstream_closing_mid_stream_gives_error_event_and_clean_end(
    proxy: aigw.Gateway, upstream: RecordingUpstream, abort: bool
) -> None:
    async def cut(req: Recorded, reply: Reply) -> None:
        await reply.start_sse()
        await reply.event(chat_chunk("real-model", "a"))
        await reply.event(chat_chunk("real-model", "b"))
        if abort:
            reply.writer.transport.abort()
        reply.close_after = True

    upstream.handler = cut
    t0 = time.monotonic()
    with httpx.Client(timeout=5) as c:
        r = c.post(proxy.url + "/v1/chat/completions", json={**CHAT, "stream": True})
        r.read()  # a clean end: no exception
    assert time.monotonic() - t0 < 2.0
    events = sse_data(r.text)
    assert [json.loads(e)["choices"][0]["delta"]["content"] for e in events[:2]] == ["a", "b"]
    assert len(events) == 3
    assert "provider 'up'" in json.loads(events[2])["error"]["message"]
    # The SDK turns the error event into an exception after the chunks before it.
    seen: list[str] = []
    with sdk(proxy) as client, pytest.raises(openai.APIError, match="provider 'up'"):
        for chunk in client.chat.completions.create(
            model="gpt-x", messages=[{"role": "user", "content": "x"}], stream=True
        ):
            seen.append(chunk.choices[0].delta.content or "")
    assert seen == ["a", "b"]


# =========================================================================== 5. streaming


def test_stream_events_relayed_as_they_arrive(sdk_gateway: aigw.Gateway) -> None:
    t0 = time.monotonic()
    first_content = None
    with httpx.stream(
        "POST",
        sdk_gateway.url + "/v1/chat/completions",
        json={**CHAT, "stream": True},
        headers={"x-mock-chunk-delay-ms": "100", "x-mock-chunks": "5"},
        timeout=10,
    ) as r:
        assert r.status_code == 200
        contents = []
        for line in r.iter_lines():
            if line.startswith("data: {"):
                delta = json.loads(line[6:])["choices"][0]["delta"]
                if delta.get("content"):
                    first_content = first_content or time.monotonic()
                    contents.append(delta["content"])
    end = time.monotonic()
    assert len(contents) == 5 and first_content is not None
    # 4 gaps of 100 ms follow the first piece: it must not wait for them.
    assert end - first_content >= 0.3, (first_content - t0, end - t0)


def test_client_disconnect_closes_the_upstream_connection(
    proxy: aigw.Gateway, upstream: RecordingUpstream
) -> None:
    async def endless(req: Recorded, reply: Reply) -> None:
        await reply.start_sse()
        for _ in range(400):
            await reply.event(chat_chunk("real-model", "x"))
            if await reply.peer_closed(0.05):
                return

    upstream.handler = endless
    body = json.dumps({**CHAT, "stream": True}).encode()
    s = socket.create_connection(("127.0.0.1", proxy.port), timeout=5)
    try:
        s.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
        )
        seen = b""
        while seen.count(b"data: ") < 3:
            seen += s.recv(65536)
    finally:
        s.close()
        t_closed = time.monotonic()
    assert upstream.wait_for(lambda: upstream.conns[0].closed is not None, 3)
    closed = upstream.conns[0].closed
    assert closed is not None and closed - t_closed < 1.0
    assert proxy.stats()["client_aborts"] == 1


def test_slow_client_does_not_grow_gateway_memory(
    mock_upstream: aigw.Gateway, tmp_path: Any
) -> None:
    cfg = gateway_config({"mockup": openai_provider(mock_upstream.url + "/v1")})
    body = json.dumps({**CHAT, "stream": True}).encode()
    request = (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        b"Content-Type: application/json\r\nx-mock-chunks: 100000\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
    )
    with ServeProcess(cfg, tmp_path) as gw:
        port = int(gw.url.rsplit(":", 1)[1])
        # Warm up (pools, allocator arenas) before the baseline.
        assert httpx.post(gw.url + "/v1/chat/completions", json=CHAT).status_code == 200
        baseline = gw.rss_bytes()
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        try:
            s.sendall(request)
            got = bytearray(s.recv(1))
            peak = baseline
            deadline = time.monotonic() + 1.5
            while time.monotonic() < deadline:  # a very slow reader
                got += s.recv(1)
                time.sleep(0.005)
                peak = max(peak, gw.rss_bytes())
            while chunk := s.recv(1 << 20):
                got += chunk
        finally:
            s.close()
    status, _, raw_body = parse_response(bytes(got))
    assert status == 200
    text = dechunk(raw_body).decode()
    assert text.rstrip().endswith("data: [DONE]")
    stream_size = len(raw_body)
    assert stream_size > 10_000_000
    growth = peak - baseline
    assert growth < stream_size / 4, f"RSS grew by {growth} bytes for a {stream_size} byte stream"


# =========================================================================== 6. TLS


def tls_upstream(certs: Certs, which: str = "good") -> RecordingUpstream:
    return RecordingUpstream(ssl_context=certs.server_context(which)).start()


def test_tls_untrusted_certificate_fails_by_default(tls_certs: Certs) -> None:
    up = tls_upstream(tls_certs)
    try:
        gw = started(
            gateway_config({"secure-llm": openai_provider(f"https://127.0.0.1:{up.port}/v1")})
        )
        try:
            r = httpx.post(gw.url + "/v1/chat/completions", json=CHAT)
        finally:
            gw.stop(drain_timeout=0)
    finally:
        up.stop()
    assert r.status_code == 502
    message = r.json()["error"]["message"]
    assert "provider 'secure-llm'" in message and "certificate verify failed" in message
    assert up.requests == []


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_tls_with_ca_file_works_and_keeps_alive(tls_certs: Certs, host: str) -> None:
    up = tls_upstream(tls_certs)
    try:
        gw = started(
            gateway_config(
                {"tls": openai_provider(f"https://{host}:{up.port}/v1", ca_file=str(tls_certs.ca))},
                [{"name": "gpt-x", "provider": "tls", "model": "real-model"}],
            )
        )
        try:
            with sdk(gw) as client:
                for _ in range(3):
                    res = client.chat.completions.create(
                        model="gpt-x", messages=[{"role": "user", "content": "x"}]
                    )
                    assert res.model == "real-model"
                stream = client.chat.completions.create(
                    model="gpt-x", messages=[{"role": "user", "content": "x"}], stream=True
                )
                assert (
                    "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
                    == "hello"
                )
        finally:
            gw.stop(drain_timeout=0)
    finally:
        up.stop()
    assert len(up.requests) == 4 and len(up.conns) == 1
    assert up.last.values("authorization") == [f"Bearer {PROVIDER_KEY}"]
    assert up.last.values("host") == [f"{host}:{up.port}"]
    assert up.sni == ([None] if host == "127.0.0.1" else ["localhost"])  # no SNI for IPs


def test_tls_handshake_counts_against_the_connect_timeout(upstream: RecordingUpstream) -> None:
    """An https upstream that accepts TCP but never answers the ClientHello."""
    gw = started(
        gateway_config(
            {
                "mute-tls": openai_provider(
                    f"https://127.0.0.1:{upstream.port}/v1",
                    connect_timeout=0.3,
                    first_byte_timeout=5,
                )
            }
        )
    )
    try:
        t0 = time.monotonic()
        r = httpx.post(gw.url + "/v1/chat/completions", json=CHAT, timeout=10)
        elapsed = time.monotonic() - t0
    finally:
        gw.stop(drain_timeout=0)
    assert r.status_code == 504
    message = r.json()["error"]["message"]
    assert "provider 'mute-tls'" in message and "timed out" in message
    assert 0.25 <= elapsed < 1.5
    assert upstream.requests == []


def test_tls_wrong_host_fails_even_with_the_ca(tls_certs: Certs) -> None:
    up = tls_upstream(tls_certs, "other")  # valid chain, but for other.example only
    try:
        gw = started(
            gateway_config(
                {
                    "tls": openai_provider(
                        f"https://localhost:{up.port}/v1", ca_file=str(tls_certs.ca)
                    )
                }
            )
        )
        try:
            r = httpx.post(gw.url + "/v1/chat/completions", json=CHAT)
        finally:
            gw.stop(drain_timeout=0)
    finally:
        up.stop()
    assert r.status_code == 502
    assert "certificate verify failed" in r.json()["error"]["message"]
    assert up.requests == []


def test_tls_verify_false_works_and_warns(tls_certs: Certs, tmp_path: Any) -> None:
    up = tls_upstream(tls_certs, "self")
    try:
        cfg = gateway_config(
            {
                "insecure-llm": openai_provider(f"https://127.0.0.1:{up.port}/v1", verify=False),
                "checked-llm": openai_provider(f"https://127.0.0.1:{up.port}/v1"),
            },
            [
                {"name": "gpt-x", "provider": "insecure-llm"},
                {"name": "checked", "provider": "checked-llm"},
            ],
        )
        with ServeProcess(cfg, tmp_path) as gw, httpx.Client(base_url=gw.url, timeout=5) as c:
            ok = c.post("/v1/chat/completions", json=CHAT)
            checked = c.post("/v1/chat/completions", json={**CHAT, "model": "checked"})
    finally:
        up.stop()
    assert ok.status_code == 200
    assert checked.status_code == 502
    warnings = [line for line in gw.stderr.splitlines() if "warning" in line.lower()]
    assert len(warnings) == 1, gw.stderr
    assert "insecure-llm" in warnings[0] and "verif" in warnings[0]
    assert "checked-llm" not in gw.stderr
    assert len(up.requests) == 1
