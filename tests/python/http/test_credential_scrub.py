"""A provider's own credentials never reach the client, even when the upstream echoes them:
in an error body, a 200 body, a stream (a key split across two events and two reads) and a
response header. The masked body keeps its length, so framing stays right."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import httpx
import openai
import pytest
from _util import wait_until
from upstreams import (  # noqa: F401  (fixtures: pytest finds them by their names)
    Recorded,
    RecordingUpstream,
    Reply,
    chat_body,
    chat_chunk,
    gateway_config,
    openai_provider,
)

import aigw

KEY = "sk-canary-7f3e9a1c5b2d4e6f8a0b"  # the provider key: a unique canary
HEADER_TOKEN = "tok-canary-90ab12cd34ef56"  # a configured credential header's value


def bearer(req: Recorded) -> str:
    return (req.header("authorization") or "").removeprefix("Bearer ")


async def echoing_handler(req: Recorded, reply: Reply) -> None:
    """An upstream that repeats the credentials it was sent, everywhere it can."""
    key, token = bearer(req), req.header("x-api-token") or ""
    body = req.json()
    kind = body["messages"][0]["content"]
    if kind == "error":
        await reply.json(
            {"error": {"message": f"Incorrect API key provided: {key}", "type": "auth"}},
            status=401,
            headers=[("x-echo-key", f"Bearer {key}")],
        )
    elif kind == "stream":
        await reply.start_sse(headers=[("x-echo-key", key), ("x-echo-token", token)])
        # The key split across two events, then across two TCP writes of one event.
        await reply.event(chat_chunk("m", "key: " + key[:9]))
        await reply.event(chat_chunk("m", key[9:] + " and " + token))
        event = f"data: {json.dumps(chat_chunk('m', 'again ' + key))}\n\n".encode()
        cut = event.index(key.encode()) + 11
        for piece in (event[:cut], event[cut:]):
            await reply.raw(b"%x\r\n%s\r\n" % (len(piece), piece))
            await asyncio.sleep(0.01)  # two reads on the gateway's side
        await reply.event(chat_chunk("m", finish=True))
        await reply.event("[DONE]")
        await reply.end_sse()
    else:
        answer = chat_body(body["model"], f"you sent {key} and {token}")
        await reply.json(answer, headers=[("x-echo-key", key)])


@pytest.fixture
def echo_gateway() -> Iterator[aigw.Gateway]:
    with RecordingUpstream(echoing_handler) as up:
        provider = openai_provider(
            up.origin + "/v1", api_key=KEY, headers={"x-api-token": HEADER_TOKEN}
        )
        with aigw.Gateway(gateway_config({"up": provider})) as gw:
            yield gw


def assert_clean(text: str) -> None:
    assert KEY not in text and HEADER_TOKEN not in text, text
    assert KEY[:12] not in text, text  # not even most of it


def test_a_key_echoed_in_an_error_body_and_header_is_masked(echo_gateway: aigw.Gateway) -> None:
    r = httpx.post(
        echo_gateway.url + "/v1/chat/completions",
        json={"model": "m", "messages": [{"role": "user", "content": "error"}]},
    )
    assert r.status_code == 401
    assert_clean(r.text)
    assert_clean(json.dumps(dict(r.headers)))
    assert "Incorrect API key provided: [REDACTED]***" in r.json()["error"]["message"]
    assert len(r.headers["x-echo-key"]) == len("Bearer " + KEY)


def test_a_key_echoed_in_an_answer_is_masked_with_the_sdk(echo_gateway: aigw.Gateway) -> None:
    client = openai.OpenAI(base_url=echo_gateway.url + "/v1", api_key="client", max_retries=0)
    raw = client.chat.completions.with_raw_response.create(
        model="m", messages=[{"role": "user", "content": "answer"}]
    )
    text = raw.parse().choices[0].message.content or ""
    assert_clean(text)
    assert_clean(json.dumps(dict(raw.headers)))
    assert text.startswith("you sent [REDACTED]")
    assert len(text) == len(f"you sent {KEY} and {HEADER_TOKEN}")


def test_a_key_split_across_events_and_reads_is_masked(echo_gateway: aigw.Gateway) -> None:
    client = openai.OpenAI(base_url=echo_gateway.url + "/v1", api_key="client", max_retries=0)
    with client.chat.completions.with_streaming_response.create(
        model="m", messages=[{"role": "user", "content": "stream"}], stream=True
    ) as resp:
        assert_clean(json.dumps(dict(resp.headers)))
        raw = b"".join(resp.iter_bytes())
    text = raw.decode()
    assert_clean(text)
    # Split across two events: the client joining the deltas would have the key, so both
    # halves are masked, as one mask.
    deltas = "".join(
        c["delta"].get("content") or ""
        for line in text.split("\n\n")
        if line.startswith("data: {")
        for c in json.loads(line[6:])["choices"]
    )
    assert_clean(deltas)
    assert deltas.startswith("key: [REDACTED]***"), deltas
    assert "again [REDACTED]" in text


def test_the_record_never_holds_the_key(echo_gateway: aigw.Gateway) -> None:
    for kind in ("error", "answer", "stream"):
        httpx.post(
            echo_gateway.url + "/v1/chat/completions",
            json={"model": "m", "stream": kind == "stream", "messages": [{"role": "user", "content": kind}]},
        )
    assert wait_until(lambda: len(echo_gateway.logs(limit=10)) >= 3)
    records = echo_gateway.logs(limit=10)
    assert_clean(json.dumps(records))
